"""Pipeline background work. Each task is thin: it parses its JSON arguments and calls one service."""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import shared_task

from pipeline.services.leads import lead_review_reminders_send


@shared_task(name="pipeline.tasks.lead_review_reminders_task", acks_late=True, reject_on_worker_lost=True)
def lead_review_reminders_task(week: str | None = None) -> dict[str, Any]:
    """Send this week's lead-review reminders (or those of the week containing `week`, an ISO date).

    Idempotent (one reminder per person and week), so a redelivered or repeated run sends nothing new.
    """
    day = dt.date.fromisoformat(week) if week else None
    return lead_review_reminders_send(week=day)
