"""Periodic work that spans every stage."""

from __future__ import annotations

from celery import shared_task

from ltc.services import funnel_rollup_refresh


@shared_task(name="ltc.tasks.funnel_rollup_refresh_task", acks_late=True, reject_on_worker_lost=True)
def funnel_rollup_refresh_task() -> dict:
    """Recompute the funnel rollup tables. Idempotent: recompute-and-upsert, never deltas."""
    return funnel_rollup_refresh()
