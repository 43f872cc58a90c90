"""Funnel figures from lead to cash, cut by period, org unit (with subtree), owner and customer tier.

Every figure goes through the visibility selectors, so a manager's funnel is their subtree's and a rep's is their
own. The figures are computed live with one aggregate query per stage; the dashboard reads the same shapes from
the rollup tables (ltc.services.funnel_rollup_refresh).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import OrgUnit, User
from accounts.selectors import Scope, scope_for
from contracts.models import Contract, Invoice, Receipt
from contracts.selectors import contract_scope_q
from pipeline.models import Lead, Opportunity, Stage
from pipeline.selectors import lead_scope_q, opportunity_scope_q
from relationships.models import CustomerTier

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class FunnelFilter:
    period_start: dt.date
    period_end: dt.date  # inclusive
    org_unit: OrgUnit | None = None
    owner: User | None = None
    customer_tier: str | None = None

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The period as aware datetimes [start, end) in the current time zone."""
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(self.period_start, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(self.period_end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return start, end


def _cut(qs: QuerySet, flt: FunnelFilter, *, unit_field: str, owner_field: str, tier_field: str) -> QuerySet:
    if flt.org_unit is not None:
        qs = qs.filter(**{f"{unit_field}__path__startswith": flt.org_unit.path})
    if flt.owner is not None:
        qs = qs.filter(**{owner_field: flt.owner})
    if flt.customer_tier:
        qs = qs.filter(**{tier_field: flt.customer_tier})
    return qs


def _days(value: dt.timedelta | None) -> float | None:
    if value is None:
        return None
    return round(value.total_seconds() / 86400, 1) + 0.0  # + 0.0: never a negative zero


def _money(value: Decimal | None) -> Decimal:
    return (value or ZERO).quantize(Decimal("0.01"))


#: What `funnel_metrics(group_by=...)` may cut by.
GROUP_BY_CHOICES: tuple[str, ...] = ("org_unit", "owner", "customer_tier", "month")
OPEN_STAGES: tuple[str, ...] = (Stage.VALIDATE, Stage.GUIDE, Stage.BID, Stage.NEGOTIATE)


@dataclass(frozen=True)
class _Paths:
    """Where one record type keeps the fields a funnel is grouped by."""

    unit: str
    owner: str
    tier: str

    def group_expr(self, group_by: str | None, month_field: str | None):
        if group_by is None:
            return None
        if group_by == "month":
            return TruncMonth(month_field) if month_field else None
        return F({"org_unit": self.unit, "owner": self.owner, "customer_tier": self.tier}[group_by])


_OWN = _Paths(unit="org_unit_id", owner="owner_id", tier="customer__tier")
_VIA_CONTRACT = _Paths(
    unit="contract__org_unit_id", owner="contract__owner_id", tier="contract__customer__tier"
)


def _group_key(value: Any) -> Any:
    """Month keys as "YYYY-MM" (TruncMonth gives a date or an aware datetime in the current time zone)."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.strftime("%Y-%m")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m")
    return value


def _grouped(qs: QuerySet, expr, **aggregates) -> dict[Any, dict]:
    """One query: {None: row} without a group expression, else {group key: row} for the groups that exist."""
    if expr is None:
        return {None: qs.aggregate(**aggregates)}
    rows = qs.annotate(group_key=expr).values("group_key").annotate(**aggregates).order_by()
    return {_group_key(row.pop("group_key")): row for row in rows}


def _funnel_rows(*, scope: Scope, flt: FunnelFilter, group_by: str | None) -> dict[str, dict[Any, dict]]:
    """The seven aggregate queries (six for month groups: the open pipeline is a snapshot, not a flow)."""
    start, end = flt.bounds()
    rows: dict[str, dict[Any, dict]] = {}

    leads = _cut(
        Lead.objects.filter(lead_scope_q(scope)),
        flt,
        unit_field="org_unit",
        owner_field="owner",
        tier_field="customer__tier",
    )
    rows["leads"] = _grouped(
        leads.filter(created_at__gte=start, created_at__lt=end),
        _OWN.group_expr(group_by, "created_at"),
        count=Count("id"),
        amount=Sum("estimated_amount"),
        qualified=Count("id", filter=~Q(grade="") & ~Q(grade=Lead.Grade.D) | Q(status=Lead.Status.CONVERTED)),
        converted=Count("id", filter=Q(status=Lead.Status.CONVERTED)),
    )

    opps = _cut(
        Opportunity.objects.filter(opportunity_scope_q(scope)),
        flt,
        unit_field="org_unit",
        owner_field="owner",
        tier_field="customer__tier",
    )
    rows["created"] = _grouped(
        opps.filter(created_at__gte=start, created_at__lt=end),
        _OWN.group_expr(group_by, "created_at"),
        count=Count("id"),
        amount=Sum("amount"),
        lead_to_opp=Avg(
            ExpressionWrapper(F("created_at") - F("lead__created_at"), output_field=DurationField()),
            filter=Q(lead__isnull=False),
        ),
    )
    rows["closed"] = _grouped(
        opps.filter(closed_at__gte=start, closed_at__lt=end),
        _OWN.group_expr(group_by, "closed_at"),
        won=Count("id", filter=Q(stage=Stage.WON)),
        won_amount=Sum("amount", filter=Q(stage=Stage.WON)),
        lost=Count("id", filter=Q(stage=Stage.LOST)),
        lost_amount=Sum("amount", filter=Q(stage=Stage.LOST)),
        abandoned=Count("id", filter=Q(stage=Stage.ABANDONED)),
        opp_to_won=Avg(
            ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField()),
            filter=Q(stage=Stage.WON),
        ),
    )
    open_expr = _OWN.group_expr(group_by, None)
    rows["open"] = {}
    if group_by is None or open_expr is not None:
        open_qs = opps.filter(stage__in=[str(s) for s in OPEN_STAGES])
        if open_expr is not None:
            open_qs = open_qs.annotate(group_key=open_expr)
        for row in (
            open_qs.values(*(["group_key"] if open_expr is not None else []), "stage")
            .annotate(count=Count("id"), amount=Sum("amount"))
            .order_by()
        ):
            key = _group_key(row.get("group_key"))
            rows["open"].setdefault(key, {})[row["stage"]] = {
                "count": row["count"],
                "amount": _money(row["amount"]),
            }

    contracts = _cut(
        Contract.objects.filter(contract_scope_q(scope)),
        flt,
        unit_field="org_unit",
        owner_field="owner",
        tier_field="customer__tier",
    )
    rows["contracts"] = _grouped(
        contracts.filter(signed_on__gte=flt.period_start, signed_on__lte=flt.period_end),
        _OWN.group_expr(group_by, "signed_on"),
        count=Count("id"),
        amount=Sum("amount"),
    )
    visible_contracts = contracts.values("id")
    rows["invoices"] = _grouped(
        Invoice.objects.filter(
            contract_id__in=visible_contracts, issued_on__gte=flt.period_start, issued_on__lte=flt.period_end
        ).exclude(status=Invoice.Status.CANCELLED),
        _VIA_CONTRACT.group_expr(group_by, "issued_on"),
        count=Count("id"),
        amount=Sum("amount"),
    )
    rows["receipts"] = _grouped(
        Receipt.objects.filter(
            contract_id__in=visible_contracts,
            received_on__gte=flt.period_start,
            received_on__lte=flt.period_end,
        ),
        _VIA_CONTRACT.group_expr(group_by, "received_on"),
        count=Count("id"),
        amount=Sum("amount"),
        sign_to_cash=Avg(
            ExpressionWrapper(F("received_on") - F("contract__signed_on"), output_field=DurationField())
        ),
    )
    return rows


def _funnel(rows: dict[str, dict[Any, dict]], key: Any) -> dict:
    """The funnel of one group (`key` None: the whole cut) from the rows of `_funnel_rows`."""
    lead_row = rows["leads"].get(key) or {"count": 0, "amount": None, "qualified": 0, "converted": 0}
    created = rows["created"].get(key) or {"count": 0, "amount": None, "lead_to_opp": None}
    closed = rows["closed"].get(key) or {}
    contract_row = rows["contracts"].get(key) or {"count": 0, "amount": None}
    invoice_row = rows["invoices"].get(key) or {"count": 0, "amount": None}
    receipt_row = rows["receipts"].get(key) or {"count": 0, "amount": None, "sign_to_cash": None}
    won, lost = closed.get("won", 0), closed.get("lost", 0)
    return {
        "stages": {
            "leads": {"count": lead_row["count"], "amount": _money(lead_row["amount"])},
            "qualified": {"count": lead_row["qualified"]},
            "converted": {"count": lead_row["converted"]},
            "opportunities": {"count": created["count"], "amount": _money(created["amount"])},
            "won": {"count": won, "amount": _money(closed.get("won_amount"))},
            "lost": {"count": lost, "amount": _money(closed.get("lost_amount"))},
            "abandoned": {"count": closed.get("abandoned", 0)},
            "contracted": {"count": contract_row["count"], "amount": _money(contract_row["amount"])},
            "invoiced": {"count": invoice_row["count"], "amount": _money(invoice_row["amount"])},
            "collected": {"count": receipt_row["count"], "amount": _money(receipt_row["amount"])},
        },
        "open_pipeline": rows["open"].get(key, {}),
        "rates": {
            "lead_to_opportunity": _ratio(lead_row["converted"], lead_row["count"]),
            "win_rate": _ratio(won, won + lost),
        },
        "cycle_days": {
            "lead_to_opportunity": _days(created["lead_to_opp"]),
            "opportunity_to_won": _days(closed.get("opp_to_won")),
            "signing_to_cash": _days(receipt_row["sign_to_cash"]),
        },
    }


def _group_sort_key(key: Any) -> tuple:
    return (key is None, str(type(key)), key if key is not None else 0)


def funnel_metrics(
    *, user: User, flt: FunnelFilter, scope: Scope | None = None, group_by: str | None = None
) -> dict:
    """Counts and amounts per LTC stage, conversion and win rates, mean cycle times (days).

    Counts and amounts of leads and opportunities are by creation in the period, won/lost/abandoned by closing
    in the period, contracts/invoices/receipts by their signing/issue/receipt date; `open_pipeline` is today's
    open deals (not bound to the period). With `group_by` (one of GROUP_BY_CHOICES) the answer also has
    `groups`: one funnel per org unit / owner / customer tier / month ("YYYY-MM") in which something happened,
    keyed by the record's own unit/owner (no subtree roll-up), sorted by key with the empty key (records
    without a tier, e.g. a prospect's lead) last. Month groups have an empty open pipeline. A constant number
    of queries: 7, and 7 more with `group_by`, whatever the data.
    """
    if group_by is not None and group_by not in GROUP_BY_CHOICES:
        raise ValueError(f"group_by must be one of {GROUP_BY_CHOICES}")
    scope = scope or scope_for(user)
    result = {
        "period": {"start": flt.period_start.isoformat(), "end": flt.period_end.isoformat()},
        **_funnel(_funnel_rows(scope=scope, flt=flt, group_by=None), None),
    }
    if group_by is not None:
        rows = _funnel_rows(scope=scope, flt=flt, group_by=group_by)
        keys: set[Any] = set()
        for part in rows.values():
            keys.update(part)
        result["groups"] = [{"key": key, **_funnel(rows, key)} for key in sorted(keys, key=_group_sort_key)]
    return result


def funnel_group_labels(group_by: str | None, keys: list[Any]) -> dict[Any, str]:
    """Display names of group keys: org unit names, people's names, tier labels, months (one query at most)."""
    present = [key for key in keys if key is not None]
    if group_by == "org_unit":
        return dict(OrgUnit.objects.filter(pk__in=present).values_list("id", "name"))
    if group_by == "owner":
        return {
            pk: full_name or username
            for pk, full_name, username in User.objects.filter(pk__in=present).values_list(
                "id", "full_name", "username"
            )
        }
    if group_by == "customer_tier":
        return {key: str(CustomerTier(key).label) for key in present if key in CustomerTier.values}
    return {key: str(key) for key in present}


def _ratio(numerator: int, denominator: int) -> float | None:
    if not denominator:
        return None
    return round(numerator / denominator, 4)
