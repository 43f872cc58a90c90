"""Funnel figures from lead to cash, cut by period, org unit (with subtree), owner and customer tier.

Every figure goes through the visibility selectors, so a manager's funnel is their subtree's and a rep's is their
own. The figures are computed live with one aggregate query per stage; the dashboard reads the same shapes from
the rollup tables (ltc.services.funnel_rollup_refresh).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import OrgUnit, User
from accounts.selectors import Scope, scope_for
from contracts.models import Contract, Invoice, Receipt
from contracts.selectors import contract_scope_q
from pipeline.models import Lead, Opportunity, Stage
from pipeline.selectors import lead_scope_q, opportunity_scope_q

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
    return round(value.total_seconds() / 86400, 1)


def _money(value: Decimal | None) -> Decimal:
    return (value or ZERO).quantize(Decimal("0.01"))


def funnel_metrics(*, user: User, flt: FunnelFilter, scope: Scope | None = None) -> dict:
    """Counts and amounts per LTC stage, conversion and win rates, mean cycle times (days)."""
    scope = scope or scope_for(user)
    start, end = flt.bounds()

    leads = _cut(
        Lead.objects.filter(lead_scope_q(scope)),
        flt,
        unit_field="org_unit",
        owner_field="owner",
        tier_field="customer__tier",
    )
    lead_row = leads.filter(created_at__gte=start, created_at__lt=end).aggregate(
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
    created = opps.filter(created_at__gte=start, created_at__lt=end).aggregate(
        count=Count("id"),
        amount=Sum("amount"),
        lead_to_opp=Avg(
            ExpressionWrapper(F("created_at") - F("lead__created_at"), output_field=DurationField()),
            filter=Q(lead__isnull=False),
        ),
    )
    closed = opps.filter(closed_at__gte=start, closed_at__lt=end).aggregate(
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
    open_row = (
        opps.filter(stage__in=[s.value for s in (Stage.VALIDATE, Stage.GUIDE, Stage.BID, Stage.NEGOTIATE)])
        .values("stage")
        .annotate(count=Count("id"), amount=Sum("amount"))
    )
    open_by_stage = {
        row["stage"]: {"count": row["count"], "amount": _money(row["amount"])} for row in open_row
    }

    contracts = _cut(
        Contract.objects.filter(contract_scope_q(scope)),
        flt,
        unit_field="org_unit",
        owner_field="owner",
        tier_field="customer__tier",
    )
    contract_row = contracts.filter(signed_on__gte=flt.period_start, signed_on__lte=flt.period_end).aggregate(
        count=Count("id"), amount=Sum("amount")
    )
    visible_contracts = contracts.values("id")
    invoice_row = (
        Invoice.objects.filter(
            contract_id__in=visible_contracts, issued_on__gte=flt.period_start, issued_on__lte=flt.period_end
        )
        .exclude(status=Invoice.Status.CANCELLED)
        .aggregate(count=Count("id"), amount=Sum("amount"))
    )
    receipt_row = Receipt.objects.filter(
        contract_id__in=visible_contracts, received_on__gte=flt.period_start, received_on__lte=flt.period_end
    ).aggregate(
        count=Count("id"),
        amount=Sum("amount"),
        sign_to_cash=Avg(
            ExpressionWrapper(F("received_on") - F("contract__signed_on"), output_field=DurationField())
        ),
    )

    won, lost = closed["won"], closed["lost"]
    return {
        "period": {"start": flt.period_start.isoformat(), "end": flt.period_end.isoformat()},
        "stages": {
            "leads": {"count": lead_row["count"], "amount": _money(lead_row["amount"])},
            "qualified": {"count": lead_row["qualified"]},
            "converted": {"count": lead_row["converted"]},
            "opportunities": {"count": created["count"], "amount": _money(created["amount"])},
            "won": {"count": won, "amount": _money(closed["won_amount"])},
            "lost": {"count": lost, "amount": _money(closed["lost_amount"])},
            "abandoned": {"count": closed["abandoned"]},
            "contracted": {"count": contract_row["count"], "amount": _money(contract_row["amount"])},
            "invoiced": {"count": invoice_row["count"], "amount": _money(invoice_row["amount"])},
            "collected": {"count": receipt_row["count"], "amount": _money(receipt_row["amount"])},
        },
        "open_pipeline": open_by_stage,
        "rates": {
            "lead_to_opportunity": _ratio(lead_row["converted"], lead_row["count"]),
            "win_rate": _ratio(won, won + lost),
        },
        "cycle_days": {
            "lead_to_opportunity": _days(created["lead_to_opp"]),
            "opportunity_to_won": _days(closed["opp_to_won"]),
            "signing_to_cash": _days(receipt_row["sign_to_cash"]),
        },
    }


def _ratio(numerator: int, denominator: int) -> float | None:
    if not denominator:
        return None
    return round(numerator / denominator, 4)
