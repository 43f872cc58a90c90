"""A contract's life: opened from a won opportunity (or imported from the ERP), confirmed, delivered
milestone by milestone, and closed with an evaluation once delivered, invoiced and collected in full."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import scope_for
from contracts.models import Contract, ContractNumberSequence, PaymentMilestone
from contracts.services.access import (
    CASH_ROLES,
    CENT,
    check_can_work,
    lock_contract,
    money,
    save_as,
)
from ltc.errors import ApplicationError, NotAllowed
from ltc.events import emit_for
from pipeline.models import Opportunity
from pipeline.selectors import opportunity_visible_to
from pipeline.services.opportunities import opportunity_mark_won
from relationships.models import Customer, CustomerTeamMember

HUNDRED = Decimal("100")


def _today() -> dt.date:
    return timezone.localdate()


def _check_not_future(value: dt.date, field: str) -> None:
    if value > _today():
        raise ApplicationError(
            _("The date cannot be in the future. 日期不能晚于今天。"),
            {field: [_("In the future. 晚于今天。")]},
        )


def _percent(value: Any, field: str) -> Decimal:
    try:
        pct = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        pct = None
    if pct is None or not pct.is_finite() or pct <= 0 or pct > HUNDRED or pct != pct.quantize(CENT):
        raise ApplicationError(
            _("A milestone share is a percentage above 0 and at most 100. 里程碑比例须大于0且不超过100。"),
            {field: [_("Invalid share. 比例无效。")]},
        )
    return pct


def milestone_plan(
    *, amount: Decimal, signed_on: dt.date, payment_terms: str, milestones: Iterable[Mapping] | None = None
) -> list[dict]:
    """The payment milestones for `amount`: from settings.LTC["PAYMENT_TERMS"][payment_terms]
    ((kind, percent, days after signing) each), or from `milestones` ({"kind", "percent", and "planned_on"
    or "days"} each) for custom terms.

    Amounts are amount × percent rounded to the cent; the LAST milestone takes the rounding remainder, so the
    milestones always sum exactly to the contract amount. The shares must sum to 100%.
    """
    if payment_terms not in Contract.PaymentTerms.values:
        raise ApplicationError(
            _("Unknown payment terms. 未知的付款条件。"), {"payment_terms": [_("Unknown. 未知。")]}
        )
    rows: list[tuple[str, Decimal, dt.date]] = []
    if milestones is None:
        terms = settings.LTC["PAYMENT_TERMS"].get(payment_terms)
        if not terms:
            raise ApplicationError(
                _("These payment terms need their milestones listed. 该付款条件需要列出回款里程碑。"),
                {"milestones": [_("Required. 必填。")]},
            )
        for kind, pct, days in terms:
            rows.append((kind, _percent(pct, "payment_terms"), signed_on + dt.timedelta(days=int(days))))
    else:
        for index, item in enumerate(milestones):
            field = f"milestones[{index}]"
            kind = item.get("kind")
            if kind not in PaymentMilestone.Kind.values:
                raise ApplicationError(
                    _("Unknown milestone kind. 未知的里程碑类型。"), {field: [_("Unknown kind. 类型未知。")]}
                )
            planned_on = item.get("planned_on")
            if planned_on is None:
                planned_on = signed_on + dt.timedelta(days=int(item.get("days", 0)))
            rows.append((kind, _percent(item.get("percent"), field), planned_on))
    if not rows:
        raise ApplicationError(
            _("A contract needs at least one payment milestone. 合同至少需要一个回款里程碑。"),
            {"milestones": [_("Required. 必填。")]},
        )
    if sum(pct for _kind, pct, _on in rows) != HUNDRED:
        raise ApplicationError(
            _("Milestone shares must add up to 100%. 里程碑比例之和必须为100%。"),
            {"milestones": [_("Shares do not sum to 100. 比例之和不等于100。")]},
        )
    plan: list[dict] = []
    allotted = Decimal("0.00")
    for sequence, (kind, pct, planned_on) in enumerate(rows, start=1):
        if sequence == len(rows):
            part = amount - allotted
        else:
            part = (amount * pct / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
            allotted += part
        plan.append(
            {"sequence": sequence, "kind": kind, "percent": pct, "amount": part, "planned_on": planned_on}
        )
    return plan


def _next_contract_number(year: int) -> str:
    """The next free "HT-<year>-<6 digits>" number, from a per-year counter row locked for the transaction."""
    ContractNumberSequence.objects.get_or_create(year=year)
    seq = ContractNumberSequence.objects.select_for_update().get(year=year)
    while True:
        seq.last_value += 1
        number = f"HT-{year}-{seq.last_value:06d}"
        # A number typed in by hand (or imported) may already hold the slot: skip it.
        if not Contract.objects.filter(number=number).exists():
            break
    seq.save(update_fields=["last_value"])
    return number


def _check_number_free(number: str) -> str:
    number = (number or "").strip()
    if not number:
        raise ApplicationError(
            _("A contract number is required. 合同编号必填。"), {"number": [_("Required. 必填。")]}
        )
    if Contract.objects.filter(number=number).exists():
        raise ApplicationError(
            _("This contract number is already used. 该合同编号已存在。"),
            {"number": [_("Already used. 已被使用。")]},
        )
    return number


def _insert_contract(*, actor: User, plan: list[dict], **fields: Any) -> Contract:
    """Insert the contract and its milestones; a unique clash from a concurrent writer becomes a 400."""
    contract = Contract(**fields)
    try:
        with transaction.atomic():
            save_as(contract, actor)
    except IntegrityError as exc:
        raise ApplicationError(
            _("This contract number or external id is already used. 该合同编号或外部编号已存在。"),
            {"number": [_("Already used. 已被使用。")]},
        ) from exc
    for row in plan:
        save_as(PaymentMilestone(contract=contract, **row), actor)
    emit_for("contract.signed", contract, actor=actor)
    return contract


@transaction.atomic
def opportunity_win(
    *,
    opportunity: Opportunity,
    actor: User,
    payment_terms: str = Contract.PaymentTerms.STANDARD,
    signed_on: dt.date | None = None,
    number: str | None = None,
    reason: str = "",
) -> Contract:
    """Win the opportunity (pipeline's `opportunity_mark_won`: NEGOTIATE + an ATC GO) and open its contract
    in RECEIVED, in one transaction.

    Safe to call twice: the opportunity row is locked first, and an opportunity that already has its
    contract returns that contract unchanged — one contract per won opportunity.
    """
    if not opportunity_visible_to(actor).filter(pk=opportunity.pk).exists():
        raise NotAllowed(
            _("You cannot see this opportunity. 您无权查看该机会点。"),
            {"opportunity": [_("Not found. 不存在。")]},
        )
    opp = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    existing = Contract.objects.filter(opportunity_id=opp.pk).first()
    if existing is not None:
        return existing
    signed_on = signed_on or _today()
    _check_not_future(signed_on, "signed_on")
    plan = milestone_plan(amount=opp.amount, signed_on=signed_on, payment_terms=payment_terms)
    number = _check_number_free(number) if number is not None else None
    opp = opportunity_mark_won(opportunity=opp, actor=actor, reason=reason)
    return _insert_contract(
        actor=actor,
        plan=plan,
        number=number or _next_contract_number(signed_on.year),
        title=opp.name[:200],
        opportunity=opp,
        customer_id=opp.customer_id,
        owner_id=opp.owner_id,
        org_unit_id=opp.org_unit_id,
        amount=opp.amount,
        currency=opp.currency,
        signed_on=signed_on,
        payment_terms=payment_terms,
        status=Contract.Status.RECEIVED,
    )


def _check_can_open_for(actor: User, customer: Customer) -> None:
    """Who may open a contract for a customer: an admin, a manager above the customer's account
    department, the customer's owner, or its AR/FR."""
    if actor.sees_everything or customer.owner_id == actor.pk:
        return
    if actor.is_manager and scope_for(actor).covers_unit(customer.account_dept):
        return
    if CustomerTeamMember.objects.filter(
        customer_id=customer.pk, user_id=actor.pk, role__in=CASH_ROLES
    ).exists():
        return
    raise NotAllowed(
        _(
            "Only the customer's owner, its AR or FR, a manager above or an admin may add its contracts. "
            "只有客户负责人、客户经理(AR)或交付经理(FR)、上级主管或管理员可以为该客户添加合同。"
        )
    )


@transaction.atomic
def contract_create(
    *,
    actor: User,
    customer: Customer,
    number: str,
    amount: Decimal,
    signed_on: dt.date,
    payment_terms: str,
    external_id: str | None = None,
    currency: str = "CNY",
    owner: User | None = None,
    milestones: Iterable[Mapping] | None = None,
    title: str = "",
) -> Contract:
    """A contract without an opportunity (imported from the ERP), in RECEIVED.

    With an `external_id`, safe to call twice: the contract already imported under that id is returned.
    Milestones come from the payment terms unless listed ({"kind", "percent", "planned_on" or "days"}).
    """
    _check_can_open_for(actor, customer)
    if external_id:
        existing = Contract.objects.filter(external_id=external_id).first()
        if existing is not None:
            if existing.customer_id != customer.pk:
                raise ApplicationError(
                    _(
                        "This external id belongs to another customer's contract. 该外部编号属于其他客户的合同。"
                    ),
                    {"external_id": [_("Already used. 已被使用。")]},
                )
            return existing
    amount = money(amount, "amount", allow_zero=True)
    _check_not_future(signed_on, "signed_on")
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ApplicationError(
            _("A currency is a 3-letter code. 币种须为3位字母代码。"), {"currency": [_("Invalid. 无效。")]}
        )
    plan = milestone_plan(
        amount=amount,
        signed_on=signed_on,
        payment_terms=payment_terms,
        milestones=list(milestones) if milestones is not None else None,
    )
    number = _check_number_free(number)
    owner = owner or customer.owner or actor
    return _insert_contract(
        actor=actor,
        plan=plan,
        number=number,
        title=title[:200],
        external_id=external_id or None,
        customer=customer,
        owner=owner,
        org_unit_id=customer.account_dept_id,
        amount=amount,
        currency=currency,
        signed_on=signed_on,
        payment_terms=payment_terms,
        status=Contract.Status.RECEIVED,
    )


def _check_status(contract: Contract, *allowed: str) -> None:
    if contract.status not in allowed:
        raise ApplicationError(
            _("Not allowed while the contract is %(status)s. 合同当前状态（%(status)s）不允许此操作。")
            % {"status": contract.get_status_display()},
            {"status": [_("Wrong status. 状态不符。")]},
        )


@transaction.atomic
def contract_confirm(*, contract: Contract, actor: User) -> Contract:
    """RECEIVED → EXECUTING. Safe to call twice (an executing contract is returned unchanged)."""
    locked = lock_contract(contract=contract, actor=actor)
    check_can_work(actor, locked)
    if locked.status == Contract.Status.EXECUTING:
        return locked
    _check_status(locked, Contract.Status.RECEIVED)
    locked.status, locked.confirmed_at = Contract.Status.EXECUTING, timezone.now()
    save_as(locked, actor, update_fields=["status", "confirmed_at", "updated_at"])
    return locked


@transaction.atomic
def milestone_achieve(
    *, milestone: PaymentMilestone, actor: User, achieved_on: dt.date | None = None
) -> PaymentMilestone:
    """Record that a milestone was reached (delivery, PAC, FAC…). Safe to call twice: an achieved
    milestone keeps its first date."""
    locked = lock_contract(contract=milestone.contract_id, actor=actor)
    check_can_work(actor, locked)
    ms = PaymentMilestone.objects.select_for_update().get(pk=milestone.pk)
    if ms.achieved_on is not None:
        return ms
    _check_status(locked, Contract.Status.EXECUTING)
    achieved_on = achieved_on or _today()
    _check_not_future(achieved_on, "achieved_on")
    if achieved_on < locked.signed_on:
        raise ApplicationError(
            _("A milestone cannot be reached before signing. 里程碑达成日期不能早于签约日期。"),
            {"achieved_on": [_("Before signing. 早于签约日期。")]},
        )
    ms.achieved_on = achieved_on
    save_as(ms, actor, update_fields=["achieved_on", "updated_at"])
    return ms


@transaction.atomic
def contract_close(*, contract: Contract, actor: User, evaluation: str, evaluation_score: int) -> Contract:
    """EXECUTING → CLOSED with an evaluation, only once every milestone is achieved and the whole amount is
    invoiced and collected. Safe to call twice (a closed contract is returned unchanged)."""
    locked = lock_contract(contract=contract, actor=actor)
    check_can_work(actor, locked)
    if locked.status == Contract.Status.CLOSED:
        return locked
    _check_status(locked, Contract.Status.EXECUTING)
    errors: dict[str, list[str]] = {}
    evaluation = (evaluation or "").strip()
    if not evaluation:
        errors["evaluation"] = [_("Required. 必填。")]
    if (
        not isinstance(evaluation_score, int)
        or isinstance(evaluation_score, bool)
        or not 1 <= evaluation_score <= 5
    ):
        errors["evaluation_score"] = [_("A score from 1 to 5. 评分须为1到5。")]
    if errors:
        raise ApplicationError(_("Evaluate the contract to close it. 关闭合同需要填写评价。"), errors)
    pending = list(
        PaymentMilestone.objects.filter(contract_id=locked.pk, achieved_on__isnull=True)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    if pending:
        errors["milestones"] = [
            _("Milestones not yet achieved: %(seqs)s. 尚未达成的里程碑：%(seqs)s。")
            % {"seqs": ", ".join(f"#{seq}" for seq in pending)}
        ]
    if locked.invoiced_amount != locked.amount:
        errors["invoiced_amount"] = [
            _("Invoiced %(done)s of %(total)s. 已开票 %(done)s / %(total)s。")
            % {"done": locked.invoiced_amount, "total": locked.amount}
        ]
    if locked.collected_amount != locked.amount:
        errors["collected_amount"] = [
            _("Collected %(done)s of %(total)s. 已回款 %(done)s / %(total)s。")
            % {"done": locked.collected_amount, "total": locked.amount}
        ]
    if errors:
        raise ApplicationError(
            _(
                "A contract closes only when fully delivered, invoiced and collected. "
                "合同须全部交付、全部开票并全部回款后才能关闭。"
            ),
            errors,
        )
    locked.status, locked.closed_at = Contract.Status.CLOSED, timezone.now()
    locked.evaluation, locked.evaluation_score = evaluation, evaluation_score
    save_as(
        locked, actor, update_fields=["status", "closed_at", "evaluation", "evaluation_score", "updated_at"]
    )
    return locked
