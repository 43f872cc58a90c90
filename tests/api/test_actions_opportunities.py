"""Opportunity actions through the API: create, PATCH (If-Match), move-stage, gate decisions (authority), lose,
abandon, probability, team, BOQ lines, support requests — and 401, 403, 404, 412/428, 422."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient, APIRequestFactory

from pipeline.models import GateDecision, Opportunity, OpportunityTeamMember
from tests.api.conftest import session_client, token_client
from tests.api.test_actions_leads import bilingual
from tests.api.test_auth import assert_envelope
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    UserFactory,
    opportunity_deal,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _json_bodies(monkeypatch):
    """The API takes JSON only: the test clients send JSON unless told otherwise."""
    monkeypatch.setattr(APIRequestFactory, "default_format", "json")


@pytest.fixture
def deal(tree):
    deal = opportunity_deal(tree)
    deal.api = session_client(deal.rep)
    deal.boss = session_client(deal.dept_manager)
    deal.url = f"/api/v1/opportunities/{deal.opp.pk}"
    return deal


def test_create(tree, deal):
    deal.customer.owner = deal.rep
    deal.customer.save(update_fields=["owner"])
    body = {"customer": deal.customer.pk, "name": "政企专网", "amount": "300000", "external_id": "OPP-NEW-1"}
    response = deal.api.post("/api/v1/opportunities/", body, format="json")
    assert response.status_code == 201, response.content
    opp = response.json()
    assert (opp["stage"], opp["probability"], opp["owner"]) == ("VALIDATE", 10, deal.rep.pk)
    hidden = CustomerFactory(account_dept=tree["dept3"])
    error = assert_envelope(
        deal.api.post(
            "/api/v1/opportunities/", {**body, "customer": hidden.pk, "amount": "-1"}, format="json"
        ),
        400,
    )
    assert {"customer", "amount"} <= set(error["errors"]) and bilingual(error["message"])


def test_patch_needs_if_match_and_refuses_the_stage(deal):
    url = deal.url + "/"
    assert_envelope(deal.api.patch(url, {"name": "新名字"}, format="json"), 428)
    assert_envelope(deal.api.patch(url, {"name": "新名字"}, format="json", HTTP_IF_MATCH='"stale"'), 412)
    etag = deal.api.get(url)["ETag"]
    response = deal.api.patch(
        url, {"name": "新名字", "margin_pct": "22.50"}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "新名字" and response["ETag"] != etag
    assert_envelope(deal.api.patch(url, {"name": "再改"}, format="json", HTTP_IF_MATCH=etag), 412)
    error = assert_envelope(
        deal.api.patch(url, {"stage": "WON"}, format="json", HTTP_IF_MATCH=response["ETag"]), 400
    )
    assert "stage" in error["errors"] and bilingual(error["message"])
    assert Opportunity.objects.get(pk=deal.opp.pk).stage == "VALIDATE"


def test_stages_and_gates(deal, tree):
    url = deal.url
    error = assert_envelope(deal.api.post(f"{url}/move-stage/", {"to_stage": "BID"}, format="json"), 400)
    assert "to_stage" in error["errors"] and bilingual(error["message"])
    error = assert_envelope(deal.api.post(f"{url}/move-stage/", {"to_stage": "GUIDE"}, format="json"), 400)
    assert "gate" in error["errors"]
    # A rep has no gate authority; another branch's manager does not even see the deal.
    error = assert_envelope(
        deal.api.post(f"{url}/gate-decisions/", {"gate": "ATI", "outcome": "GO"}, format="json"), 403
    )
    assert bilingual(error["message"])
    other = session_client(deal.other_manager)
    assert_envelope(
        other.post(f"{url}/gate-decisions/", {"gate": "ATI", "outcome": "GO"}, format="json"), 404
    )
    response = deal.boss.post(f"{url}/gate-decisions/", {"gate": "ATI", "outcome": "GO"}, format="json")
    assert response.status_code == 201 and response.json()["decider"] == deal.dept_manager.pk
    assert_envelope(
        deal.boss.post(f"{url}/gate-decisions/", {"gate": "ATB", "outcome": "GO"}, format="json"), 400
    )
    response = deal.api.post(f"{url}/move-stage/", {"to_stage": "GUIDE"}, format="json")
    assert (
        response.status_code == 200
        and response.json()["stage"] == "GUIDE"
        and response.json()["probability"] == 30
    )
    assert response["ETag"]
    listed = deal.api.get(f"{url}/gate-decisions/").json()["results"]
    assert [(d["gate"], d["outcome"]) for d in listed] == [("ATI", "GO")]
    error = assert_envelope(deal.api.post(f"{url}/move-stage/", {"to_stage": "VALIDATE"}, format="json"), 400)
    assert "reason" in error["errors"]


def test_a_gate_beyond_the_deciders_authority_is_refused(tree):
    big = opportunity_deal(tree, amount=Decimal("5000000.00"))
    url = f"/api/v1/opportunities/{big.opp.pk}/gate-decisions/"
    error = assert_envelope(session_client(big.dept_manager).post(url, {"gate": "ATI", "outcome": "GO"}), 403)
    assert error["errors"]["escalate_to"] == [tree["office"].name]
    assert session_client(big.office_manager).post(url, {"gate": "ATI", "outcome": "GO"}).status_code == 201
    assert GateDecision.objects.get(opportunity=big.opp).escalated_to == tree["office"]


def test_lose_abandon_and_probability(deal):
    url = deal.url
    response = deal.api.post(f"{url}/probability/", {"probability": 40}, format="json")
    assert response.status_code == 200 and response.json()["probability"] == 40
    assert (
        "probability"
        in assert_envelope(deal.api.post(f"{url}/probability/", {"probability": 101}), 400)["errors"]
    )
    assert (
        deal.api.post(f"{url}/probability/", {"probability": None}, format="json").json()["probability"] == 10
    )
    assert (
        "reason"
        in assert_envelope(deal.api.post(f"{url}/lose/", {"reason": ""}, format="json"), 400)["errors"]
    )
    response = deal.api.post(f"{url}/lose/", {"reason": "价格"}, format="json")
    assert response.status_code == 200 and response.json()["stage"] == "LOST"
    error = assert_envelope(deal.api.post(f"{url}/abandon/", {"reason": "放弃"}, format="json"), 400)
    assert "stage" in error["errors"] and bilingual(error["message"])


def test_team_lines_and_support_requests(deal, tree):
    url = deal.url
    supporter = UserFactory(org_unit=tree["dept1"])
    response = deal.api.post(f"{url}/team/", {"user": supporter.pk, "role": "SUPPORT", "credit_share": "10"})
    assert response.status_code == 200 and response.json()["role"] == "SUPPORT"
    assert len(deal.api.get(f"{url}/team/").json()["results"]) == 4
    error = assert_envelope(
        deal.api.post(f"{url}/team/", {"user": deal.sr.pk, "role": "SR", "credit_share": "95"}), 400
    )
    assert "credit_share" in error["errors"] and bilingual(error["message"])
    assert deal.api.delete(f"{url}/team/{supporter.pk}/").status_code == 204
    assert not OpportunityTeamMember.objects.filter(opportunity=deal.opp, user=supporter).exists()
    # The SR may not change the team.
    assert_envelope(
        session_client(deal.sr).post(f"{url}/team/", {"user": supporter.pk, "role": "SUPPORT"}), 403
    )

    product = ProductFactory(list_price=Decimal("1000.00"))
    response = deal.api.post(f"{url}/lines/", {"product": product.pk, "quantity": "3", "discount_pct": "10"})
    assert response.status_code == 200 and Decimal(response.json()["line_amount"]) == Decimal("2700.00")
    assert Decimal(deal.api.get(url + "/").json()["amount"]) == Decimal("2700.00")
    assert [row["product"] for row in deal.api.get(f"{url}/lines/").json()["results"]] == [product.pk]
    assert (
        "quantity"
        in assert_envelope(deal.api.post(f"{url}/lines/", {"product": product.pk, "quantity": "0"}), 400)[
            "errors"
        ]
    )
    assert deal.api.delete(f"{url}/lines/{product.pk}/").status_code == 204
    assert deal.api.get(f"{url}/lines/").json()["results"] == []

    needed_by = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    body = {"expertise": "SOLUTION", "need": "方案评审", "needed_by": needed_by}
    response = deal.api.post(f"{url}/support-requests/", body, format="json")
    assert response.status_code == 201 and response.json()["status"] == "OPEN"
    assert len(deal.api.get(f"{url}/support-requests/").json()["results"]) == 1
    past = {**body, "needed_by": "2000-01-01"}
    assert (
        "needed_by"
        in assert_envelope(deal.api.post(f"{url}/support-requests/", past, format="json"), 400)["errors"]
    )


def test_401_403_404_and_422(deal, tree):
    url = deal.url
    assert_envelope(APIClient().post(f"{url}/probability/", {"probability": 20}), 401)
    assert_envelope(
        token_client(["opportunities:read"]).post(f"{url}/probability/", {"probability": 20}), 403
    )
    assert_envelope(token_client(["leads:write"]).post(f"{url}/probability/", {"probability": 20}), 403)
    assert_envelope(session_client(deal.other_manager).post(f"{url}/probability/", {"probability": 20}), 404)
    assert_envelope(session_client(deal.other_manager).get(f"{url}/team/"), 404)
    assert_envelope(deal.api.delete(f"/api/v1/opportunities/{deal.opp.pk}/team/999999/"), 404)
    first = deal.api.post(
        f"{url}/probability/", {"probability": 20}, format="json", HTTP_IDEMPOTENCY_KEY="p-1"
    )
    replay = deal.api.post(
        f"{url}/probability/", {"probability": 20}, format="json", HTTP_IDEMPOTENCY_KEY="p-1"
    )
    assert replay.content == first.content and replay["Idempotent-Replayed"] == "true"
    assert_envelope(
        deal.api.post(f"{url}/probability/", {"probability": 30}, format="json", HTTP_IDEMPOTENCY_KEY="p-1"),
        422,
    )
    assert Opportunity.objects.get(pk=deal.opp.pk).probability == 20


def test_an_admin_client_drives_a_deal_to_negotiation(deal):
    """An ERP client holding the admin scope acts with an admin's authority (gates included)."""
    admin = token_client(["admin"])
    url = deal.url
    assert admin.post(f"{url}/gate-decisions/", {"gate": "ATI", "outcome": "GO"}).status_code == 201
    assert admin.post(f"{url}/move-stage/", {"to_stage": "GUIDE"}).json()["stage"] == "GUIDE"
    assert admin.post(f"{url}/move-stage/", {"to_stage": "BID"}).json()["stage"] == "BID"
    assert admin.post(f"{url}/gate-decisions/", {"gate": "ATB", "outcome": "GO"}).status_code == 201
    assert admin.post(f"{url}/move-stage/", {"to_stage": "NEGOTIATE"}).json()["stage"] == "NEGOTIATE"
    assert Opportunity.objects.get(pk=deal.opp.pk).stage == "NEGOTIATE"
