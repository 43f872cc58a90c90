"""The stage machine VALIDATE → GUIDE → BID → NEGOTIATE → WON, its gates, closing, probability and audit."""

from decimal import Decimal

import pytest

from accounts.models import User
from ltc.errors import ApplicationError, NotAllowed
from pipeline.models import Stage, StageTransition
from pipeline.services.opportunities import (
    gate_decide,
    opportunity_abandon,
    opportunity_lose,
    opportunity_mark_won,
    opportunity_move_stage,
    opportunity_set_probability,
    opportunity_update,
)
from tests.factories import (
    CustomerTeamMemberFactory,
    ProductFactory,
    UserFactory,
    opportunity_deal,
    opportunity_drive_to,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(tree):
    return opportunity_deal(tree)


def refused(exc_info, english: str, chinese: str) -> None:
    text = str(exc_info.value)
    assert english in text, text
    assert chinese in text, text


def test_whole_forward_path_with_gates(deal):
    opp, rep, boss = deal.opp, deal.rep, deal.dept_manager
    seen = [opp.probability]

    gate_decide(opportunity=opp, actor=boss, gate="ATI", outcome="GO")
    opp = opportunity_move_stage(opportunity=opp, actor=rep, to_stage=Stage.GUIDE)
    seen.append(opp.probability)
    opp = opportunity_move_stage(opportunity=opp, actor=rep, to_stage=Stage.BID)
    seen.append(opp.probability)
    gate_decide(opportunity=opp, actor=boss, gate="ATB", outcome="GO", margin_pct=Decimal("22.5"))
    opp = opportunity_move_stage(opportunity=opp, actor=rep, to_stage=Stage.NEGOTIATE)
    seen.append(opp.probability)
    gate_decide(opportunity=opp, actor=boss, gate="ATC", outcome="GO", conditions="预付款不低于30%")
    opp = opportunity_mark_won(opportunity=opp, actor=rep, reason="客户签字")
    seen.append(opp.probability)

    opp.refresh_from_db()
    assert opp.stage == Stage.WON
    assert opp.closed_at is not None
    assert seen == [10, 30, 50, 75, 100]
    assert list(StageTransition.objects.filter(opportunity=opp).values_list("from_stage", "to_stage")) == [
        ("VALIDATE", "GUIDE"),
        ("GUIDE", "BID"),
        ("BID", "NEGOTIATE"),
        ("NEGOTIATE", "WON"),
    ]
    assert set(StageTransition.objects.values_list("actor", flat=True)) == {rep.pk}
    last = opp.history.first()
    assert last.history_user == rep
    assert last.stage == Stage.WON
    assert last.history_change_reason == "客户签字"
    assert opp.gate_decisions.count() == 3


def test_skipping_a_stage_is_refused(deal):
    gate_decide(opportunity=deal.opp, actor=deal.dept_manager, gate="ATI", outcome="GO")
    with pytest.raises(ApplicationError) as err:
        opportunity_move_stage(opportunity=deal.opp, actor=deal.rep, to_stage=Stage.BID)
    refused(err, "Stages cannot be skipped.", "不能跳过阶段。")
    assert "to_stage" in err.value.extra
    deal.opp.refresh_from_db()
    assert deal.opp.stage == Stage.VALIDATE
    assert not StageTransition.objects.exists()


def test_mark_won_before_negotiation_is_refused(deal):
    opp = opportunity_drive_to(deal, Stage.BID)
    with pytest.raises(ApplicationError) as err:
        opportunity_mark_won(opportunity=opp, actor=deal.rep)
    refused(err, "Stages cannot be skipped", "不能跳过阶段")
    opp.refresh_from_db()
    assert opp.stage == Stage.BID


def test_entering_a_gated_stage_without_a_decision_is_refused(deal):
    with pytest.raises(ApplicationError) as err:
        opportunity_move_stage(opportunity=deal.opp, actor=deal.rep, to_stage=Stage.GUIDE)
    refused(err, "needs a GO decision at ATI", "必须先通过ATI决策")
    opp = opportunity_drive_to(deal, Stage.NEGOTIATE)
    with pytest.raises(ApplicationError) as err:
        opportunity_mark_won(opportunity=opp, actor=deal.rep)
    refused(err, "needs a GO decision at ATC", "必须先通过ATC决策")


@pytest.mark.parametrize("outcome", ["NO_GO", "HOLD"])
def test_no_go_or_hold_blocks_the_gate(deal, outcome):
    gate_decide(opportunity=deal.opp, actor=deal.dept_manager, gate="ATI", outcome=outcome)
    with pytest.raises(ApplicationError) as err:
        opportunity_move_stage(opportunity=deal.opp, actor=deal.rep, to_stage=Stage.GUIDE)
    refused(err, f"The latest ATI decision is {outcome}, not GO.", f"最近一次ATI决策结果为{outcome}")


def test_a_later_hold_overrides_an_earlier_go(deal):
    gate_decide(opportunity=deal.opp, actor=deal.dept_manager, gate="ATI", outcome="GO")
    gate_decide(opportunity=deal.opp, actor=deal.office_manager, gate="ATI", outcome="HOLD")
    with pytest.raises(ApplicationError):
        opportunity_move_stage(opportunity=deal.opp, actor=deal.rep, to_stage=Stage.GUIDE)
    gate_decide(opportunity=deal.opp, actor=deal.office_manager, gate="ATI", outcome="GO")
    opp = opportunity_move_stage(opportunity=deal.opp, actor=deal.rep, to_stage=Stage.GUIDE)
    assert opp.stage == Stage.GUIDE


def test_going_back_needs_a_reason(deal):
    opp = opportunity_drive_to(deal, Stage.BID)
    for reason in ("", "   "):
        with pytest.raises(ApplicationError) as err:
            opportunity_move_stage(opportunity=opp, actor=deal.rep, to_stage=Stage.GUIDE, reason=reason)
        refused(err, "Moving back to an earlier stage needs a reason.", "退回到之前的阶段必须填写原因。")
        assert "reason" in err.value.extra
    opp = opportunity_move_stage(opportunity=opp, actor=deal.rep, to_stage=Stage.GUIDE, reason="客户改需求")
    assert opp.stage == Stage.GUIDE
    assert opp.transitions.last().reason == "客户改需求"


def test_a_gate_decision_before_going_back_does_not_count_after_coming_forward(deal):
    """ATB GO taken at BID; the deal goes to NEGOTIATE, back to BID, and needs a fresh ATB before NEGOTIATE."""
    opp = opportunity_drive_to(deal, Stage.NEGOTIATE)
    opp = opportunity_move_stage(opportunity=opp, actor=deal.rep, to_stage=Stage.BID, reason="重新报价")
    with pytest.raises(ApplicationError) as err:
        opportunity_move_stage(opportunity=opp, actor=deal.rep, to_stage=Stage.NEGOTIATE)
    refused(err, "needs a GO decision at ATB", "必须先通过ATB决策")

    gate_decide(opportunity=opp, actor=deal.dept_manager, gate="ATB", outcome="GO")
    opp = opportunity_move_stage(opportunity=opp, actor=deal.rep, to_stage=Stage.NEGOTIATE)
    assert opp.stage == Stage.NEGOTIATE


def test_going_back_to_validate_needs_a_fresh_ati(deal):
    opp = opportunity_drive_to(deal, Stage.GUIDE)
    opp = opportunity_move_stage(
        opportunity=opp, actor=deal.rep, to_stage=Stage.VALIDATE, reason="需求未明确"
    )
    with pytest.raises(ApplicationError):
        opportunity_move_stage(opportunity=opp, actor=deal.rep, to_stage=Stage.GUIDE)


def test_lose_needs_a_reason_and_closes(deal):
    for reason in ("", "  "):
        with pytest.raises(ApplicationError) as err:
            opportunity_lose(opportunity=deal.opp, actor=deal.rep, reason=reason)
        refused(err, "Closing an opportunity as lost needs a reason.", "丢单必须填写原因。")
    deal.opp.refresh_from_db()
    assert deal.opp.stage == Stage.VALIDATE

    opp = opportunity_lose(opportunity=deal.opp, actor=deal.rep, reason="价格劣势")
    opp.refresh_from_db()
    assert (opp.stage, opp.close_reason, opp.probability) == (Stage.LOST, "价格劣势", 0)
    assert opp.closed_at is not None
    assert opp.history.first().history_user == deal.rep

    again = opportunity_lose(opportunity=opp, actor=deal.rep, reason="价格劣势")
    assert again.closed_at == opp.closed_at
    assert StageTransition.objects.filter(opportunity=opp).count() == 1


def test_move_stage_to_lost_also_needs_a_reason(deal):
    with pytest.raises(ApplicationError):
        opportunity_move_stage(opportunity=deal.opp, actor=deal.rep, to_stage=Stage.LOST)
    opp = opportunity_move_stage(opportunity=deal.opp, actor=deal.rep, to_stage=Stage.LOST, reason="客户取消")
    assert opp.stage == Stage.LOST


def test_abandon_from_a_later_stage(deal):
    opp = opportunity_drive_to(deal, Stage.BID)
    with pytest.raises(ApplicationError) as err:
        opportunity_abandon(opportunity=opp, actor=deal.rep, reason="")
    refused(err, "Abandoning an opportunity needs a reason.", "放弃机会点必须填写原因。")
    opp = opportunity_abandon(opportunity=opp, actor=deal.rep, reason="投入产出比低")
    assert opp.stage == Stage.ABANDONED
    with pytest.raises(ApplicationError) as err:
        opportunity_move_stage(opportunity=opp, actor=deal.rep, to_stage=Stage.BID, reason="重启")
    refused(err, "is closed", "已关闭")


def test_double_won_changes_nothing(deal):
    opp = opportunity_drive_to(deal, Stage.NEGOTIATE)
    gate_decide(opportunity=opp, actor=deal.dept_manager, gate="ATC", outcome="GO")
    first = opportunity_mark_won(opportunity=opp, actor=deal.rep)
    first.refresh_from_db()
    history_rows = first.history.count()

    second = opportunity_mark_won(opportunity=opp, actor=deal.dept_manager)

    second.refresh_from_db()
    assert second.stage == Stage.WON
    assert (second.closed_at, second.updated_at) == (first.closed_at, first.updated_at)
    assert second.history.count() == history_rows
    assert StageTransition.objects.filter(opportunity=opp, to_stage=Stage.WON).count() == 1


def test_won_cannot_be_lost_and_lost_cannot_be_won(deal, tree):
    opp = opportunity_drive_to(deal, Stage.NEGOTIATE)
    gate_decide(opportunity=opp, actor=deal.dept_manager, gate="ATC", outcome="GO")
    opportunity_mark_won(opportunity=opp, actor=deal.rep)
    with pytest.raises(ApplicationError) as err:
        opportunity_lose(opportunity=opp, actor=deal.rep, reason="后悔")
    refused(err, "is closed", "已关闭")

    other = opportunity_deal(tree)
    lost = opportunity_lose(opportunity=other.opp, actor=other.rep, reason="预算取消")
    with pytest.raises(ApplicationError) as err:
        opportunity_mark_won(opportunity=lost, actor=other.rep)
    refused(err, "is closed", "已关闭")
    lost.refresh_from_db()
    assert lost.stage == Stage.LOST


def test_moving_to_the_current_stage_is_a_no_op(deal):
    opp = opportunity_move_stage(opportunity=deal.opp, actor=deal.rep, to_stage=Stage.VALIDATE)
    assert opp.stage == Stage.VALIDATE
    assert not StageTransition.objects.exists()


def test_won_is_only_reached_through_mark_won(deal):
    opp = opportunity_drive_to(deal, Stage.NEGOTIATE)
    gate_decide(opportunity=opp, actor=deal.dept_manager, gate="ATC", outcome="GO")
    with pytest.raises(ApplicationError) as err:
        opportunity_move_stage(opportunity=opp, actor=deal.rep, to_stage=Stage.WON)
    refused(err, "win action", "赢单")
    with pytest.raises(ApplicationError):
        opportunity_move_stage(opportunity=opp, actor=deal.rep, to_stage="SIGNED")


def test_acting_on_an_invisible_opportunity_is_refused(deal, tree):
    name = deal.opp.name
    stranger = UserFactory(org_unit=tree["dept3"])
    other_manager = deal.other_manager
    calls = [
        lambda actor: opportunity_move_stage(opportunity=deal.opp, actor=actor, to_stage=Stage.GUIDE),
        lambda actor: opportunity_lose(opportunity=deal.opp, actor=actor, reason="x"),
        lambda actor: opportunity_abandon(opportunity=deal.opp, actor=actor, reason="x"),
        lambda actor: opportunity_mark_won(opportunity=deal.opp, actor=actor),
        lambda actor: opportunity_set_probability(opportunity=deal.opp, actor=actor, probability=50),
        lambda actor: opportunity_update(opportunity=deal.opp, actor=actor, name="x"),
        lambda actor: gate_decide(opportunity=deal.opp, actor=actor, gate="ATI", outcome="GO"),
    ]
    for actor in (stranger, other_manager):
        for call in calls:
            with pytest.raises(NotAllowed) as err:
                call(actor)
            refused(err, "You cannot see this opportunity.", "您无权查看该机会点。")
    deal.opp.refresh_from_db()
    assert (deal.opp.stage, deal.opp.name, deal.opp.probability) == (Stage.VALIDATE, name, 10)
    assert not StageTransition.objects.exists()
    assert not deal.opp.gate_decisions.exists()


def test_a_viewer_who_is_not_on_the_deal_cannot_move_it(deal):
    viewer = UserFactory(org_unit=deal.opp.org_unit)
    CustomerTeamMemberFactory(customer=deal.customer, user=viewer, role="SUPPORT")
    gate_decide(opportunity=deal.opp, actor=deal.dept_manager, gate="ATI", outcome="GO")
    with pytest.raises(NotAllowed) as err:
        opportunity_move_stage(opportunity=deal.opp, actor=viewer, to_stage=Stage.GUIDE)
    refused(err, "Only the owner, the iron triangle or a manager above", "只有负责人、项目铁三角或上级主管")
    # The triangle's SR and a manager above may.
    opp = opportunity_move_stage(opportunity=deal.opp, actor=deal.sr, to_stage=Stage.GUIDE)
    opp = opportunity_move_stage(opportunity=opp, actor=deal.office_manager, to_stage=Stage.BID)
    assert opp.stage == Stage.BID
    assert opp.history.first().history_user == deal.office_manager


def test_probability_follows_the_stage_until_overridden(deal):
    opp = opportunity_drive_to(deal, Stage.GUIDE)
    assert opp.probability == 30 and not opp.probability_overridden

    opp = opportunity_set_probability(opportunity=opp, actor=deal.rep, probability=45)
    assert (opp.probability, opp.probability_overridden) == (45, True)
    assert opp.history.first().history_user == deal.rep
    opp = opportunity_move_stage(opportunity=opp, actor=deal.rep, to_stage=Stage.BID)
    opp.refresh_from_db()
    assert (opp.probability, opp.probability_overridden) == (45, True)

    opp = opportunity_set_probability(opportunity=opp, actor=deal.rep, probability=None)
    assert (opp.probability, opp.probability_overridden) == (50, False)
    gate_decide(opportunity=opp, actor=deal.dept_manager, gate="ATB", outcome="GO")
    opp = opportunity_move_stage(opportunity=opp, actor=deal.rep, to_stage=Stage.NEGOTIATE)
    assert opp.probability == 75

    opp = opportunity_set_probability(opportunity=opp, actor=deal.rep, probability=60)
    gate_decide(opportunity=opp, actor=deal.dept_manager, gate="ATC", outcome="GO")
    opp = opportunity_mark_won(opportunity=opp, actor=deal.rep)
    opp.refresh_from_db()
    assert (opp.probability, opp.probability_overridden) == (100, False)


@pytest.mark.parametrize("bad", [-1, 101, 50.5, True])
def test_probability_must_be_a_whole_percentage(deal, bad):
    with pytest.raises(ApplicationError) as err:
        opportunity_set_probability(opportunity=deal.opp, actor=deal.rep, probability=bad)
    refused(err, "from 0 to 100", "0到100")


def test_probability_uses_the_configured_stage_table(deal, settings):
    settings.LTC = {**settings.LTC, "STAGE_PROBABILITY": {**settings.LTC["STAGE_PROBABILITY"], "GUIDE": 25}}
    opp = opportunity_drive_to(deal, Stage.GUIDE)
    assert opp.probability == 25


def test_update_plain_fields(deal):
    opp = opportunity_update(
        opportunity=deal.opp, actor=deal.rep, name="  新名称 ", amount=Decimal("900000"), competitors="X"
    )
    opp.refresh_from_db()
    assert (opp.name, opp.amount, opp.competitors) == ("新名称", Decimal("900000.00"), "X")
    assert opp.history.first().history_user == deal.rep
    rows = opp.history.count()
    opportunity_update(opportunity=opp, actor=deal.rep, name="新名称")
    assert opp.history.count() == rows


def test_update_refuses_the_stage_and_unknown_fields(deal):
    with pytest.raises(ApplicationError) as err:
        opportunity_update(opportunity=deal.opp, actor=deal.rep, stage=Stage.WON, owner=deal.sr)
    refused(err, "cannot be changed here", "不能在此修改")
    assert set(err.value.extra) == {"stage", "owner"}
    with pytest.raises(ApplicationError) as err:
        opportunity_update(opportunity=deal.opp, actor=deal.rep, amount=Decimal("-1"))
    assert "amount" in err.value.extra
    with pytest.raises(ApplicationError) as err:
        opportunity_update(opportunity=deal.opp, actor=deal.rep, margin_pct=Decimal("120"))
    assert "margin_pct" in err.value.extra
    deal.opp.refresh_from_db()
    assert deal.opp.stage == Stage.VALIDATE


def test_update_refuses_the_amount_when_boq_lines_exist(deal):
    from pipeline.services.opportunities import opportunity_line_set

    opportunity_line_set(opportunity=deal.opp, actor=deal.sr, product=ProductFactory(), quantity=3)
    with pytest.raises(ApplicationError) as err:
        opportunity_update(opportunity=deal.opp, actor=deal.rep, amount=Decimal("1"))
    refused(err, "total of the bill of quantities", "配置清单")
    deal.opp.refresh_from_db()
    assert deal.opp.amount == Decimal("30000.00")


def test_sales_rep_manager_role_is_not_needed_to_move_own_deal(deal):
    assert deal.rep.job_role == User.JobRole.SALES_REP
    gate_decide(opportunity=deal.opp, actor=deal.dept_manager, gate="ATI", outcome="GO")
    assert opportunity_move_stage(opportunity=deal.opp, actor=deal.rep, to_stage=Stage.GUIDE).stage == "GUIDE"
