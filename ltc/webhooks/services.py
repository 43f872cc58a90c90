"""Writes of webhooks: subscriptions, the fan-out of events to deliveries, the delivery itself and replays.

Delivery bookkeeping (see WebhookDelivery):
- an attempt is numbered (`attempts` + 1); a task carries the number of the attempt it was queued for and does
  nothing when that attempt already happened or the delivery is closed, so a duplicate or stale task sends
  nothing (the row is locked while it is checked and sent);
- 2xx → DELIVERED; network errors, 408, 429 and 5xx → RETRYING with exponential backoff (`failures`
  counts them) until `MAX_RETRIES` retries are spent → FAILED; any other answer (3xx, 4xx) → FAILED at once;
- a replay reopens the delivery (PENDING, failures 0) and queues the next attempt, logged as REPLAY.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import OrgUnit, User
from ltc.api.scopes import READ, scopes_allow
from ltc.errors import ApplicationError, NotAllowed
from ltc.models import (
    ApiClient,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEvent,
    WebhookEventType,
    WebhookSubscription,
)
from ltc.webhooks import signing, transport
from ltc.webhooks.selectors import EVENT_RESOURCE, active_subscriptions, subscription_may_receive

Status = WebhookDelivery.Status
Trigger = WebhookDeliveryAttempt.Trigger

DEFAULTS: dict[str, Any] = {
    # Seconds to wait for the receiver (the delivery row stays locked meanwhile).
    "TIMEOUT_SECONDS": 10,
    # Retries after the first attempt for transient failures; then the delivery is FAILED.
    "MAX_RETRIES": 8,
    # Backoff: BASE × 2^(n−1) seconds before retry n, at most MAX (30 s, 1 min, 2 min … ≈ 1 h).
    "BACKOFF_BASE_SECONDS": 30,
    "BACKOFF_MAX_SECONDS": 3600,
    # The sweeper fans out events (and re-queues deliveries) left untouched this long.
    "SWEEP_AFTER_SECONDS": 60,
}
RETRYABLE_STATUS = frozenset({408, 429})
_url_validator = URLValidator(schemes=["http", "https"])


def webhook_config() -> dict[str, Any]:
    """The defaults above, overridden by settings.LTC["WEBHOOKS"] when present."""
    return {**DEFAULTS, **(getattr(settings, "LTC", {}) or {}).get("WEBHOOKS", {})}


def backoff_seconds(failures: int, retry_after: int | None = None) -> int:
    """Seconds before the retry that follows the `failures`-th consecutive transient failure (1-based).

    A receiver's Retry-After (seconds) is honoured when longer, within the cap."""
    config = webhook_config()
    cap = int(config["BACKOFF_MAX_SECONDS"])
    countdown = min(int(config["BACKOFF_BASE_SECONDS"]) * 2 ** max(failures - 1, 0), cap)
    if retry_after is not None:
        countdown = min(max(countdown, retry_after), cap)
    return countdown


# --- Subscriptions -----------------------------------------------------------------------------------


def _invalid(errors: dict[str, list]) -> ApplicationError:
    return ApplicationError(_("Please correct the errors below. 请更正以下错误。"), extra=errors)


def _clean_event_types(event_types: Any, api_client: ApiClient | None, errors: dict[str, list]) -> list[str]:
    if not isinstance(event_types, list | tuple) or not all(isinstance(t, str) for t in event_types):
        errors["event_types"] = [_("A list of event types. 事件类型列表。")]
        return []
    wanted = sorted(set(event_types))
    if not wanted:
        errors["event_types"] = [_("Name at least one event type. 至少选择一种事件类型。")]
        return []
    known = set(WebhookEventType.values) | {WebhookSubscription.ALL_EVENTS}
    unknown = [t for t in wanted if t not in known]
    if unknown:
        errors["event_types"] = [
            _("Unknown event types: %(types)s. 未知事件类型：%(types)s。") % {"types": ", ".join(unknown)}
        ]
        return []
    if api_client is not None:
        named = WebhookEventType.values if WebhookSubscription.ALL_EVENTS in wanted else wanted
        lacking = sorted(
            {EVENT_RESOURCE[t] for t in named if not scopes_allow(api_client.scopes, EVENT_RESOURCE[t], READ)}
        )
        if lacking:
            errors["event_types"] = [
                _(
                    "This API client may not read %(resources)s, so it cannot subscribe to their events. "
                    "该 API 客户端无权读取 %(resources)s，不能订阅其事件。"
                )
                % {"resources": ", ".join(lacking)}
            ]
    return wanted


