"""Gate decisions (ATI 立项, ATB 投标, ATC 签约) and who has the authority to take them.

Authority: a manager or executive (or an admin) whose part of the org tree holds the opportunity's org unit.
Their *level* for this opportunity is the unit at the top of that part of the tree (for an admin: the
opportunity's ancestor of the same kind as the admin's own unit, or headquarters). settings.LTC
["GATE_AUTHORITY"] gives each kind of unit the largest amount it may decide (None: no limit); beyond it the
decision is escalated to `gate_escalation_unit`. Amounts are compared as they stand on the opportunity.

Which decision lets a deal through a gate: the *latest* decision at that gate, if it is a GO and was recorded
after the opportunity last entered the stage the gate closes (VALIDATE for ATI, BID for ATB, NEGOTIATE for
ATC). A deal that went back and came forward again re-enters that stage, so the old decision no longer counts
and a fresh one is needed. "Recorded" is the decision's created_at (decided_on is the date the decider gives,
which may lie in the past); "entered" is the opportunity's stage_changed_at.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import OrgUnit, User
from accounts.selectors import scope_for
from ltc.errors import ApplicationError, NotAllowed
from ltc.events import emit_for
from pipeline.models import GateDecision, Opportunity, Stage
from pipeline.services.opportunities.access import check_open, lock_visible, save_as
from pipeline.services.opportunities.team import check_triangle_complete

Gate = GateDecision.Gate

# The stage a gate is decided at, and the stage it opens.
GATE_AT_STAGE = {Stage.VALIDATE: Gate.ATI, Stage.BID: Gate.ATB, Stage.NEGOTIATE: Gate.ATC}
STAGE_GATE = {Stage.GUIDE: Gate.ATI, Stage.NEGOTIATE: Gate.ATB, Stage.WON: Gate.ATC}


def authority_limit(kind: str) -> Decimal | None:
    """The largest amount a decider at this kind of unit may decide; None: no limit."""
    limit = settings.LTC["GATE_AUTHORITY"].get(kind)
    return None if limit is None else Decimal(limit)


def _covers(limit: Decimal | None, amount: Decimal) -> bool:
    return limit is None or amount <= limit


def gate_escalation_unit(opportunity: Opportunity) -> OrgUnit:
    """The lowest unit, from the opportunity's own up to headquarters, whose level may decide its amount."""
    chain = list(opportunity.org_unit.ancestors().order_by("-depth"))
    for unit in chain:
        if _covers(authority_limit(unit.kind), opportunity.amount):
            return unit
    return chain[-1]


def decider_level_unit(actor: User, opp: Opportunity) -> OrgUnit | None:
    """The unit whose level `actor` decides at for this opportunity, or None if they have no authority."""
    if actor.sees_everything:
        ancestors = list(opp.org_unit.ancestors())
        if actor.org_unit is not None:
            same_kind = [unit for unit in ancestors if unit.kind == actor.org_unit.kind]
            if same_kind:
                return same_kind[0]
        return ancestors[0]
    if not actor.is_manager:
        return None
    path = next((p for p in scope_for(actor).unit_paths if opp.org_unit.path.startswith(p)), None)
    if path is None:
        return None
    return OrgUnit.objects.get(path=path)


def effective_decision(opp: Opportunity, gate: str) -> GateDecision | None:
    """The latest decision at `gate` recorded since the opportunity last entered the gate's stage."""
    entered_at = opp.stage_changed_at or opp.created_at
    latest = (
        GateDecision.objects.filter(opportunity_id=opp.pk, gate=gate).order_by("-created_at", "-id").first()
    )
    if latest is None or latest.created_at < entered_at:
        return None
    return latest


def check_gate_passed(opp: Opportunity, to_stage: str) -> None:
    """Refuse entering `to_stage` unless the gate before it has a current GO (see the module docstring)."""
    gate = STAGE_GATE.get(to_stage)
    if gate is None:
        return
    decision = effective_decision(opp, gate)
    if decision is None:
        raise ApplicationError(
            _(
                "Entering %(stage)s needs a GO decision at %(gate)s first. "
                "进入该阶段前必须先通过%(gate)s决策。"
            )
            % {"stage": to_stage, "gate": gate},
            {"gate": [_("No %(gate)s decision. 没有%(gate)s决策。") % {"gate": gate}]},
        )
    if decision.outcome != GateDecision.Outcome.GO:
        raise ApplicationError(
            _(
                "The latest %(gate)s decision is %(outcome)s, not GO. "
                "最近一次%(gate)s决策结果为%(outcome)s，未通过。"
            )
            % {"gate": gate, "outcome": decision.outcome},
            {"gate": [_("Not GO. 未通过。")]},
        )


