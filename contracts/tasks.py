"""Contract and cash background work. Each task takes ids and JSON values and calls one service."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from contracts.services import invoice_overdue_mark


@shared_task(name="contracts.tasks.invoice_overdue_scan_task", acks_late=True, reject_on_worker_lost=True)
def invoice_overdue_scan_task(as_of: str | None = None) -> dict:
    """Mark the invoices that fell overdue (once each; a second run marks nothing).

    `as_of` is an ISO date (default: today in settings.TIME_ZONE). Returns {"count", "invoice_ids"}.
    """
    day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    ids = invoice_overdue_mark(as_of=day)
    return {"as_of": day.isoformat(), "count": len(ids), "invoice_ids": ids}