@transaction.atomic
def subscription_create(
    *,
    name: str,
    target_url: str,
    event_types: list[str],
    api_client: ApiClient | None = None,
    org_unit: OrgUnit | None = None,
    actor: User | None = None,
    is_active: bool = True,
) -> tuple[WebhookSubscription, str]:
    """Subscribe `target_url` to `event_types`; returns (subscription, secret). Show the secret once.

    A client's subscription hears about what the client may see (its org unit and read scopes; `org_unit`
    is ignored). Without a client, only an administrator (or the command line, actor None) subscribes, and
    `org_unit` bounds what it hears about (None: the whole company).
    """
    if api_client is None and actor is not None and not actor.sees_everything:
        raise NotAllowed(
            _("Only an administrator may create webhook subscriptions. 只有管理员可以创建 Webhook 订阅。")
        )
    errors: dict[str, list] = {}
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > 128:
        errors["name"] = [_("1 to 128 characters. 1 到 128 个字符。")]
    target_url = (target_url or "").strip() if isinstance(target_url, str) else ""
    try:
        if len(target_url) > 500:
            raise ValidationError("too long")
        _url_validator(target_url)
    except ValidationError:
        errors["target_url"] = [
            _("An http(s) URL of at most 500 characters. 须为 http(s) 地址，最多 500 字符。")
        ]
    types = _clean_event_types(event_types, api_client, errors)
    if errors:
        raise _invalid(errors)
    secret = signing.new_secret()
    subscription = WebhookSubscription.objects.create(
        name=name,
        target_url=target_url,
        secret=secret,
        event_types=types,
        is_active=is_active,
        api_client=api_client,
        org_unit=api_client.org_unit if api_client is not None else org_unit,
        created_by=actor,
    )
    return subscription, secret


@transaction.atomic
def subscription_delete(*, subscription: WebhookSubscription, api_client: ApiClient | None = None) -> None:
    """Delete a subscription and its delivery log. A client deletes only its own."""
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    if api_client is not None and locked.api_client_id != api_client.pk:
        raise NotAllowed(_("This subscription belongs to another client. 该订阅属于其他客户端。"))
    locked.delete()


@transaction.atomic
def subscription_set_active(*, subscription: WebhookSubscription, is_active: bool) -> WebhookSubscription:
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    if locked.is_active != is_active:
        locked.is_active = is_active
        locked.save(update_fields=["is_active", "updated_at"])
    return locked


# --- Fan-out -----------------------------------------------------------------------------------------


def _queue_delivery(delivery_id: int, attempt: int, trigger: str, requested_by_id: int | None = None) -> None:
    from ltc.tasks import webhook_deliver_task

    kwargs: dict[str, Any] = {"delivery_id": delivery_id, "attempt": attempt, "trigger": trigger}
    if requested_by_id is not None:
        kwargs["requested_by_id"] = requested_by_id
    transaction.on_commit(partial(webhook_deliver_task.delay, **kwargs), robust=True)


