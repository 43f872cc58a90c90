"""Money on a contract: invoices against milestones, receipts against invoices, overdue marking.

Every service locks the contract row first (then the milestone, then the invoice) and checks amounts under
those locks, so two concurrent writers cannot both pass a check that only one of them fits. The running
totals (PaymentMilestone.invoiced_amount, Contract.invoiced_amount, Invoice.paid_amount,
Contract.collected_amount) are updated under the same locks; the database's check constraints are the
last guard.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from accounts.models import User
from contracts.models import Contract, Invoice, PaymentMilestone, Receipt
from contracts.services.access import check_can_work, lock_contract, money, save_as
from ltc.errors import ApplicationError
from ltc.events import emit_for, emit_many

UNPAID_STATUSES = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)


def _check_executing(contract: Contract) -> None:
    if contract.status != Contract.Status.EXECUTING:
        raise ApplicationError(
            _(
                "Money is recorded only on an executing contract (this one is %(status)s). "
                "只有执行中的合同才能开票或回款（当前状态：%(status)s）。"
            )
            % {"status": contract.get_status_display()},
            {"contract": [_("Not executing. 合同未在执行中。")]},
        )


def _due_days() -> int:
    return int(settings.LTC.get("INVOICE_DUE_DAYS", 30))


@transaction.atomic
def invoice_issue(
    *,
    actor: User,
    number: str,
    amount: Decimal,
    contract: Contract | None = None,
    milestone: PaymentMilestone | None = None,
    issued_on: dt.date | None = None,
    due_on: dt.date | None = None,
    external_id: str | None = None,
) -> Invoice:
    """Issue an invoice on an executing contract, against one of its milestones or the contract as a whole.

    It cannot exceed the milestone's un-invoiced amount nor the contract's. `due_on` defaults to
    `issued_on` + settings.LTC["INVOICE_DUE_DAYS"] (30) days. With an `external_id`, safe to call twice: the
    invoice already issued under that id is returned.
    """
    if contract is None and milestone is None:
        raise ApplicationError(
            _("Say which contract or milestone the invoice is for. 请指定发票所属的合同或里程碑。"),
            {"contract": [_("Required. 必填。")]},
        )
    if contract is not None and milestone is not None and milestone.contract_id != contract.pk:
        raise ApplicationError(
            _("The milestone belongs to another contract. 该里程碑不属于此合同。"),
            {"milestone": [_("Wrong contract. 合同不符。")]},
        )
    contract_id = milestone.contract_id if milestone is not None else contract.pk  # type: ignore[union-attr]
    locked = lock_contract(contract=contract_id, actor=actor)
    check_can_work(actor, locked)
    if external_id:
        existing = Invoice.objects.filter(external_id=external_id).first()
        if existing is not None:
            if existing.contract_id != locked.pk:
                raise ApplicationError(
                    _(
                        "This external id belongs to another contract's invoice. 该外部编号属于其他合同的发票。"
                    ),
                    {"external_id": [_("Already used. 已被使用。")]},
                )
            return existing
    _check_executing(locked)
    amount = money(amount, "amount")
    number = (number or "").strip()
    if not number:
        raise ApplicationError(
            _("An invoice number is required. 发票号必填。"), {"number": [_("Required. 必填。")]}
        )
    issued_on = issued_on or timezone.localdate()
    due_on = due_on or issued_on + dt.timedelta(days=_due_days())
    if due_on < issued_on:
        raise ApplicationError(
            _("An invoice falls due on or after its issue date. 到期日不能早于开票日期。"),
            {"due_on": [_("Before the issue date. 早于开票日期。")]},
        )
    ms = None
    if milestone is not None:
        ms = PaymentMilestone.objects.select_for_update().get(pk=milestone.pk)
        left = ms.amount - ms.invoiced_amount
        if amount > left:
            raise ApplicationError(
                _("An invoice cannot exceed the milestone's amount. 发票金额不能超过里程碑金额。"),
                {
                    "amount": [
                        _("At most %(left)s left on this milestone. 该里程碑最多还可开票 %(left)s。")
                        % {"left": left}
                    ]
                },
            )
    left = locked.amount - locked.invoiced_amount
    if amount > left:
        raise ApplicationError(
            _("An invoice cannot exceed the contract's remaining amount. 发票金额不能超过合同未开票金额。"),
            {
                "amount": [
                    _("At most %(left)s left on this contract. 该合同最多还可开票 %(left)s。")
                    % {"left": left}
                ]
            },
        )
    if Invoice.objects.filter(number=number).exists():
        raise ApplicationError(
            _("This invoice number is already used. 该发票号已存在。"),
            {"number": [_("Already used. 已被使用。")]},
        )
    invoice = Invoice(
        contract=locked,
        milestone=ms,
        number=number,
        external_id=external_id or None,
        amount=amount,
        currency=locked.currency,
        issued_on=issued_on,
        due_on=due_on,
    )
    try:
        with transaction.atomic():
            save_as(invoice, actor)
    except IntegrityError as exc:
        # Another contract's writer took the number or external id between our check and our insert.
        raise ApplicationError(
            _("This invoice number or external id is already used. 该发票号或外部编号已存在。"),
            {"number": [_("Already used. 已被使用。")]},
        ) from exc
    if ms is not None:
        ms.invoiced_amount += amount
        save_as(ms, actor, update_fields=["invoiced_amount", "updated_at"])
    locked.invoiced_amount += amount
    save_as(locked, actor, update_fields=["invoiced_amount", "updated_at"])
    return invoice


@transaction.atomic
def invoice_cancel(*, invoice: Invoice, actor: User, reason: str = "") -> Invoice:
    """Cancel an unpaid invoice and give its amount back to the milestone and the contract.
    Safe to call twice (a cancelled invoice is returned unchanged)."""
    contract_id = Invoice.objects.values_list("contract_id", flat=True).get(pk=invoice.pk)
    locked = lock_contract(contract=contract_id, actor=actor)
    check_can_work(actor, locked)
    inv = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if inv.status == Invoice.Status.CANCELLED:
        return inv
    if inv.paid_amount > 0 or Receipt.objects.filter(invoice_id=inv.pk).exists():
        raise ApplicationError(
            _("Only an unpaid invoice can be cancelled. 只能作废未回款的发票。"),
            {"status": [_("Money was received. 已有回款。")]},
        )
    if inv.milestone_id is not None:
        ms = PaymentMilestone.objects.select_for_update().get(pk=inv.milestone_id)
        ms.invoiced_amount -= inv.amount
        save_as(ms, actor, update_fields=["invoiced_amount", "updated_at"])
    inv.status = Invoice.Status.CANCELLED
    inv._change_reason = reason[:100] if reason else None  # type: ignore[attr-defined]
    save_as(inv, actor, update_fields=["status", "updated_at"])
    locked.invoiced_amount -= inv.amount
    save_as(locked, actor, update_fields=["invoiced_amount", "updated_at"])
    return inv


@transaction.atomic
def receipt_record(
    *,
    invoice: Invoice,
    actor: User,
    amount: Decimal,
    received_on: dt.date | None = None,
    reference: str = "",
    external_id: str | None = None,
) -> Receipt:
    """Record money received against an invoice. Overpaying an invoice is refused.

    Locks the contract, then the invoice, and checks amount ≤ invoice.amount − invoice.paid_amount under
    those locks. With an `external_id`, safe to call twice: the second call returns the first receipt.
    """
    contract_id = Invoice.objects.values_list("contract_id", flat=True).get(pk=invoice.pk)
    locked = lock_contract(contract=contract_id, actor=actor)
    check_can_work(actor, locked)
    if external_id:
        existing = Receipt.objects.filter(external_id=external_id).first()
        if existing is not None:
            if existing.invoice_id != invoice.pk:
                raise ApplicationError(
                    _("This external id belongs to another receipt. 该外部编号已用于其他回款。"),
                    {"external_id": [_("Already used. 已被使用。")]},
                )
            return existing
    inv = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if inv.status == Invoice.Status.CANCELLED:
        raise ApplicationError(
            _("This invoice is cancelled. 该发票已作废。"), {"invoice": [_("Cancelled. 已作废。")]}
        )
    _check_executing(locked)
    amount = money(amount, "amount")
    received_on = received_on or timezone.localdate()
    if received_on > timezone.localdate():
        raise ApplicationError(
            _("Money cannot be received in the future. 到账日期不能晚于今天。"),
            {"received_on": [_("In the future. 晚于今天。")]},
        )
    outstanding = inv.amount - inv.paid_amount
    if amount > outstanding:
        raise ApplicationError(
            _("Overpaying an invoice is refused. 回款金额超过发票未回款金额，已拒绝。"),
            {
                "amount": [
                    _("At most %(left)s is outstanding. 最多还可回款 %(left)s。") % {"left": outstanding}
                ]
            },
        )
    receipt = Receipt(
        contract=locked,
        invoice=inv,
        amount=amount,
        currency=inv.currency,
        received_on=received_on,
        reference=(reference or "")[:64],
        external_id=external_id or None,
        recorded_by=actor,
    )
    try:
        with transaction.atomic():
            save_as(receipt, actor)
    except IntegrityError as exc:
        raise ApplicationError(
            _("This external id belongs to another receipt. 该外部编号已用于其他回款。"),
            {"external_id": [_("Already used. 已被使用。")]},
        ) from exc
    inv.paid_amount += amount
    inv.status = Invoice.Status.PAID if inv.paid_amount == inv.amount else Invoice.Status.PARTIALLY_PAID
    save_as(inv, actor, update_fields=["paid_amount", "status", "updated_at"])
    locked.collected_amount += amount
    save_as(locked, actor, update_fields=["collected_amount", "updated_at"])
    emit_for("receipt.recorded", receipt, actor=actor)
    return receipt


@transaction.atomic
def invoice_overdue_mark(*, as_of: dt.date) -> list[int]:
    """Mark unpaid invoices past due on `as_of` and not yet notified (overdue_notified_on = as_of); return
    their ids. Once per invoice: a second run finds nothing to mark. The rows are locked, and PostgreSQL
    re-checks the condition on rows a concurrent run has just marked, so two runs never mark one twice."""
    invoices = list(
        Invoice.objects.select_for_update()
        .filter(status__in=UNPAID_STATUSES, due_on__lt=as_of, overdue_notified_on__isnull=True)
        .order_by("pk")
    )
    now = timezone.now()
    for invoice in invoices:
        invoice.overdue_notified_on = as_of
        invoice.updated_at = now
    if invoices:
        bulk_update_with_history(
            invoices, Invoice, ["overdue_notified_on", "updated_at"], batch_size=500, default_user=None
        )
        emit_many("invoice.overdue", invoices)
    return [invoice.pk for invoice in invoices]
