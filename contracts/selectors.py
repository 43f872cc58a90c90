"""Reads of contracts and cash, each behind one visibility selector."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import Scope, outer_column, row_in, scope_cached, scope_for
from contracts.models import Contract, Invoice, PaymentMilestone, Receipt
from ltc.errors import ApplicationError
from pipeline.models import Opportunity
from pipeline.selectors import opportunity_scope_q
from relationships.selectors import customer_of_q


def contract_scope_q(scope: Scope, *, prefix: str = "") -> Q:
    """Contracts filed below, owned by the actor or someone below, of a visible customer or opportunity.

    The customer and the opportunity are tested row by row (`row_in`, see `customer_of_q`), not through
    IN subqueries collecting every visible customer and opportunity: those cost more than the page itself
    at 1M opportunities. A contract without an opportunity is matched by its other conditions.
    """
    if scope.everything:
        return Q()
    # The deal's customer is looked up only when it is not the contract's (tested just before): a fifth of
    # the reads of a region's invoice page went to testing one customer twice.
    customer_id = f"{prefix}customer_id"
    deals = Opportunity.objects.filter(opportunity_scope_q(scope, unless_customer=outer_column(customer_id)))
    return (
        scope.units_q(f"{prefix}org_unit")
        | scope.people_q(f"{prefix}owner")
        | customer_of_q(scope, f"{prefix}customer")
        | row_in(deals, f"{prefix}opportunity_id", outer_fields=(customer_id,))
    )


def _contract_of_q(scope: Scope) -> Q:
    """Records whose contract is visible, tested row by row (`accounts.selectors.row_in`)."""
    return row_in(Contract.objects.filter(contract_scope_q(scope)), "contract_id")


@scope_cached
def contract_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[Contract]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return Contract.objects.none()
    return Contract.objects.filter(contract_scope_q(scope)).select_related("customer", "owner", "org_unit")


@scope_cached
def milestone_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[PaymentMilestone]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return PaymentMilestone.objects.none()
    qs = PaymentMilestone.objects.select_related("contract")
    return qs if scope.everything else qs.filter(_contract_of_q(scope))


@scope_cached
def invoice_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[Invoice]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return Invoice.objects.none()
    qs = Invoice.objects.select_related("contract", "milestone")
    return qs if scope.everything else qs.filter(_contract_of_q(scope))


@scope_cached
def receipt_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[Receipt]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return Receipt.objects.none()
    qs = Receipt.objects.select_related("contract", "invoice")
    return qs if scope.everything else qs.filter(_contract_of_q(scope))


# --- Balances, receivables aging and DSO ---------------------------------------------------------------

UNPAID_INVOICE_STATUSES = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
MONEY = DecimalField(max_digits=18, decimal_places=2)
ZERO = Decimal("0.00")


def contract_balance(contract: Contract) -> dict[str, Decimal]:
    """The running totals of one contract: still to invoice, invoiced but not collected, and still to collect."""
    return {
        "amount": contract.amount,
        "invoiced": contract.invoiced_amount,
        "collected": contract.collected_amount,
        "to_invoice": contract.amount - contract.invoiced_amount,
        "receivable": contract.invoiced_amount - contract.collected_amount,
        "to_collect": contract.amount - contract.collected_amount,
    }


def _receivable_at(invoices: QuerySet[Invoice], as_of: dt.date) -> tuple[QuerySet[Invoice], Q]:
    """Annotate `outstanding` as it stood at the end of `as_of`, and the condition for "was receivable then".

    Outstanding then = amount − paid_amount + the receipts dated after `as_of`: exact for any past day, and
    for today the subquery is empty. Only invoices issued by `as_of` count; cancelled invoices never do.
    """
    later = (
        Receipt.objects.filter(invoice_id=OuterRef("pk"), received_on__gt=as_of)
        .order_by()
        .values("invoice_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    qs = invoices.exclude(status=Invoice.Status.CANCELLED).annotate(
        outstanding=ExpressionWrapper(
            F("amount") - F("paid_amount") + Coalesce(Subquery(later, output_field=MONEY), Value(ZERO)),
            output_field=MONEY,
        )
    )
    unpaid_then = Q(issued_on__lte=as_of) & (
        Q(status__in=UNPAID_INVOICE_STATUSES)
        | Q(Exists(Receipt.objects.filter(invoice_id=OuterRef("pk"), received_on__gt=as_of)))
    )
    return qs, unpaid_then


def aging_buckets() -> list[dict]:
    """The buckets of days overdue from settings.LTC["AGING_BUCKETS"] (upper bounds, e.g. [30, 90, 180]):
    not yet due, 0–30, 31–90, 91–180, >180."""
    bounds = sorted(int(b) for b in settings.LTC["AGING_BUCKETS"])
    buckets = [{"key": "not_due", "label": _("Not yet due 未到期"), "min_days": None, "max_days": -1}]
    low = 0
    for high in bounds:
        buckets.append(
            {
                "key": f"{low}_{high}",
                "label": _("%(low)s–%(high)s days overdue 逾期%(low)s–%(high)s天")
                % {"low": low, "high": high},
                "min_days": low,
                "max_days": high,
            }
        )
        low = high + 1
    buckets.append(
        {
            "key": f"over_{low - 1}",
            "label": _("Over %(days)s days overdue 逾期超过%(days)s天") % {"days": low - 1},
            "min_days": low,
            "max_days": None,
        }
    )
    return buckets


def _bucket_q(bucket: dict, as_of: dt.date) -> Q:
    """Days overdue = as_of − due_on (an invoice due today is 0 days overdue), as a filter on due_on."""
    query = Q()
    if bucket["max_days"] is not None:
        query &= Q(due_on__gte=as_of - dt.timedelta(days=bucket["max_days"]))
    if bucket["min_days"] is not None:
        query &= Q(due_on__lte=as_of - dt.timedelta(days=bucket["min_days"]))
    return query


def receivables_aging(*, user: User, as_of: dt.date | None = None, scope: Scope | None = None) -> dict:
    """Outstanding invoice amounts (and counts) by bucket of days overdue at the end of `as_of` (default
    today), per currency, over the invoices `user` may see. One query: conditional aggregation in the
    database, grouped by currency.

    Returns {"as_of", "buckets": [{"key", "label", "min_days", "max_days"}],
             "by_currency": {"CNY": {"amounts": {key: Decimal}, "counts": {key: int}, "total": Decimal}}}.
    """
    as_of = as_of or timezone.localdate()
    buckets = aging_buckets()
    qs, unpaid_then = _receivable_at(invoice_visible_to(user, scope=scope), as_of)
    aggregates: dict = {}
    for index, bucket in enumerate(buckets):
        condition = _bucket_q(bucket, as_of)
        aggregates[f"amount_{index}"] = Sum("outstanding", filter=condition)
        aggregates[f"count_{index}"] = Count("pk", filter=condition)
    rows = (
        qs.filter(unpaid_then, outstanding__gt=0)
        .order_by()
        .values("currency")
        .annotate(**aggregates)
        .order_by("currency")
    )
    by_currency: dict[str, dict] = {}
    for row in rows:
        amounts = {b["key"]: row[f"amount_{i}"] or ZERO for i, b in enumerate(buckets)}
        counts = {b["key"]: row[f"count_{i}"] for i, b in enumerate(buckets)}
        by_currency[row["currency"]] = {
            "amounts": amounts,
            "counts": counts,
            "total": sum(amounts.values(), ZERO),
        }
    return {"as_of": as_of, "buckets": buckets, "by_currency": by_currency}


def dso(
    *,
    user: User,
    as_of: dt.date | None = None,
    days: int = 90,
    currency: str = "CNY",
    scope: Scope | None = None,
) -> Decimal | None:
    """Days sales outstanding over the invoices `user` may see, in one currency:

        DSO = receivables outstanding at the end of `as_of` ÷ amount invoiced in the last `days` days × `days`

    where "the last `days` days" are the issue dates in (as_of − days, as_of], and receivables outstanding are
    the unpaid parts of the (non-cancelled) invoices issued by `as_of`. Rounded to 0.01 day; None when
    nothing was invoiced in the window. One query.
    """
    as_of = as_of or timezone.localdate()
    if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
        raise ApplicationError(
            _("The DSO window is a whole number of days above zero. DSO统计天数须为正整数。"),
            {"days": [_("Must be positive. 必须为正数。")]},
        )
    window = Q(issued_on__gt=as_of - dt.timedelta(days=days), issued_on__lte=as_of)
    qs, unpaid_then = _receivable_at(invoice_visible_to(user, scope=scope), as_of)
    # Every row kept is issued by as_of, so "outstanding > 0" is exactly "receivable then"; the Exists
    # in `unpaid_then` only narrows the scan and must stay in WHERE (not in an aggregate's FILTER).
    totals = qs.filter(Q(currency=currency) & (unpaid_then | window)).aggregate(
        receivable=Sum("outstanding", filter=Q(outstanding__gt=0)),
        invoiced=Sum("amount", filter=window),
    )
    invoiced = totals["invoiced"] or ZERO
    if invoiced <= 0:
        return None
    receivable = totals["receivable"] or ZERO
    return (receivable / invoiced * days).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
