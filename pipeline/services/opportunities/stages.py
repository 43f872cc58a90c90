"""The stage machine: VALIDATE —[ATI]→ GUIDE → BID —[ATB]→ NEGOTIATE —[ATC]→ WON; LOST or ABANDONED from any
open stage with a reason.

Forward moves go one stage at a time and pass the gate before the stage entered (see gates.py); a move back to
an earlier open stage needs a reason. Each move locks the opportunity row, re-reads its stage under the lock,
records a StageTransition and an audit-history row naming the actor. Moving to the stage the deal is already at
changes nothing, so every move is safe to call twice.

Probability: it follows the stage (settings.LTC["STAGE_PROBABILITY"]) until a person sets it by hand
(`opportunity_set_probability`); moves between open stages then keep the hand-set value, as DOMAIN.md says
("follows the stage unless a person overrides it"). Closing always sets the closing probability (WON 100,
LOST / ABANDONED 0) and ends the override.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from ltc.errors import ApplicationError
from ltc.events import emit_for
from pipeline.models import OPEN_STAGES, Opportunity, OpportunityLine, Stage, StageTransition
from pipeline.services.opportunities.access import check_can_drive, check_open, lock_visible, save_as
from pipeline.services.opportunities.create import check_amount, stage_probability
from pipeline.services.opportunities.gates import check_gate_passed
from pipeline.services.opportunities.team import check_triangle_complete


def _require_reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(message, {"reason": [_("A reason is required. 必须填写原因。")]})
    return reason


def _transition(*, opp: Opportunity, actor: User, to_stage: str, reason: str) -> Opportunity:
    now = timezone.now()
    StageTransition.objects.create(
        opportunity=opp, from_stage=opp.stage, to_stage=to_stage, actor=actor, reason=reason
    )
    fields = ["stage", "stage_changed_at", "probability", "probability_overridden", "updated_at"]
    opp.stage, opp.stage_changed_at = to_stage, now
    if to_stage in OPEN_STAGES:
        if not opp.probability_overridden:
            opp.probability = stage_probability(to_stage)
    else:
        opp.probability, opp.probability_overridden = stage_probability(to_stage), False
        opp.closed_at = now
        fields.append("closed_at")
        if to_stage != Stage.WON:
            opp.close_reason = reason[:255]
            fields.append("close_reason")
    save_as(opp, actor, update_fields=fields, reason=reason)
    if to_stage not in OPEN_STAGES:
        emit_for(f"opportunity.{to_stage.lower()}", opp, actor=actor)
    return opp


@transaction.atomic
def opportunity_move_stage(
    *, opportunity: Opportunity, actor: User, to_stage: str, reason: str = ""
) -> Opportunity:
    """Move the opportunity to `to_stage` (see the module docstring for the rules).

    Gate rule: entering GUIDE, NEGOTIATE (and WON, via mark_won) needs the latest ATI / ATB / ATC decision to
    be a GO recorded after the deal last entered VALIDATE / BID / NEGOTIATE. A deal moved back and forward
    again re-enters that stage, so it needs a fresh decision; HOLD or NO-GO as the latest decision blocks.

    LOST and ABANDONED go through opportunity_lose / opportunity_abandon; WON only through opportunity_mark_won.
    """
    if to_stage not in Stage.values:
        raise ApplicationError(_("Unknown stage. 未知的阶段。"), {"to_stage": [_("Invalid. 无效。")]})
    if to_stage == Stage.LOST:
        return opportunity_lose(opportunity=opportunity, actor=actor, reason=reason)
    if to_stage == Stage.ABANDONED:
        return opportunity_abandon(opportunity=opportunity, actor=actor, reason=reason)
    opp = lock_visible(opportunity=opportunity, actor=actor)
    if opp.stage == to_stage:
        return opp
    check_open(opp)
    check_can_drive(actor, opp)
    if to_stage == Stage.WON:
        raise ApplicationError(
            _("An opportunity is won through the win action, not a stage move. 赢单须通过“赢单”操作完成。"),
            {"to_stage": [_("Use mark won. 请使用赢单操作。")]},
        )
    here, there = OPEN_STAGES.index(opp.stage), OPEN_STAGES.index(to_stage)
    if there > here:
        if there != here + 1:
            raise ApplicationError(
                _("Stages cannot be skipped. 不能跳过阶段。"),
                {
                    "to_stage": [
                        _("Next stage is %(next)s. 下一阶段为%(next)s。") % {"next": OPEN_STAGES[here + 1]}
                    ]
                },
            )
        if to_stage == Stage.NEGOTIATE:
            check_triangle_complete(opp)
        check_gate_passed(opp, to_stage)
        reason = (reason or "").strip()
    else:
        reason = _require_reason(
            reason, _("Moving back to an earlier stage needs a reason. 退回到之前的阶段必须填写原因。")
        )
    return _transition(opp=opp, actor=actor, to_stage=to_stage, reason=reason)


@transaction.atomic
def opportunity_mark_won(*, opportunity: Opportunity, actor: User, reason: str = "") -> Opportunity:
    """Close the opportunity as WON: it must be at NEGOTIATE with a current ATC GO.

    Sets closed_at and probability 100. Already WON: returns it unchanged (safe to call twice). Opening the
    contract is the contracts app's business (it calls this).
    """
    opp = lock_visible(opportunity=opportunity, actor=actor)
    if opp.stage == Stage.WON:
        return opp
    check_open(opp)
    check_can_drive(actor, opp)
    if opp.stage != Stage.NEGOTIATE:
        raise ApplicationError(
            _(
                "Stages cannot be skipped: only an opportunity in negotiation can be won. "
                "不能跳过阶段：只有处于谈判阶段的机会点才能赢单。"
            ),
            {"stage": [_("Must be NEGOTIATE. 必须处于谈判阶段。")]},
        )
    check_gate_passed(opp, Stage.WON)
    return _transition(opp=opp, actor=actor, to_stage=Stage.WON, reason=(reason or "").strip())


def _close(*, opportunity: Opportunity, actor: User, to_stage: str, reason: str, message: str) -> Opportunity:
    reason = _require_reason(reason, message)
    opp = lock_visible(opportunity=opportunity, actor=actor)
    if opp.stage == to_stage:
        return opp
    check_open(opp)
    check_can_drive(actor, opp)
    return _transition(opp=opp, actor=actor, to_stage=to_stage, reason=reason)


@transaction.atomic
def opportunity_lose(*, opportunity: Opportunity, actor: User, reason: str) -> Opportunity:
    """Close an open opportunity as LOST (reason required). Already LOST: returned unchanged."""
    return _close(
        opportunity=opportunity,
        actor=actor,
        to_stage=Stage.LOST,
        reason=reason,
        message=_("Closing an opportunity as lost needs a reason. 丢单必须填写原因。"),
    )


@transaction.atomic
def opportunity_abandon(*, opportunity: Opportunity, actor: User, reason: str) -> Opportunity:
    """Close an open opportunity as ABANDONED (reason required). Already ABANDONED: returned unchanged."""
    return _close(
        opportunity=opportunity,
        actor=actor,
        to_stage=Stage.ABANDONED,
        reason=reason,
        message=_("Abandoning an opportunity needs a reason. 放弃机会点必须填写原因。"),
    )


@transaction.atomic
def opportunity_set_probability(
    *, opportunity: Opportunity, actor: User, probability: int | None
) -> Opportunity:
    """Set the win probability by hand (0–100); it then stays through stage moves until closing.

    `probability=None` ends the override: the probability follows the stage again.
    """
    opp = lock_visible(opportunity=opportunity, actor=actor)
    check_open(opp)
    check_can_drive(actor, opp)
    if probability is None:
        value, overridden = stage_probability(opp.stage), False
    else:
        if isinstance(probability, bool) or not isinstance(probability, int) or not 0 <= probability <= 100:
            raise ApplicationError(
                _("The probability is a whole percentage from 0 to 100. 赢率须为0到100之间的整数。"),
                {"probability": [_("0–100. 须在0到100之间。")]},
            )
        value, overridden = probability, True
    if (opp.probability, opp.probability_overridden) == (value, overridden):
        return opp
    opp.probability, opp.probability_overridden = value, overridden
    save_as(opp, actor, update_fields=["probability", "probability_overridden", "updated_at"])
    return opp


UPDATABLE_FIELDS = ("name", "amount", "expected_sign_on", "competitors", "margin_pct")


def _clean_update(opp: Opportunity, field: str, value: Any) -> Any:
    if field == "name":
        value = (value or "").strip()
        if not value:
            raise ApplicationError(_("A name is required. 必须填写名称。"), {"name": [_("Required. 必填。")]})
        return value
    if field == "amount":
        if value is None:
            raise ApplicationError(
                _("An amount is required. 必须填写金额。"), {"amount": [_("Required. 必填。")]}
            )
        amount = check_amount(value)
        if amount != opp.amount and OpportunityLine.objects.filter(opportunity_id=opp.pk).exists():
            raise ApplicationError(
                _(
                    "The amount is the total of the bill of quantities; change the BOQ lines instead. "
                    "金额由配置清单汇总得出，请修改配置清单。"
                ),
                {"amount": [_("Set by the BOQ. 由配置清单决定。")]},
            )
        return amount
    if field == "expected_sign_on":
        if value is not None and not isinstance(value, dt.date):
            raise ApplicationError(
                _("Invalid date. 日期无效。"), {"expected_sign_on": [_("Invalid. 无效。")]}
            )
        return value
    if field == "competitors":
        return (value or "").strip()
    # margin_pct
    if value is None:
        return None
    margin = Decimal(value)
    if not -100 <= margin <= 100:
        raise ApplicationError(
            _("The margin is a percentage from -100 to 100. 毛利率须在-100到100之间。"),
            {"margin_pct": [_("-100–100. 须在-100到100之间。")]},
        )
    return margin


@transaction.atomic
def opportunity_update(*, opportunity: Opportunity, actor: User, **fields: Any) -> Opportunity:
    """Change plain fields (name, amount, expected_sign_on, competitors, margin_pct) of an open opportunity.

    Never the stage (use the stage services). The amount is refused while BOQ lines exist (it is their total).
    Only fields whose value changes are written; an unchanged call writes nothing.
    """
    unknown = sorted(set(fields) - set(UPDATABLE_FIELDS))
    if unknown:
        raise ApplicationError(
            _("These fields cannot be changed here. 这些字段不能在此修改。"),
            {name: [_("Not editable here. 不能在此修改。")] for name in unknown},
        )
    opp = lock_visible(opportunity=opportunity, actor=actor)
    check_open(opp)
    check_can_drive(actor, opp)
    changed: list[str] = []
    for field, value in fields.items():
        value = _clean_update(opp, field, value)
        if getattr(opp, field) != value:
            setattr(opp, field, value)
            changed.append(field)
    if changed:
        save_as(opp, actor, update_fields=[*changed, "updated_at"])
    return opp
