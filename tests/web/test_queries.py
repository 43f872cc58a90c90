"""QUALITY.md P5 for the browser pages: a pinned query count (≤ 10) that does not grow with the data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contracts.services import invoice_issue, receipt_record
from pipeline.models import OpportunityLine
from pipeline.services.leads import lead_qualify
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    CustomerTeamMemberFactory,
    GateDecisionFactory,
    LeadFactory,
    OpportunityFactory,
    OpportunityTeamMemberFactory,
    ProductFactory,
    UserFactory,
    VisitFactory,
)
from tests.web.conftest import login

pytestmark = pytest.mark.django_db

PAGE_LIMIT = 10


def pages(cast) -> dict[str, str]:
    return {
        "home": reverse("home"),
        "my-week": reverse("my-week"),
        "visit-create": reverse("visit-create"),
        "visit-create-search": reverse("visit-create") + "?q=客户",
        "customer-list": reverse("customer-list") + "?tier=B",
        "customer-detail": reverse("customer-detail", args=[cast.customer.pk]),
        "lead-list": reverse("lead-list") + "?whose=team",
        "lead-create": reverse("lead-create"),
        "lead-create-from-visit": reverse("lead-create") + f"?visit={cast.visit.pk}",
        "lead-detail": reverse("lead-detail", args=[cast.lead.pk]),
        "opportunity-list": reverse("opportunity-list") + "?whose=team",
        "opportunity-detail": reverse("opportunity-detail", args=[cast.opp.pk]),
        "opportunity-win": reverse("opportunity-win", args=[cast.opp.pk]),
        "contract-list": reverse("contract-list"),
        "contract-detail": reverse("contract-detail", args=[cast.contract.pk]),
    }


def count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def grow(cast, n: int = 30) -> None:
    """Many more rows behind every list and detail the rep and the manager see."""
    dept1 = cast.tree["dept1"]
    today = timezone.localdate()
    reps = [UserFactory(org_unit=dept1) for _ in range(5)]
    for i in range(n):
        customer = CustomerFactory(name=f"客户{i}", account_dept=dept1, owner=cast.rep)
        CustomerTeamMemberFactory(customer=customer, user=cast.rep, role="AR")
        VisitFactory(customer=customer, rep=cast.rep, next_step=f"下一步{i}", next_step_on=today)
        VisitFactory(customer=cast.customer, rep=reps[i % 5], visited_on=today - dt.timedelta(days=i % 7))
        LeadFactory(customer=customer, owner=cast.rep, title=f"线索{i}")
        opp = OpportunityFactory(customer=customer, owner=cast.rep, stage=["VALIDATE", "GUIDE", "BID"][i % 3])
        OpportunityTeamMemberFactory(opportunity=opp, user=cast.rep, role="AR")
        ContactFactory(
            customer=cast.customer,
            owner=[cast.rep, cast.peer, None][i % 3],
            decision_role=["DECIDER", "USER", "BUYER"][i % 3],
        )
    for role, user in (("SR", cast.sr), ("SUPPORT", reps[0]), ("SPONSOR", reps[1])):
        OpportunityTeamMemberFactory(opportunity=cast.opp, user=user, role=role)
    for _ in range(5):
        GateDecisionFactory(opportunity=cast.opp, decider=cast.dept_mgr, outcome="HOLD")
        OpportunityLine.objects.create(
            opportunity=cast.opp, product=ProductFactory(), quantity=2, unit_price=100, line_amount=200
        )
    for i in range(3):
        lead_qualify(
            lead=cast.lead,
            actor=cast.rep,
            is_lead_answer="a",
            is_lead_score=5,
            how_far_answer="b",
            how_far_score=5,
            can_win_answer="c",
            can_win_score=i,
        )
    for i in range(5):
        invoice = invoice_issue(
            actor=cast.rep, contract=cast.contract, number=f"FP-{i}", amount=Decimal("1000.00")
        )
        receipt_record(actor=cast.rep, invoice=invoice, amount=Decimal("100.00"))


@pytest.mark.parametrize("who", ["rep", "dept_mgr"])
def test_every_page_has_a_pinned_query_count_that_does_not_grow(cast, who, django_assert_max_num_queries):
    client = login(getattr(cast, who))
    urls = pages(cast)
    before = {name: count(client, url) for name, url in urls.items()}
    grow(cast)
    after = {name: count(client, url) for name, url in urls.items()}
    assert after == before
    for url in urls.values():
        with django_assert_max_num_queries(PAGE_LIMIT):
            client.get(url)


def test_list_pages_read_one_page_only(cast, as_rep):
    grow(cast, n=30)
    response = as_rep.get(reverse("customer-list"))
    page = response.context["page"]
    assert len(page.items) == 25 and page.has_next
    second = as_rep.get(reverse("customer-list"), {"page": 2}).context["page"]
    assert len(second.items) == 31 - 25 and not second.has_next  # 30 grown + the cast's customer
    assert {c.pk for c in page.items}.isdisjoint({c.pk for c in second.items})
