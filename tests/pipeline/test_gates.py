"""Gate decisions: which gate, who may decide which amount, escalation, the triangle before ATB."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from ltc.errors import ApplicationError, NotAllowed
from pipeline.models import GateDecision, Stage
from pipeline.services.opportunities import (
    gate_decide,
    gate_escalation_unit,
    opportunity_move_stage,
    opportunity_team_remove,
)
from tests.factories import UserFactory, opportunity_deal, opportunity_drive_to

pytestmark = pytest.mark.django_db


def both(exc_info, english: str, chinese: str) -> None:
    text = str(exc_info.value)
    assert english in text, text
    assert chinese in text, text


def test_decision_records_amount_margin_decider_and_date(tree):
    deal = opportunity_deal(tree, amount=Decimal("800000"), margin_pct=Decimal("18.00"))
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    decision = gate_decide(
        opportunity=deal.opp, actor=deal.dept_manager, gate="ATI", outcome="GO", decided_on=yesterday
    )
    decision.refresh_from_db()
    assert decision.decider == deal.dept_manager
    assert decision.decided_on == yesterday
    assert decision.amount_at_decision == Decimal("800000.00")
    assert decision.margin_at_decision == Decimal("18.00")
    assert decision.escalated_to is None
    assert decision.history.first().history_user == deal.dept_manager

    opp = opportunity_drive_to(deal, Stage.BID)
    atb = gate_decide(opportunity=opp, actor=deal.dept_manager, gate="ATB", outcome="HOLD", margin_pct=12)
    assert atb.margin_at_decision == Decimal("12")


def test_the_gate_must_be_the_one_the_opportunity_is_at(tree):
    deal = opportunity_deal(tree)
    for gate in ("ATB", "ATC"):
        with pytest.raises(ApplicationError) as err:
            gate_decide(opportunity=deal.opp, actor=deal.dept_manager, gate=gate, outcome="GO")
        both(err, f"so {gate} cannot be decided now", f"现在不能做{gate}决策")
        assert err.value.extra["gate"]
    opp = opportunity_drive_to(deal, Stage.GUIDE)
    with pytest.raises(ApplicationError):
        gate_decide(opportunity=opp, actor=deal.dept_manager, gate="ATI", outcome="GO")
    with pytest.raises(ApplicationError):
        gate_decide(opportunity=opp, actor=deal.dept_manager, gate="ATX", outcome="GO")
    assert GateDecision.objects.count() == 1  # the ATI taken on the way


def test_account_dept_manager_cannot_decide_5m_and_is_told_where_to_escalate(tree):
    deal = opportunity_deal(tree, amount=Decimal("5000000"))
    assert gate_escalation_unit(deal.opp) == tree["office"]
    with pytest.raises(NotAllowed) as err:
        gate_decide(opportunity=deal.opp, actor=deal.dept_manager, gate="ATI", outcome="GO")
    both(err, "beyond your decision authority; escalate it to 上海代表处", "须升级至上海代表处决策")
    assert err.value.extra == {"escalate_to": ["上海代表处"]}
    assert not GateDecision.objects.exists()

    decision = gate_decide(opportunity=deal.opp, actor=deal.office_manager, gate="ATI", outcome="GO")
    assert decision.escalated_to == tree["office"]
    assert opportunity_move_stage(opportunity=deal.opp, actor=deal.rep, to_stage=Stage.GUIDE).stage == "GUIDE"


def test_escalation_unit_climbs_with_the_amount(tree):
    deal = opportunity_deal(tree, amount=Decimal("1000000"))
    assert gate_escalation_unit(deal.opp) == tree["dept1"]  # the limit is inclusive
    deal.opp.amount = Decimal("1000000.01")
    assert gate_escalation_unit(deal.opp) == tree["office"]
    deal.opp.amount = Decimal("10000000.01")
    assert gate_escalation_unit(deal.opp) == tree["region"]


def test_office_manager_cannot_decide_20m_but_the_region_executive_can(tree):
    deal = opportunity_deal(tree, amount=Decimal("20000000"))
    with pytest.raises(NotAllowed) as err:
        gate_decide(opportunity=deal.opp, actor=deal.office_manager, gate="ATI", outcome="GO")
    both(err, "escalate it to 华东地区部", "须升级至华东地区部决策")
    decision = gate_decide(opportunity=deal.opp, actor=deal.region_exec, gate="ATI", outcome="NO_GO")
    assert (decision.outcome, decision.escalated_to) == ("NO_GO", tree["region"])


def test_authority_limits_come_from_settings(tree, settings):
    settings.LTC = {**settings.LTC, "GATE_AUTHORITY": {**settings.LTC["GATE_AUTHORITY"], "ACCOUNT_DEPT": 100}}
    deal = opportunity_deal(tree, amount=Decimal("101"))
    with pytest.raises(NotAllowed):
        gate_decide(opportunity=deal.opp, actor=deal.dept_manager, gate="ATI", outcome="GO")


def test_decider_from_another_branch_is_refused(tree):
    deal = opportunity_deal(tree)
    with pytest.raises(NotAllowed):
        gate_decide(opportunity=deal.opp, actor=deal.other_manager, gate="ATI", outcome="GO")
    # A manager of a sibling account department who can see the deal (through the customer's team) still has
    # no authority over it: the deal is outside their part of the tree.
    from tests.factories import CustomerTeamMemberFactory

    sibling = UserFactory(org_unit=tree["dept2"], job_role=User.JobRole.MANAGER)
    CustomerTeamMemberFactory(customer=deal.customer, user=sibling, role="SUPPORT")
    with pytest.raises(NotAllowed) as err:
        gate_decide(opportunity=deal.opp, actor=sibling, gate="ATI", outcome="GO")
    both(err, "outside your part of the organisation", "不在您负责的组织范围内")
    assert not GateDecision.objects.exists()


def test_a_sales_rep_cannot_decide_even_on_own_deal(tree):
    deal = opportunity_deal(tree)
    with pytest.raises(NotAllowed) as err:
        gate_decide(opportunity=deal.opp, actor=deal.rep, gate="ATI", outcome="GO")
    both(err, "Only a manager, an executive or an admin", "只有主管、高管或管理员")


def test_admin_decides_at_headquarters_level(tree):
    deal = opportunity_deal(tree, amount=Decimal("50000000"))
    admin = UserFactory(org_unit=None, job_role=User.JobRole.ADMIN)
    decision = gate_decide(opportunity=deal.opp, actor=admin, gate="ATI", outcome="GO")
    assert decision.escalated_to == tree["hq"]


def test_incomplete_triangle_blocks_the_bid_decision_and_negotiation(tree):
    deal = opportunity_deal(tree)
    opp = opportunity_drive_to(deal, Stage.BID)
    gate_decide(opportunity=opp, actor=deal.dept_manager, gate="ATB", outcome="GO")
    opportunity_team_remove(opportunity=opp, actor=deal.rep, user=deal.fr)

    with pytest.raises(ApplicationError) as err:
        opportunity_move_stage(opportunity=opp, actor=deal.rep, to_stage=Stage.NEGOTIATE)
    both(err, "The iron triangle is incomplete (missing FR)", "铁三角不完整（缺少FR）")
    with pytest.raises(ApplicationError) as err:
        gate_decide(opportunity=opp, actor=deal.dept_manager, gate="ATB", outcome="GO")
    both(err, "complete it before the bid decision", "投标决策前必须配齐")
    assert GateDecision.objects.filter(gate="ATB").count() == 1
    opp.refresh_from_db()
    assert opp.stage == Stage.BID


def test_the_same_decision_twice_is_recorded_once(tree):
    deal = opportunity_deal(tree)
    first = gate_decide(
        opportunity=deal.opp, actor=deal.dept_manager, gate="ATI", outcome="GO", conditions="c"
    )
    second = gate_decide(
        opportunity=deal.opp, actor=deal.dept_manager, gate="ATI", outcome="GO", conditions="c"
    )
    assert first.pk == second.pk
    assert GateDecision.objects.count() == 1


def test_a_decision_cannot_be_dated_in_the_future_or_carry_a_wild_margin(tree):
    deal = opportunity_deal(tree)
    with pytest.raises(ApplicationError) as err:
        gate_decide(
            opportunity=deal.opp,
            actor=deal.dept_manager,
            gate="ATI",
            outcome="GO",
            decided_on=timezone.localdate() + dt.timedelta(days=1),
        )
    both(err, "cannot be dated in the future", "决策日期不能晚于今天")
    with pytest.raises(ApplicationError) as err:
        gate_decide(opportunity=deal.opp, actor=deal.dept_manager, gate="ATI", outcome="GO", margin_pct=150)
    assert "margin_pct" in err.value.extra
    with pytest.raises(ApplicationError):
        gate_decide(opportunity=deal.opp, actor=deal.dept_manager, gate="ATI", outcome="MAYBE")
    assert not GateDecision.objects.exists()


def test_no_decision_on_a_closed_opportunity(tree):
    from pipeline.services.opportunities import opportunity_lose

    deal = opportunity_deal(tree)
    opportunity_lose(opportunity=deal.opp, actor=deal.rep, reason="客户取消")
    with pytest.raises(ApplicationError):
        gate_decide(opportunity=deal.opp, actor=deal.dept_manager, gate="ATI", outcome="GO")
