"""Contacts, relationship assessments and plans, budgets, issues, visits and the weekly visit quota."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from ltc.errors import ApplicationError, NotAllowed
from relationships.models import CustomerIssue, RelationshipAssessment, Visit
from relationships.selectors import visits_per_rep_week, week_start
from relationships.services import (
    contact_create,
    contact_update,
    customer_budget_record,
    customer_issue_create,
    customer_issue_transition,
    relationship_action_complete,
    relationship_assessment_record,
    relationship_plan_create,
    visit_log,
)
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    CustomerTeamMemberFactory,
    UserFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db

SCORES = {
    "acceptance": 4,
    "participation": 3,
    "information_sharing": 5,
    "guidance": 2,
    "project_support": 4,
    "competitor_attitude": 3,
}


@pytest.fixture
def world(tree):
    rep = UserFactory(org_unit=tree["dept1"])
    peer = UserFactory(org_unit=tree["dept1"])
    manager = UserFactory(org_unit=tree["office"], job_role=User.JobRole.MANAGER)
    customer = CustomerFactory(account_dept=tree["dept1"], owner=rep)
    return {"rep": rep, "peer": peer, "manager": manager, "customer": customer, "tree": tree}


# --- contacts ------------------------------------------------------------------------------------------------


def test_contact_create_and_update_with_history(world):
    boss = contact_create(actor=world["rep"], customer=world["customer"], name="王总", level="TOP")
    cto = contact_create(
        actor=world["rep"],
        customer=world["customer"],
        name="李工",
        decision_role="DECIDER",
        stance="SUPPORT",
        intimacy=4,
        reports_to=boss,
        private_notes="喜欢打羽毛球",
    )
    assert cto.owner == world["rep"]

    cto = contact_update(actor=world["rep"], contact=cto, intimacy=5, is_coach=True)

    assert (cto.intimacy, cto.is_coach) == (5, True)
    assert cto.history.first().history_user == world["rep"]


def test_contact_refuses_bad_scores_and_foreign_superior(world):
    elsewhere = ContactFactory()
    with pytest.raises(ApplicationError) as err:
        contact_create(
            actor=world["rep"], customer=world["customer"], name="张三", intimacy=7, reports_to=elsewhere
        )
    assert {"intimacy", "reports_to"} <= set(err.value.extra)


def test_contact_private_card_only_owner_and_above(world):
    contact = contact_create(
        actor=world["rep"], customer=world["customer"], name="王总", private_notes="私密"
    )
    CustomerTeamMemberFactory(customer=world["customer"], user=world["peer"], role="SR")

    # The SR on the team may edit the contact but not the rep's private card.
    assert contact_update(actor=world["peer"], contact=contact, title="总经理").title == "总经理"
    with pytest.raises(NotAllowed):
        contact_update(actor=world["peer"], contact=contact, private_notes="改写")
    assert (
        contact_update(actor=world["manager"], contact=contact, private_notes="主管补充").private_notes
        == "主管补充"
    )


def test_contact_create_for_invisible_customer_is_not_allowed(world):
    stranger = UserFactory(org_unit=world["tree"]["dept3"])
    with pytest.raises(NotAllowed):
        contact_create(actor=stranger, customer=world["customer"], name="x")


def test_contact_external_id_makes_create_safe_to_repeat(world):
    first = contact_create(actor=world["rep"], customer=world["customer"], name="王总", external_id="C-1")
    again = contact_create(actor=world["rep"], customer=world["customer"], name="王总", external_id="C-1")
    assert first.pk == again.pk


# --- relationship assessments and plans --------------------------------------------------------------------


def test_assessment_record_then_update_same_period(world):
    contact = ContactFactory(customer=world["customer"])
    first = relationship_assessment_record(actor=world["rep"], contact=contact, period="2026Q4", **SCORES)
    second = relationship_assessment_record(
        actor=world["rep"], contact=contact, period="2026Q4", **{**SCORES, "acceptance": 5}
    )
    assert first.pk == second.pk
    assert RelationshipAssessment.objects.get().acceptance == 5


def test_assessment_refuses_bad_scores_period_and_peer_overwrite(world):
    contact = ContactFactory(customer=world["customer"])
    with pytest.raises(ApplicationError) as err:
        relationship_assessment_record(
            actor=world["rep"], contact=contact, period="Q4-2026", **{**SCORES, "guidance": 0}
        )
    assert {"guidance", "period"} <= set(err.value.extra)

    relationship_assessment_record(actor=world["rep"], contact=contact, period="2026-11", **SCORES)
    CustomerTeamMemberFactory(customer=world["customer"], user=world["peer"], role="SR")
    with pytest.raises(NotAllowed):
        relationship_assessment_record(actor=world["peer"], contact=contact, period="2026-11", **SCORES)
    # The manager above the assessor may.
    relationship_assessment_record(
        actor=world["manager"], contact=contact, period="2026-11", **{**SCORES, "guidance": 1}
    )
    assert RelationshipAssessment.objects.get().guidance == 1


def test_plan_with_actions_and_completion(world):
    today = timezone.localdate()
    plan = relationship_plan_create(
        actor=world["rep"],
        customer=world["customer"],
        objective="建立高层互信",
        period_start=today,
        period_end=today + dt.timedelta(days=90),
        actions=[{"title": "拜访CIO", "due_on": today + dt.timedelta(days=10)}],
    )
    action = plan.actions.get()
    assert action.owner == world["rep"]

    with pytest.raises(NotAllowed):
        relationship_action_complete(actor=world["peer"], action=action)
    done = relationship_action_complete(
        actor=world["rep"], action=action, done_on=today - dt.timedelta(days=1)
    )
    again = relationship_action_complete(actor=world["rep"], action=action)

    assert done.done_on == again.done_on == today - dt.timedelta(days=1)


def test_plan_refuses_backwards_period_and_incomplete_actions(world):
    today = timezone.localdate()
    with pytest.raises(ApplicationError) as err:
        relationship_plan_create(
            actor=world["rep"],
            customer=world["customer"],
            objective="",
            period_start=today,
            period_end=today - dt.timedelta(days=1),
            actions=[{"title": "无日期"}],
        )
    assert {"objective", "period_end", "actions"} <= set(err.value.extra)


# --- budgets ---------------------------------------------------------------------------------------------


def test_budget_record_and_re_record_replaces_lines(world):
    budget = customer_budget_record(
        actor=world["rep"],
        customer=world["customer"],
        year=2027,
        total_amount=Decimal("10000000"),
        lines={"5G": Decimal("6000000"), "数据中心": Decimal("3000000")},
    )
    assert budget.obtained_by == world["rep"]
    again = customer_budget_record(
        actor=world["rep"],
        customer=world["customer"],
        year=2027,
        total_amount=Decimal("8000000"),
        lines={"5G": 8},
    )
    assert again.pk == budget.pk
    assert list(again.lines.values_list("area", "amount")) == [("5G", Decimal("8.00"))]
    assert again.obtained_on == budget.obtained_on


def test_budget_lines_cannot_exceed_total(world):
    with pytest.raises(ApplicationError) as err:
        customer_budget_record(
            actor=world["rep"], customer=world["customer"], year=2027, total_amount=Decimal(5), lines={"x": 6}
        )
    assert "lines" in err.value.extra


# --- issues ----------------------------------------------------------------------------------------------


def test_issue_flow_received_handling_escalated_closed(world):
    issue = customer_issue_create(actor=world["rep"], customer=world["customer"], title="基站掉线")
    with pytest.raises(ApplicationError) as skip:
        customer_issue_transition(actor=world["rep"], issue=issue, to_status="CLOSED", satisfaction=4)
    assert skip.value.code == "invalid_transition"

    customer_issue_transition(actor=world["rep"], issue=issue, to_status="HANDLING")
    customer_issue_transition(actor=world["rep"], issue=issue, to_status="ESCALATED")
    same = customer_issue_transition(actor=world["rep"], issue=issue, to_status="ESCALATED")
    assert same.status == "ESCALATED"
    with pytest.raises(ApplicationError) as unscored:
        customer_issue_transition(actor=world["rep"], issue=issue, to_status="CLOSED")
    assert "satisfaction" in unscored.value.extra
    with pytest.raises(ApplicationError):
        customer_issue_transition(actor=world["rep"], issue=issue, to_status="CLOSED", satisfaction=6)

    closed = customer_issue_transition(
        actor=world["rep"], issue=issue, to_status="CLOSED", satisfaction=4, evaluation="响应及时"
    )
    assert (closed.status, closed.satisfaction) == ("CLOSED", 4)
    assert closed.closed_at is not None
    with pytest.raises(ApplicationError):
        customer_issue_transition(actor=world["rep"], issue=issue, to_status="HANDLING")


def test_issue_of_invisible_customer_is_not_allowed(world):
    issue = CustomerIssue.objects.create(customer=world["customer"], title="x", owner=world["rep"])
    with pytest.raises(NotAllowed):
        customer_issue_transition(actor=world["peer"], issue=issue, to_status="HANDLING")


# --- visits ----------------------------------------------------------------------------------------------


def test_visit_log_defaults_to_today_and_the_reps_unit(world):
    contact = ContactFactory(customer=world["customer"])
    visit = visit_log(actor=world["rep"], customer=world["customer"], contacts=[contact], purpose="技术交流")
    assert visit.visited_on == timezone.localdate()
    assert (visit.rep, visit.org_unit, visit.visit_type) == (world["rep"], world["tree"]["dept1"], "ROUTINE")
    assert list(visit.contacts.all()) == [contact]


def test_visit_log_refuses_invisible_customer_future_date_and_foreign_contacts(world):
    with pytest.raises(NotAllowed):
        visit_log(actor=world["peer"], customer=world["customer"])
    with pytest.raises(ApplicationError) as err:
        visit_log(
            actor=world["rep"],
            customer=world["customer"],
            visited_on=timezone.localdate() + dt.timedelta(days=1),
            contacts=[ContactFactory()],
            visit_type="KARAOKE",
        )
    assert {"visited_on", "contacts", "visit_type"} <= set(err.value.extra)
    assert not Visit.objects.exists()


def test_visit_log_with_external_id_is_safe_to_repeat(world):
    first = visit_log(actor=world["rep"], customer=world["customer"], external_id="phone-42")
    again = visit_log(actor=world["rep"], customer=world["customer"], external_id="phone-42")
    assert first.pk == again.pk
    assert Visit.objects.count() == 1


@override_settings(LTC={"VISIT_QUOTA_PER_WEEK": 6})
def test_visits_per_rep_week_against_quota(world):
    monday = week_start(timezone.localdate()) - dt.timedelta(weeks=1)
    for day in range(6):
        VisitFactory(
            rep=world["rep"], customer=world["customer"], visited_on=monday + dt.timedelta(days=day % 5)
        )
    VisitFactory(rep=world["peer"], customer=world["customer"], visited_on=monday)

    rows = visits_per_rep_week(world["manager"], week_from=monday, week_to=monday + dt.timedelta(days=7))
    table = {(row["rep_id"], row["week"]): (row["visits"], row["met"]) for row in rows}

    assert table[(world["rep"].pk, monday)] == (6, True)
    assert table[(world["peer"].pk, monday)] == (1, False)
    assert table[(world["rep"].pk, monday + dt.timedelta(weeks=1))] == (0, False)
    assert all(row["quota"] == 6 for row in rows)
    # A rep sees only their own line; peers are not visible.
    own = visits_per_rep_week(world["rep"], week_from=monday)
    assert [(row["rep_id"], row["visits"]) for row in own] == [(world["rep"].pk, 6)]