@transaction.atomic
def webhook_fanout(*, event_ids: list[int]) -> list[int]:
    """Create one delivery per (event, subscription that may receive it) and queue each after commit.

    Idempotent: the event rows are locked and a delivery is unique per (event, subscription), so a second
    run creates (and queues) nothing. Marks the events fanned out. Returns the new deliveries' ids.
    """
    events = list(WebhookEvent.objects.select_for_update().filter(pk__in=list(event_ids)).order_by("pk"))
    if not events:
        return []
    subscriptions = list(active_subscriptions())
    now = timezone.now()
    existing = set(
        WebhookDelivery.objects.filter(event_id__in=[e.pk for e in events]).values_list(
            "event_id", "subscription_id"
        )
    )
    new: list[WebhookDelivery] = []
    for event in events:
        for subscription in subscriptions:
            if (event.pk, subscription.pk) in existing:
                continue
            if subscription_may_receive(subscription, event):
                new.append(
                    WebhookDelivery(
                        event=event, subscription=subscription, status=Status.PENDING, next_attempt_at=now
                    )
                )
    created = WebhookDelivery.objects.bulk_create(new)
    WebhookEvent.objects.filter(pk__in=[e.pk for e in events], fanned_out_at__isnull=True).update(
        fanned_out_at=now
    )
    for delivery in created:
        _queue_delivery(delivery.pk, 1, Trigger.INITIAL)
    return [delivery.pk for delivery in created]


# --- Delivery ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryOutcome:
    """What one run of the delivery task did. `retry_in` (seconds) is set when a retry must be scheduled."""

    delivery_id: int
    result: str  # "delivered", "retrying", "failed", "skipped"
    attempt: int | None = None
    status_code: int | None = None
    retry_in: int | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def delivery_body(event: WebhookEvent) -> bytes:
    """The JSON body of every delivery of `event` (keys sorted, so retries send identical bytes)."""
    envelope = {
        "id": event.pk,
        "type": event.event_type,
        "created_at": event.created_at.isoformat(),
        "object": {"type": event.obj_type, "id": event.obj_id},
        "actor_id": event.actor_id,
        "data": event.payload,
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def delivery_headers(delivery: WebhookDelivery, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        signing.HEADER_EVENT: delivery.event.event_type,
        signing.HEADER_DELIVERY: str(delivery.pk),
        signing.HEADER_TIMESTAMP: str(timestamp),
        signing.HEADER_SIGNATURE: signing.sign(delivery.subscription.secret, timestamp, body),
    }


def _is_transient(result: transport.HttpResult) -> bool:
    if result.status_code is None:
        return True
    return result.status_code >= 500 or result.status_code in RETRYABLE_STATUS


def webhook_deliver(
    *, delivery_id: int, attempt: int, trigger: str = Trigger.INITIAL, requested_by_id: int | None = None
) -> DeliveryOutcome:
    """Make attempt number `attempt` of a delivery: sign, POST, log, and decide what comes next.

    Safe to run twice: the delivery row is locked while it is checked and sent, and an attempt that already
    happened (or a closed delivery) is skipped. The caller schedules the retry when `retry_in` is set.
    """
    config = webhook_config()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("event", "subscription")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return DeliveryOutcome(delivery_id, "skipped", reason="missing")
        if delivery.status not in (Status.PENDING, Status.RETRYING):
            return DeliveryOutcome(delivery_id, "skipped", reason=f"already {delivery.status.lower()}")
        if delivery.attempts != attempt - 1:
            return DeliveryOutcome(delivery_id, "skipped", reason="attempt already made")
        subscription = delivery.subscription
        if not subscription.is_active:
            delivery.status, delivery.next_attempt_at = Status.FAILED, None
            delivery.last_error = "subscription inactive"
            delivery.save(update_fields=["status", "next_attempt_at", "last_error", "updated_at"])
            return DeliveryOutcome(delivery_id, "failed", reason="subscription inactive")

        body = delivery_body(delivery.event)
        timestamp = int(time.time())
        started_at = timezone.now()
        result = transport.post_json(
            subscription.target_url,
            body,
            delivery_headers(delivery, body, timestamp),
            timeout=float(config["TIMEOUT_SECONDS"]),
        )
        succeeded = result.status_code is not None and 200 <= result.status_code < 300
        WebhookDeliveryAttempt.objects.create(
            delivery=delivery,
            number=attempt,
            trigger=trigger,
            requested_by_id=requested_by_id,
            started_at=started_at,
            duration_ms=result.duration_ms,
            status_code=result.status_code,
            response_body=result.body,
            error=result.error,
            succeeded=succeeded,
        )
        delivery.attempts = attempt
        delivery.last_status_code = result.status_code
        delivery.last_error = result.error
        retry_in: int | None = None
        if succeeded:
            delivery.status, delivery.failures = Status.DELIVERED, 0
            delivery.delivered_at, delivery.next_attempt_at = timezone.now(), None
            outcome = "delivered"
        elif _is_transient(result) and delivery.failures < int(config["MAX_RETRIES"]):
            delivery.failures += 1
            retry_in = backoff_seconds(delivery.failures, result.retry_after)
            delivery.status = Status.RETRYING
            delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=retry_in)
            outcome = "retrying"
        else:
            if _is_transient(result):
                delivery.failures += 1
            delivery.status, delivery.next_attempt_at = Status.FAILED, None
            outcome = "failed"
        delivery.save(
            update_fields=[
                "attempts",
                "failures",
                "status",
                "next_attempt_at",
                "delivered_at",
                "last_status_code",
                "last_error",
                "updated_at",
            ]
        )
    return DeliveryOutcome(delivery_id, outcome, attempt, result.status_code, retry_in, result.error)


