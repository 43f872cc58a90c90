"""Contract and cash actions through the API: win (replayed), ERP import, confirm, milestones, changes (decide,
apply), close, invoices (issue, cancel), receipts (overpayment) — 200/201, 400, 401, 403, 404, 422."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient, APIRequestFactory

from accounts.models import User
from contracts.models import Contract, Invoice, PaymentMilestone, Receipt
from pipeline.services.opportunities import gate_decide
from tests.api.conftest import session_client, token_client
from tests.api.test_actions_leads import bilingual
from tests.api.test_auth import assert_envelope
from tests.factories import (
    CustomerFactory,
    CustomerTeamMemberFactory,
    UserFactory,
    opportunity_deal,
    opportunity_drive_to,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _json_bodies(monkeypatch):
    monkeypatch.setattr(APIRequestFactory, "default_format", "json")


@pytest.fixture
def deal(tree):
    deal = opportunity_deal(tree)
    opportunity_drive_to(deal, "NEGOTIATE")
    gate_decide(opportunity=deal.opp, actor=deal.dept_manager, gate="ATC", outcome="GO")
    deal.api = session_client(deal.rep)
    return deal


def test_a_replayed_win_returns_the_same_contract(deal):
    url = f"/api/v1/opportunities/{deal.opp.pk}/win/"
    body = {"payment_terms": "DELIVERY"}
    first = deal.api.post(url, body, HTTP_IDEMPOTENCY_KEY="win-1")
    assert first.status_code == 201, first.content
    again = deal.api.post(url, body, HTTP_IDEMPOTENCY_KEY="win-1")
    assert (
        again.status_code == 201 and again.content == first.content and again["Idempotent-Replayed"] == "true"
    )
    assert Contract.objects.filter(opportunity=deal.opp).count() == 1
    assert_envelope(deal.api.post(url, {"payment_terms": "STANDARD"}, HTTP_IDEMPOTENCY_KEY="win-1"), 422)
    # Without a key the service is safe to repeat too: the same contract.
    assert deal.api.post(url, body).json()["id"] == first.json()["id"]
    contract = Contract.objects.get(opportunity=deal.opp)
    assert list(contract.milestones.values_list("kind", "percent")) == [("DELIVERY", Decimal("100.00"))]


def test_win_refusals(deal, tree):
    url = f"/api/v1/opportunities/{deal.opp.pk}/win/"
    error = assert_envelope(deal.api.post(url, {"signed_on": "2999-01-01"}), 400)
    assert "signed_on" in error["errors"] and bilingual(error["message"])
    assert_envelope(APIClient().post(url, {}), 401)
    assert_envelope(token_client(["contracts:write"]).post(url, {}), 403)
    assert_envelope(session_client(deal.other_manager).post(url, {}), 404)
    assert not Contract.objects.exists()


def test_erp_import_confirm_changes_and_close(tree):
    dept = tree["dept1"]
    owner = UserFactory(org_unit=dept)
    customer = CustomerFactory(account_dept=dept, owner=owner)
    manager = UserFactory(org_unit=dept, job_role=User.JobRole.MANAGER)
    api = session_client(owner)
    body = {
        "customer": customer.pk,
        "number": "ERP-HT-1",
        "amount": "100000",
        "signed_on": "2026-01-05",
        "payment_terms": "CUSTOM",
        "external_id": "SAP-1",
        "milestones": [{"kind": "ADVANCE", "percent": "40", "days": 10}, {"kind": "FAC", "percent": "60"}],
    }
    response = api.post("/api/v1/contracts/", body)
    assert response.status_code == 201, response.content
    contract = response.json()
    url = f"/api/v1/contracts/{contract['id']}"
    assert [Decimal(m["amount"]) for m in api.get(f"{url}/milestones/").json()["results"]] == [
        Decimal("40000.00"),
        Decimal("60000.00"),
    ]
    bad = {**body, "external_id": "SAP-2", "milestones": [{"kind": "FAC", "percent": "50"}]}
    error = assert_envelope(api.post("/api/v1/contracts/", bad), 400)
    assert "milestones" in error["errors"] and bilingual(error["message"])
    # An SR on the customer's team sees the customer but may not add its contracts.
    sr = UserFactory(org_unit=dept, job_role=User.JobRole.SOLUTION_EXPERT)
    CustomerTeamMemberFactory(customer=customer, user=sr, role="SR")
    assert_envelope(
        session_client(sr).post("/api/v1/contracts/", {**body, "external_id": "SAP-3", "number": "N3"}), 403
    )

    milestone = PaymentMilestone.objects.get(contract_id=contract["id"], sequence=1)
    error = assert_envelope(api.post(f"{url}/milestones/{milestone.pk}/achieve/", {}), 400)
    assert "status" in error["errors"]
    assert api.post(f"{url}/confirm/", {}).json()["status"] == "EXECUTING"
    done = api.post(f"{url}/milestones/{milestone.pk}/achieve/", {"achieved_on": "2026-02-01"})
    assert done.status_code == 200 and done.json()["achieved_on"] == "2026-02-01"
    other = CustomerFactory(account_dept=dept, owner=owner)
    other_contract = api.post(
        "/api/v1/contracts/",
        {
            **body,
            "customer": other.pk,
            "number": "N4",
            "external_id": "SAP-4",
            "payment_terms": "DELIVERY",
            "milestones": None,
        },
    ).json()
    foreign = PaymentMilestone.objects.get(contract_id=other_contract["id"])
    assert_envelope(api.post(f"{url}/milestones/{foreign.pk}/achieve/", {}), 404)

    change = api.post(f"{url}/changes/", {"description": "增补设备", "new_amount": "120000"})
    assert change.status_code == 201 and change.json()["status"] == "PROPOSED"
    change_url = f"{url}/changes/{change.json()['id']}"
    error = assert_envelope(api.post(f"{change_url}/apply/", {}), 400)
    assert bilingual(error["message"])
    assert_envelope(api.post(f"{change_url}/decide/", {"approve": True}), 403)  # the owner has no authority
    decided = session_client(manager).post(f"{change_url}/decide/", {"approve": True, "notes": "同意"})
    assert decided.status_code == 200 and decided.json()["status"] == "APPROVED"
    assert api.post(f"{change_url}/apply/", {}).json()["status"] == "APPLIED"
    assert Decimal(api.get(url + "/").json()["amount"]) == Decimal("120000.00")
    assert [c["status"] for c in api.get(f"{url}/changes/").json()["results"]] == ["APPLIED"]

    error = assert_envelope(api.post(f"{url}/close/", {"evaluation": "好", "evaluation_score": 5}), 400)
    assert {"milestones", "invoiced_amount", "collected_amount"} <= set(error["errors"])
    assert bilingual(error["message"])
    assert (
        "evaluation_score"
        in assert_envelope(api.post(f"{url}/close/", {"evaluation": "x", "evaluation_score": 9}), 400)[
            "errors"
        ]
    )


@pytest.fixture
def executing(tree):
    dept = tree["dept1"]
    owner = UserFactory(org_unit=dept)
    customer = CustomerFactory(account_dept=dept, owner=owner)
    api = session_client(owner)
    contract = api.post(
        "/api/v1/contracts/",
        {
            "customer": customer.pk,
            "number": "HT-9",
            "amount": "1000",
            "signed_on": "2026-01-05",
            "payment_terms": "ADVANCE_FAC",
        },
    ).json()
    api.post(f"/api/v1/contracts/{contract['id']}/confirm/", {})
    return api, contract


def test_invoices_and_receipts(executing, tree):
    api, contract = executing
    milestone = PaymentMilestone.objects.get(contract_id=contract["id"], sequence=1)
    error = assert_envelope(
        api.post("/api/v1/invoices/", {"milestone": milestone.pk, "number": "FP-1", "amount": "600"}), 400
    )
    assert "amount" in error["errors"] and bilingual(error["message"])
    invoice = api.post("/api/v1/invoices/", {"milestone": milestone.pk, "number": "FP-1", "amount": "500"})
    assert invoice.status_code == 201 and invoice["ETag"], invoice.content
    invoice = invoice.json()
    assert invoice["contract"] == contract["id"] and invoice["due_on"]
    error = assert_envelope(
        api.post("/api/v1/invoices/", {"contract": contract["id"], "number": "FP-2", "amount": "501"}), 400
    )
    assert "amount" in error["errors"]

    receipt = api.post(
        "/api/v1/receipts/", {"invoice": invoice["id"], "amount": "200", "reference": "BANK-1"}
    )
    assert receipt.status_code == 201 and receipt.json()["contract"] == contract["id"]
    error = assert_envelope(
        api.post("/api/v1/receipts/", {"invoice": invoice["id"], "amount": "300.01"}), 400
    )
    assert list(error["errors"]) == ["amount"] and bilingual(error["message"])
    assert Invoice.objects.get(pk=invoice["id"]).paid_amount == Decimal("200.00")
    error = assert_envelope(api.post(f"/api/v1/invoices/{invoice['id']}/cancel/", {}), 400)
    assert bilingual(error["message"])

    spare = api.post(
        "/api/v1/invoices/", {"contract": contract["id"], "number": "FP-3", "amount": "100"}
    ).json()
    cancelled = api.post(f"/api/v1/invoices/{spare['id']}/cancel/", {"reason": "开错"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    assert Contract.objects.get(pk=contract["id"]).invoiced_amount == Decimal("500.00")


def test_cash_401_403_404_and_422(executing, tree):
    api, contract = executing
    invoice = api.post(
        "/api/v1/invoices/", {"contract": contract["id"], "number": "FP-1", "amount": "500"}
    ).json()
    body = {"invoice": invoice["id"], "amount": "100", "external_id": "BANK-77"}
    assert_envelope(APIClient().post("/api/v1/receipts/", body), 401)
    assert_envelope(token_client(["receipts:read"]).post("/api/v1/receipts/", body), 403)
    assert_envelope(token_client(["invoices:write"]).post("/api/v1/receipts/", body), 403)
    # A client of another branch cannot name the invoice (400 on the field), nor reach the contract (404).
    far = token_client(["receipts:write", "contracts:write"], org_unit=tree["dept3"])
    assert "invoice" in assert_envelope(far.post("/api/v1/receipts/", body), 400)["errors"]
    assert_envelope(far.post(f"/api/v1/contracts/{contract['id']}/confirm/", {}), 404)
    # A peer rep (no AR/FR role) of the same department sees nothing of it.
    peer = session_client(UserFactory(org_unit=tree["dept1"]))
    assert_envelope(peer.post(f"/api/v1/invoices/{invoice['id']}/cancel/", {}), 404)
    first = api.post("/api/v1/receipts/", body, HTTP_IDEMPOTENCY_KEY="r-1")
    assert first.status_code == 201
    assert api.post("/api/v1/receipts/", body, HTTP_IDEMPOTENCY_KEY="r-1").content == first.content
    assert_envelope(api.post("/api/v1/receipts/", {**body, "amount": "101"}, HTTP_IDEMPOTENCY_KEY="r-1"), 422)
    assert Receipt.objects.count() == 1
