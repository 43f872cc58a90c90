"""A full lead-to-cash walk through the API only: customer → lead → qualify → convert → team (AR/SR/FR) →
gates and stages → win → confirm → achieve a milestone → invoice → receipts → close."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import User
from contracts.models import Contract, Invoice
from pipeline.models import Lead, Opportunity
from tests.api.conftest import session_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content.decode()
    return response.json()


def test_lead_to_cash_through_the_api(tree):
    dept = tree["dept1"]
    rep = UserFactory(org_unit=dept, username="rep")
    sr = UserFactory(org_unit=dept, job_role=User.JobRole.SOLUTION_EXPERT, username="sr")
    fr = UserFactory(org_unit=dept, job_role=User.JobRole.DELIVERY_EXPERT, username="fr")
    manager = UserFactory(org_unit=dept, job_role=User.JobRole.MANAGER, username="boss")
    api, boss = session_client(rep), session_client(manager)

    customer = ok(
        api.post("/api/v1/customers/", {"name": "东方电信", "account_dept": dept.pk}, format="json"), 201
    )
    lead = ok(
        api.post(
            "/api/v1/leads/",
            {
                "title": "5G 核心网扩容",
                "customer": customer["id"],
                "source": "VISIT",
                "estimated_amount": "600000",
            },
            format="json",
        ),
        201,
    )
    answers = {
        "is_lead_answer": "符合战略",
        "is_lead_score": 9,
        "how_far_answer": "预算已批",
        "how_far_score": 8,
        "can_win_answer": "关系良好",
        "can_win_score": 8,
    }
    lead = ok(api.post(f"/api/v1/leads/{lead['id']}/qualify/", answers, format="json"))
    assert (lead["status"], lead["grade"], lead["qualification_score"]) == ("VALIDATING", "A", 25)
    opp = ok(api.post(f"/api/v1/leads/{lead['id']}/convert/", {}, format="json"), 201)
    assert Lead.objects.get(pk=lead["id"]).status == Lead.Status.CONVERTED
    url = f"/api/v1/opportunities/{opp['id']}"
    for user, role in ((sr, "SR"), (fr, "FR")):
        ok(api.post(f"{url}/team/", {"user": user.pk, "role": role}, format="json"))
    team = ok(api.get(f"{url}/team/"))["results"]
    assert {(m["user"], m["role"]) for m in team} == {(rep.pk, "AR"), (sr.pk, "SR"), (fr.pk, "FR")}

    ok(boss.post(f"{url}/gate-decisions/", {"gate": "ATI", "outcome": "GO"}, format="json"), 201)
    for stage in ("GUIDE", "BID"):
        assert ok(api.post(f"{url}/move-stage/", {"to_stage": stage}, format="json"))["stage"] == stage
    ok(boss.post(f"{url}/gate-decisions/", {"gate": "ATB", "outcome": "GO"}, format="json"), 201)
    assert ok(api.post(f"{url}/move-stage/", {"to_stage": "NEGOTIATE"}, format="json"))["probability"] == 75
    ok(boss.post(f"{url}/gate-decisions/", {"gate": "ATC", "outcome": "GO"}, format="json"), 201)
    assert [d["gate"] for d in ok(api.get(f"{url}/gate-decisions/"))["results"]] == ["ATI", "ATB", "ATC"]

    contract = ok(api.post(f"{url}/win/", {"payment_terms": "ADVANCE_FAC"}, format="json"), 201)
    assert Opportunity.objects.get(pk=opp["id"]).stage == "WON"
    assert (contract["status"], Decimal(contract["amount"])) == ("RECEIVED", Decimal("600000.00"))
    curl = f"/api/v1/contracts/{contract['id']}"
    assert ok(api.post(f"{curl}/confirm/", {}, format="json"))["status"] == "EXECUTING"
    milestones = ok(api.get(f"{curl}/milestones/"))["results"]
    assert [(m["kind"], Decimal(m["amount"])) for m in milestones] == [
        ("ADVANCE", Decimal("300000.00")),
        ("FAC", Decimal("300000.00")),
    ]
    for milestone in milestones:
        done = ok(api.post(f"{curl}/milestones/{milestone['id']}/achieve/", {}, format="json"))
        assert done["achieved_on"]
        invoice = ok(
            api.post(
                "/api/v1/invoices/",
                {"milestone": milestone["id"], "number": f"FP-{milestone['sequence']}", "amount": "300000"},
                format="json",
            ),
            201,
        )
        for part in ("100000", "200000"):
            ok(api.post("/api/v1/receipts/", {"invoice": invoice["id"], "amount": part}, format="json"), 201)
        assert Invoice.objects.get(pk=invoice["id"]).status == Invoice.Status.PAID
    closed = ok(api.post(f"{curl}/close/", {"evaluation": "按期回款", "evaluation_score": 5}, format="json"))
    assert closed["status"] == "CLOSED"
    row = Contract.objects.get(pk=contract["id"])
    assert row.invoiced_amount == row.collected_amount == row.amount
