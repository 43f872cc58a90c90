"""My week: visits against the quota, next steps due, leads due for review, open deals by stage, the team."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from relationships.selectors import week_start
from tests.factories import LeadFactory, OpportunityFactory, VisitFactory
from tests.web.conftest import login

pytestmark = pytest.mark.django_db


def test_the_home_page_is_my_week(cast, as_rep):
    response = as_rep.get(reverse("home"))
    assert response.templates[0].name == "home.html"
    assert response.context["done"] == 1 and response.context["has_quota"]


def test_visits_this_week_against_the_quota(cast, as_rep, settings):
    settings.LTC = {**settings.LTC, "VISIT_QUOTA_PER_WEEK": 3}
    monday = week_start(timezone.localdate())
    this_week = VisitFactory(customer=cast.customer, rep=cast.rep, visited_on=monday)
    VisitFactory(customer=cast.customer, rep=cast.rep, visited_on=monday - dt.timedelta(days=1))  # last week
    VisitFactory(customer=cast.customer, rep=cast.peer, visited_on=monday)  # someone else's
    context = as_rep.get(reverse("my-week")).context
    assert (context["done"], context["quota"], context["to_go"]) == (2, 3, 1)
    assert {v.pk for v in context["visits"]} == {cast.visit.pk, this_week.pk}
    VisitFactory(customer=cast.customer, rep=cast.rep, visited_on=monday)
    content = as_rep.get(reverse("my-week")).content.decode()
    assert "Quota met 已达标" in content


def test_next_steps_leads_due_and_deals_by_stage(cast, as_rep):
    today = timezone.localdate()
    VisitFactory(customer=cast.customer, rep=cast.rep, next_step="送报价单", next_step_on=today)
    VisitFactory(
        customer=cast.customer, rep=cast.rep, next_step="很久以前", next_step_on=today - dt.timedelta(days=60)
    )
    later = LeadFactory(
        customer=cast.customer,
        owner=cast.rep,
        title="下月再评审",
        next_review_on=today + dt.timedelta(days=40),
    )
    LeadFactory(customer=cast.customer, owner=cast.peer, title="同事的线索")
    OpportunityFactory(customer=cast.customer, owner=cast.rep, name="投标中的项目", stage="BID")
    context = as_rep.get(reverse("my-week")).context
    assert [v.next_step for v in context["next_steps"]] == ["送报价单"]
    assert [lead.pk for lead in context["leads_due"]] == [cast.lead.pk]
    assert later.pk not in [lead.pk for lead in context["leads_due"]]
    by_stage = {row["stage"]: [o.name for o in row["deals"]] for row in context["by_stage"]}
    assert by_stage == {"VALIDATE": [cast.opp.name], "GUIDE": [], "BID": ["投标中的项目"], "NEGOTIATE": []}


def test_a_manager_sees_the_team_and_no_personal_quota(cast):
    response = login(cast.dept_mgr).get(reverse("my-week"))
    context = response.context
    assert not context["has_quota"]
    reps = {row["rep"]: row["visits"] for row in context["team_rows"]}
    assert reps["王芳"] == 1 and str(cast.peer) in reps and str(cast.other_rep) not in reps
    assert "My team's visits this week 团队本周拜访" in response.content.decode()
