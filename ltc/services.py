"""Cross-stage writes: the funnel rollup job."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Count, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from contracts.models import Contract, Invoice, Receipt
from ltc.models import FunnelRollup
from pipeline.models import Lead, Opportunity, Stage

# Rollup "stage" keys: what happened in the month, by the month it happened in.
ROLLUP_STAGES = ("LEAD", "OPPORTUNITY", "WON", "LOST", "ABANDONED", "CONTRACTED", "INVOICED", "COLLECTED")


def _cells(
    qs: QuerySet, *, stage: str, month_field: str, amount_field: str, unit: str, owner: str, tier: str
) -> list[dict]:
    rows = (
        qs.annotate(month=TruncMonth(month_field))
        .values("month", unit, owner, tier)
        .annotate(n=Count("id"), total=Coalesce(Sum(amount_field), Value(Decimal("0"))))
        .order_by()
    )
    return [
        {
            "month": row["month"].date() if hasattr(row["month"], "date") else row["month"],
            "org_unit_id": row[unit],
            "owner_id": row[owner],
            "customer_tier": row[tier],
            "stage": stage,
            "count": row["n"],
            "amount": row["total"],
        }
        for row in rows
    ]


def funnel_rollup_compute() -> list[dict]:
    """Every rollup cell, recomputed from the live tables (one GROUP BY per stage)."""
    cells: list[dict] = []
    cells += _cells(
        Lead.objects.all(),
        stage="LEAD",
        month_field="created_at",
        amount_field="estimated_amount",
        unit="org_unit_id",
        owner="owner_id",
        tier="customer__tier",
    )
    cells += _cells(
        Opportunity.objects.all(),
        stage="OPPORTUNITY",
        month_field="created_at",
        amount_field="amount",
        unit="org_unit_id",
        owner="owner_id",
        tier="customer__tier",
    )
    for stage in (Stage.WON, Stage.LOST, Stage.ABANDONED):
        cells += _cells(
            Opportunity.objects.filter(stage=stage, closed_at__isnull=False),
            stage=stage.value,
            month_field="closed_at",
            amount_field="amount",
            unit="org_unit_id",
            owner="owner_id",
            tier="customer__tier",
        )
    cells += _cells(
        Contract.objects.all(),
        stage="CONTRACTED",
        month_field="signed_on",
        amount_field="amount",
        unit="org_unit_id",
        owner="owner_id",
        tier="customer__tier",
    )
    cells += _cells(
        Invoice.objects.exclude(status=Invoice.Status.CANCELLED),
        stage="INVOICED",
        month_field="issued_on",
        amount_field="amount",
        unit="contract__org_unit_id",
        owner="contract__owner_id",
        tier="contract__customer__tier",
    )
    cells += _cells(
        Receipt.objects.all(),
        stage="COLLECTED",
        month_field="received_on",
        amount_field="amount",
        unit="contract__org_unit_id",
        owner="contract__owner_id",
        tier="contract__customer__tier",
    )
    # Leads of prospects have no customer tier yet.
    for cell in cells:
        cell["customer_tier"] = cell["customer_tier"] or "-"
    return cells


@transaction.atomic
def funnel_rollup_refresh() -> dict:
    """Recompute every cell and upsert it; delete cells that no longer exist. Never adds deltas.

    Idempotent: a second run over unchanged data leaves identical figures (only `refreshed_at` moves).
    """
    stamp = timezone.now()
    cells = funnel_rollup_compute()
    objs = [FunnelRollup(refreshed_at=stamp, **cell) for cell in cells]
    FunnelRollup.objects.bulk_create(
        objs,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["month", "org_unit", "owner", "customer_tier", "stage"],
        update_fields=["count", "amount", "refreshed_at"],
    )
    deleted, _ = FunnelRollup.objects.filter(refreshed_at__lt=stamp).delete()
    return {"cells": len(objs), "deleted": deleted, "refreshed_at": stamp.isoformat()}


def funnel_rollup_age_seconds() -> float | None:
    latest = FunnelRollup.objects.order_by("-refreshed_at").values_list("refreshed_at", flat=True).first()
    if latest is None:
        return None
    return (timezone.now() - latest).total_seconds()


__all__ = ["ROLLUP_STAGES", "funnel_rollup_compute", "funnel_rollup_refresh", "funnel_rollup_age_seconds"]
