"""Contract changes (合同变更): proposed, decided by someone with authority, and only then applied."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from contracts.models import Contract, ContractChange, PaymentMilestone
from contracts.services.access import (
    CENT,
    check_can_work,
    decider_level_unit,
    lock_contract,
    money,
    save_as,
)
from ltc.errors import ApplicationError, NotAllowed
from ltc.events import emit_for
from pipeline.services.opportunities import authority_limit

HUNDRED = Decimal("100")


def _check_not_below_invoiced(contract: Contract, new_amount: Decimal) -> None:
    if new_amount < contract.invoiced_amount:
        raise ApplicationError(
            _(
                "The new amount cannot be below what is already invoiced (%(invoiced)s). "
                "变更后金额不能低于已开票金额（%(invoiced)s）。"
            )
            % {"invoiced": contract.invoiced_amount},
            {"new_amount": [_("Below the invoiced amount. 低于已开票金额。")]},
        )


@transaction.atomic
def contract_change_propose(
    *,
    contract: Contract,
    actor: User,
    description: str,
    new_amount: Decimal | None = None,
    new_signed_on: dt.date | None = None,
) -> ContractChange:
    """Propose a change to a contract that is not closed. It needs an approved decision before it applies."""
    locked = lock_contract(contract=contract, actor=actor)
    check_can_work(actor, locked)
    if locked.status == Contract.Status.CLOSED:
        raise ApplicationError(
            _("A closed contract cannot change. 已关闭的合同不能变更。"), {"status": [_("Closed. 已关闭。")]}
        )
    description = (description or "").strip()
    if not description:
        raise ApplicationError(
            _("Describe the change. 请填写变更内容。"), {"description": [_("Required. 必填。")]}
        )
    if new_amount is not None:
        new_amount = money(new_amount, "new_amount", allow_zero=True)
        _check_not_below_invoiced(locked, new_amount)
    if new_signed_on is not None and new_signed_on > timezone.localdate():
        raise ApplicationError(
            _("The date cannot be in the future. 日期不能晚于今天。"),
            {"new_signed_on": [_("In the future. 晚于今天。")]},
        )
    change = ContractChange(
        contract=locked,
        description=description,
        new_amount=new_amount,
        new_signed_on=new_signed_on,
        requested_by=actor,
    )
    save_as(change, actor)
    return change


def _check_decider(actor: User, contract: Contract, change: ContractChange) -> None:
    if change.requested_by_id == actor.pk:
        raise NotAllowed(
            _("You cannot decide a change you proposed. 不能审批自己提出的变更。"),
            {"decider": [_("Proposer. 提出人。")]},
        )
    level = decider_level_unit(actor, contract.org_unit)
    if level is None:
        raise NotAllowed(
            _(
                "Only a manager, executive or admin over this contract's org unit may decide its changes. "
                "只有该合同所属组织的主管、高管或管理员可以审批合同变更。"
            ),
            {"decider": [_("No authority. 无审批权限。")]},
        )
    limit = authority_limit(level.kind)
    amount = max(contract.amount, change.new_amount if change.new_amount is not None else contract.amount)
    if limit is not None and amount > limit:
        raise NotAllowed(
            _(
                "%(amount)s is beyond the decision limit of %(limit)s at your level: escalate it. "
                "金额 %(amount)s 超出您所在层级的审批权限 %(limit)s，请提交上级决策。"
            )
            % {"amount": amount, "limit": limit},
            {"decider": [_("Beyond your limit. 超出审批权限。")]},
        )


@transaction.atomic
def contract_change_decide(
    *, change: ContractChange, actor: User, approve: bool, notes: str = ""
) -> ContractChange:
    """Approve or reject a proposed change. The decider is a manager/executive/admin whose scope covers the
    contract's org unit, within the limit for their org-unit level (settings.LTC["GATE_AUTHORITY"]) on the
    larger of the old and new amounts; nobody decides their own proposal. Safe to call twice with the same
    decision."""
    locked = lock_contract(contract=change.contract_id, actor=actor)
    ch = ContractChange.objects.select_for_update().get(pk=change.pk)
    wanted = ContractChange.Status.APPROVED if approve else ContractChange.Status.REJECTED
    if ch.status != ContractChange.Status.PROPOSED:
        already = ch.status == wanted or (approve and ch.status == ContractChange.Status.APPLIED)
        if already and ch.decider_id == actor.pk:
            return ch
        raise ApplicationError(
            _("This change was already decided (%(status)s). 该变更已决策（%(status)s）。")
            % {"status": ch.get_status_display()},
            {"status": [_("Already decided. 已决策。")]},
        )
    _check_decider(actor, locked, ch)
    ch.status, ch.decider, ch.decided_at = wanted, actor, timezone.now()
    ch.decision_notes = notes or ""
    save_as(ch, actor, update_fields=["status", "decider", "decided_at", "decision_notes", "updated_at"])
    return ch


def _rescaled(milestones: list[PaymentMilestone], old_amount: Decimal, new_amount: Decimal) -> None:
    """Spread the change in amount over the un-invoiced part of the milestones, in proportion; invoiced
    parts stay. Shares are recomputed on the new amount. Refuses rather than leave a milestone empty."""
    delta = new_amount - old_amount
    left = [ms.amount - ms.invoiced_amount for ms in milestones]
    total_left = sum(left, Decimal("0.00"))
    target = total_left + delta
    if target < 0:
        raise ApplicationError(
            _("The milestones are invoiced beyond the new amount. 里程碑已开票金额超过变更后金额。"),
            {"new_amount": [_("Below the invoiced amount. 低于已开票金额。")]},
        )
    if total_left == 0:
        # Everything is invoiced: the increase goes to the last milestone (it takes every remainder).
        milestones[-1].amount += delta
    else:
        open_indexes = [i for i, part in enumerate(left) if part > 0]
        given = Decimal("0.00")
        for i in open_indexes[:-1]:
            # Rounded down, so the last open milestone's remainder is never negative.
            part = (left[i] * target / total_left).quantize(CENT, rounding=ROUND_DOWN)
            milestones[i].amount = milestones[i].invoiced_amount + part
            given += part
        last = open_indexes[-1]
        milestones[last].amount = milestones[last].invoiced_amount + (target - given)
    empty = [ms.sequence for ms in milestones if ms.amount <= 0]
    if empty or new_amount <= 0:
        raise ApplicationError(
            _(
                "The change would leave milestones with nothing to pay (%(seqs)s). "
                "该变更会使里程碑金额为零（%(seqs)s）。"
            )
            % {"seqs": ", ".join(f"#{seq}" for seq in empty) or "—"},
            {"new_amount": [_("Milestones would be empty. 里程碑金额将为零。")]},
        )
    shares = Decimal("0.00")
    for ms in milestones[:-1]:
        ms.percent = (ms.amount * HUNDRED / new_amount).quantize(CENT, rounding=ROUND_HALF_UP)
        shares += ms.percent
    milestones[-1].percent = HUNDRED - shares
    if any(not (0 < ms.percent <= HUNDRED) for ms in milestones):
        raise ApplicationError(
            _("The change would give a milestone a share of 0%. 该变更会使某个里程碑比例为0%。"),
            {"new_amount": [_("Milestone share out of range. 里程碑比例超出范围。")]},
        )


@transaction.atomic
def contract_change_apply(*, change: ContractChange, actor: User) -> ContractChange:
    """Apply an APPROVED change: the new amount (never below what is invoiced; milestones rescaled on their
    un-invoiced part) and the new signing date. Safe to call twice (an applied change is returned)."""
    locked = lock_contract(contract=change.contract_id, actor=actor)
    check_can_work(actor, locked)
    ch = ContractChange.objects.select_for_update().get(pk=change.pk)
    if ch.status == ContractChange.Status.APPLIED:
        return ch
    if ch.status != ContractChange.Status.APPROVED:
        raise ApplicationError(
            _(
                "Only an approved change applies (this one is %(status)s). 只有已批准的变更才能生效（当前：%(status)s）。"
            )
            % {"status": ch.get_status_display()},
            {"status": [_("Not approved. 未批准。")]},
        )
    if locked.status == Contract.Status.CLOSED:
        raise ApplicationError(
            _("A closed contract cannot change. 已关闭的合同不能变更。"), {"status": [_("Closed. 已关闭。")]}
        )
    fields = ["updated_at"]
    if ch.new_amount is not None and ch.new_amount != locked.amount:
        _check_not_below_invoiced(locked, ch.new_amount)
        milestones = list(
            PaymentMilestone.objects.select_for_update().filter(contract_id=locked.pk).order_by("sequence")
        )
        if milestones:
            _rescaled(milestones, locked.amount, ch.new_amount)
            for ms in milestones:
                save_as(ms, actor, update_fields=["amount", "percent", "updated_at"])
        locked.amount = ch.new_amount
        fields.append("amount")
    if ch.new_signed_on is not None and ch.new_signed_on != locked.signed_on:
        locked.signed_on = ch.new_signed_on
        fields.append("signed_on")
    save_as(locked, actor, update_fields=fields)
    ch.status, ch.applied_at = ContractChange.Status.APPLIED, timezone.now()
    save_as(ch, actor, update_fields=["status", "applied_at", "updated_at"])
    emit_for("contract.changed", ch, actor=actor)
    return ch