@transaction.atomic
def webhook_delivery_replay(
    *, delivery: WebhookDelivery, actor: User | None = None, api_client: ApiClient | None = None
) -> WebhookDelivery:
    """Send a delivery again (delivered or failed, or now instead of at its next retry): it is reopened and
    its next attempt queued after commit, logged as a REPLAY by `actor`. A client replays only its own."""
    locked = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("subscription")
        .get(pk=delivery.pk)
    )
    if api_client is not None and locked.subscription.api_client_id != api_client.pk:
        raise NotAllowed(_("This delivery belongs to another client. 该投递属于其他客户端。"))
    if not locked.subscription.is_active:
        raise ApplicationError(
            _("The subscription is inactive: activate it before replaying. 订阅已停用，请先启用再重新投递。"),
            {"subscription": [_("Inactive. 已停用。")]},
        )
    locked.status, locked.failures, locked.next_attempt_at = Status.PENDING, 0, timezone.now()
    locked.save(update_fields=["status", "failures", "next_attempt_at", "updated_at"])
    _queue_delivery(locked.pk, locked.attempts + 1, Trigger.REPLAY, actor.pk if actor is not None else None)
    return locked


# --- The sweeper -------------------------------------------------------------------------------------


def webhook_outbox_sweep(*, now: dt.datetime | None = None, limit: int = 1000) -> dict[str, int]:
    """Recover what a lost task left behind (broker down at commit, a worker killed, a lost retry message):

    - events older than SWEEP_AFTER_SECONDS not yet fanned out are fanned out (in batches);
    - deliveries still PENDING or RETRYING and past their next attempt by that long get it queued again (a duplicate of a task still on its way is skipped by the
      attempt number).
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=int(webhook_config()["SWEEP_AFTER_SECONDS"]))
    event_ids = list(
        WebhookEvent.objects.filter(fanned_out_at__isnull=True, created_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    created = 0
    for start in range(0, len(event_ids), 500):
        created += len(webhook_fanout(event_ids=event_ids[start : start + 500]))
    stale = list(
        WebhookDelivery.objects.filter(
            status__in=(Status.PENDING, Status.RETRYING), next_attempt_at__lt=cutoff
        )
        .order_by("pk")
        .values_list("pk", "attempts")[:limit]
    )
    with transaction.atomic():
        for delivery_id, attempts in stale:
            _queue_delivery(delivery_id, attempts + 1, Trigger.RETRY if attempts else Trigger.INITIAL)
    return {"events": len(event_ids), "deliveries_created": created, "deliveries_requeued": len(stale)}