def _check_authority(actor: User, opp: Opportunity) -> OrgUnit:
    if not (actor.is_manager or actor.sees_everything):
        raise NotAllowed(
            _(
                "Only a manager, an executive or an admin may take a gate decision. 只有主管、高管或管理员可以做决策。"
            )
        )
    level = decider_level_unit(actor, opp)
    if level is None:
        raise NotAllowed(
            _(
                "This opportunity is outside your part of the organisation. "
                "该机会点不在您负责的组织范围内，无权决策。"
            )
        )
    if not _covers(authority_limit(level.kind), opp.amount):
        target = gate_escalation_unit(opp)
        raise NotAllowed(
            _(
                "The amount %(amount)s is beyond your decision authority; escalate it to %(unit)s. "
                "金额%(amount)s超出您的决策权限，须升级至%(unit)s决策。"
            )
            % {"amount": opp.amount, "unit": target.name},
            {"escalate_to": [target.name]},
        )
    return level


@transaction.atomic
def gate_decide(
    *,
    opportunity: Opportunity,
    actor: User,
    gate: str,
    outcome: str,
    conditions: str = "",
    decided_on: dt.date | None = None,
    margin_pct: Decimal | None = None,
) -> GateDecision:
    """Record a GO / NO-GO / HOLD at the gate the opportunity stands at (ATI at VALIDATE, ATB at BID, ATC at
    NEGOTIATE), by a decider with authority for its amount. The amount and margin are stored as they are now;
    escalated_to names the decider's level when it is above the opportunity's account department.
    Repeating the same decision (same decider, outcome, date and conditions) returns the one already made.
    """
    opp = lock_visible(opportunity=opportunity, actor=actor)
    check_open(opp)
    if gate not in Gate.values:
        raise ApplicationError(_("Unknown gate. 未知的决策点。"), {"gate": [_("Invalid. 无效。")]})
    if outcome not in GateDecision.Outcome.values:
        raise ApplicationError(_("Unknown outcome. 未知的决策结果。"), {"outcome": [_("Invalid. 无效。")]})
    expected = GATE_AT_STAGE.get(opp.stage)
    if gate != expected:
        raise ApplicationError(
            _(
                "The opportunity is at %(stage)s, so %(gate)s cannot be decided now. "
                "机会点当前处于%(stage)s阶段，现在不能做%(gate)s决策。"
            )
            % {"stage": opp.stage, "gate": gate},
            {"gate": [_("Expected %(expected)s. 应为%(expected)s。") % {"expected": expected or "—"}]},
        )
    if gate == Gate.ATB:
        check_triangle_complete(opp)
    level = _check_authority(actor, opp)

    today = timezone.localdate()
    decided_on = decided_on or today
    if decided_on > today:
        raise ApplicationError(
            _("A decision cannot be dated in the future. 决策日期不能晚于今天。"),
            {"decided_on": [_("In the future. 日期在未来。")]},
        )
    margin = opp.margin_pct if margin_pct is None else Decimal(margin_pct)
    if margin is not None and not (-100 <= margin <= 100):
        raise ApplicationError(
            _("The margin is a percentage from -100 to 100. 毛利率须在-100到100之间。"),
            {"margin_pct": [_("-100–100. 须在-100到100之间。")]},
        )
    conditions = (conditions or "").strip()

    latest = effective_decision(opp, gate)
    if (
        latest is not None
        and latest.outcome == outcome
        and latest.decider_id == actor.pk
        and latest.decided_on == decided_on
        and latest.conditions == conditions
        and latest.amount_at_decision == opp.amount
    ):
        return latest
    decision = GateDecision(
        opportunity=opp,
        gate=gate,
        outcome=outcome,
        decider=actor,
        decided_on=decided_on,
        conditions=conditions,
        amount_at_decision=opp.amount,
        margin_at_decision=margin,
        escalated_to=level if level.pk != opp.org_unit_id else None,
    )
    save_as(decision, actor)
    emit_for("gate.decided", decision, actor=actor)
    return decision
