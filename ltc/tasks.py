"""Periodic work that spans every stage."""

from __future__ import annotations

from celery import shared_task

from ltc.services import funnel_rollup_refresh
from ltc.webhooks.services import webhook_config, webhook_deliver, webhook_fanout, webhook_outbox_sweep


@shared_task(name="ltc.tasks.funnel_rollup_refresh_task", acks_late=True, reject_on_worker_lost=True)
def funnel_rollup_refresh_task() -> dict:
    """Recompute the funnel rollup tables. Idempotent: recompute-and-upsert, never deltas."""
    return funnel_rollup_refresh()


# --- Webhooks (ltc/webhooks/services.py) ----------------------------------------------------------------


@shared_task(name="ltc.tasks.webhook_fanout_task", acks_late=True, reject_on_worker_lost=True)
def webhook_fanout_task(event_id: int | None = None, event_ids: list[int] | None = None) -> dict:
    """Create the deliveries of one event (or a batch) and queue them. Idempotent: a second run creates
    nothing (one delivery per event and subscription)."""
    ids = list(event_ids or []) + ([event_id] if event_id is not None else [])
    return {"deliveries": webhook_fanout(event_ids=ids)}


@shared_task(
    bind=True,
    name="ltc.tasks.webhook_deliver_task",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=8,
)
def webhook_deliver_task(
    self, delivery_id: int, attempt: int = 1, trigger: str = "INITIAL", requested_by_id: int | None = None
) -> dict:
    """Make attempt `attempt` of a delivery; on a transient failure schedule the next one with backoff.

    Idempotent: an attempt already made, or a delivery already delivered or failed, is skipped.
    """
    outcome = webhook_deliver(
        delivery_id=delivery_id, attempt=attempt, trigger=trigger, requested_by_id=requested_by_id
    )
    if outcome.retry_in is not None:
        # The delivery row says how many retries are left (a replay starts again from zero), so Celery's own
        # counter only guards against a runaway chain.
        raise self.retry(
            countdown=outcome.retry_in,
            kwargs={"delivery_id": delivery_id, "attempt": attempt + 1, "trigger": "RETRY"},
            max_retries=int(webhook_config()["MAX_RETRIES"]),
        )
    return outcome.as_dict()


@shared_task(name="ltc.tasks.webhook_outbox_sweep_task", acks_late=True, reject_on_worker_lost=True)
def webhook_outbox_sweep_task() -> dict:
    """Fan out events and re-queue deliveries that a lost task left behind (see webhook_outbox_sweep)."""
    return webhook_outbox_sweep()
