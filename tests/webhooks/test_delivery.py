"""Deliveries to a real HTTP receiver on 127.0.0.1: signed, logged, retried with backoff on transient
failures, failed at once on other 4xx, idempotent under duplicate task runs, and the signature scheme."""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from ltc.events import emit_for
from ltc.models import WebhookDelivery, WebhookDeliveryAttempt
from ltc.tasks import webhook_deliver_task
from ltc.webhooks import sign, verify_signature
from ltc.webhooks.services import backoff_seconds, webhook_fanout
from tests.factories import CustomerFactory, OpportunityFactory, UserFactory
from tests.webhooks.conftest import subscribe

pytestmark = pytest.mark.django_db


def _delivery(tree, url: str, receiver=None) -> WebhookDelivery:
    subscription, secret = subscribe(url, ["opportunity.won"])
    if receiver is not None:
        receiver.secret = secret
    unit = tree["dept1"]
    opp = OpportunityFactory(customer=CustomerFactory(account_dept=unit), owner=UserFactory(org_unit=unit))
    event = emit_for("opportunity.won", opp)
    (delivery_id,) = webhook_fanout(event_ids=[event.pk])
    return WebhookDelivery.objects.select_related("event", "subscription").get(pk=delivery_id)


def _free_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/nobody-listens"


def test_delivery_is_signed_and_the_receiver_verifies_it(tree, receiver):
    delivery = _delivery(tree, receiver.url, receiver)
    before = int(time.time())

    result = webhook_deliver_task(delivery_id=delivery.pk, attempt=1)

    assert result["result"] == "delivered"
    (request,) = receiver.requests
    assert request.verified is True
    assert request.path == "/hooks/ltc"
    assert request.headers["X-LTC-Event"] == "opportunity.won"
    assert request.headers["X-LTC-Delivery"] == str(delivery.pk)
    assert request.headers["Content-Type"].startswith("application/json")
    assert before <= int(request.headers["X-LTC-Timestamp"]) <= int(time.time())
    assert request.headers["X-LTC-Signature"] == sign(
        receiver.secret, request.headers["X-LTC-Timestamp"], request.body
    )
    body = request.json()
    assert body["id"] == delivery.event_id
    assert body["type"] == "opportunity.won"
    assert body["object"] == {"type": "opportunity", "id": delivery.event.obj_id}
    assert body["data"] == delivery.event.payload

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.failures) == ("DELIVERED", 1, 0)
    assert delivery.delivered_at is not None and delivery.last_status_code == 200
    attempt = WebhookDeliveryAttempt.objects.get(delivery=delivery)
    assert (attempt.number, attempt.trigger, attempt.status_code, attempt.succeeded) == (
        1,
        "INITIAL",
        200,
        True,
    )
    assert attempt.response_body == '{"ok": true}'
    assert attempt.error == ""
    assert attempt.duration_ms >= 0


def test_a_duplicate_task_run_sends_nothing_again(tree, receiver):
    delivery = _delivery(tree, receiver.url, receiver)
    webhook_deliver_task(delivery_id=delivery.pk, attempt=1)
    again = webhook_deliver_task(delivery_id=delivery.pk, attempt=1)
    assert again["result"] == "skipped"
    assert len(receiver.requests) == 1
    assert WebhookDeliveryAttempt.objects.count() == 1


def test_a_500_schedules_a_retry_with_exponential_backoff(tree, receiver, settings):
    settings.LTC = {**settings.LTC, "WEBHOOKS": {"MAX_RETRIES": 2, "BACKOFF_BASE_SECONDS": 30}}
    receiver.status, receiver.body = 500, b"boom " * 1000
    delivery = _delivery(tree, receiver.url, receiver)

    with mock.patch.object(webhook_deliver_task, "retry", side_effect=Retry()) as retry:
        started = timezone.now()
        with pytest.raises(Retry):
            webhook_deliver_task(delivery_id=delivery.pk, attempt=1)
    retry.assert_called_once_with(
        countdown=30,
        kwargs={"delivery_id": delivery.pk, "attempt": 2, "trigger": "RETRY"},
        max_retries=2,
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.failures, delivery.last_status_code) == (
        "RETRYING",
        1,
        1,
        500,
    )
    assert (
        started + dt.timedelta(seconds=29)
        <= delivery.next_attempt_at
        <= timezone.now() + dt.timedelta(seconds=31)
    )
    first = WebhookDeliveryAttempt.objects.get(delivery=delivery, number=1)
    assert (first.status_code, first.succeeded) == (500, False)
    assert len(first.response_body) == 2000  # truncated

    # The stale first task, run again, neither sends nor reschedules.
    assert webhook_deliver_task(delivery_id=delivery.pk, attempt=1)["result"] == "skipped"
    assert len(receiver.requests) == 1

    # The retry fails too: the wait doubles.
    with mock.patch.object(webhook_deliver_task, "retry", side_effect=Retry()) as retry, pytest.raises(Retry):
        webhook_deliver_task(delivery_id=delivery.pk, attempt=2, trigger="RETRY")
    assert retry.call_args.kwargs["countdown"] == 60
    assert retry.call_args.kwargs["kwargs"]["attempt"] == 3

    # The last allowed retry fails: FAILED, no further retry.
    with mock.patch.object(webhook_deliver_task, "retry", side_effect=Retry()) as retry:
        result = webhook_deliver_task(delivery_id=delivery.pk, attempt=3, trigger="RETRY")
    retry.assert_not_called()
    assert result["result"] == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.failures, delivery.next_attempt_at) == (
        "FAILED",
        3,
        3,
        None,
    )
    assert list(delivery.attempt_log.order_by("number").values_list("number", "trigger")) == [
        (1, "INITIAL"),
        (2, "RETRY"),
        (3, "RETRY"),
    ]
    assert len(receiver.requests) == 3


def test_a_429_honours_retry_after(tree, receiver):
    receiver.status, receiver.headers = 429, {"Retry-After": "120"}
    delivery = _delivery(tree, receiver.url, receiver)
    with mock.patch.object(webhook_deliver_task, "retry", side_effect=Retry()) as retry, pytest.raises(Retry):
        webhook_deliver_task(delivery_id=delivery.pk, attempt=1)
    assert retry.call_args.kwargs["countdown"] == 120


def test_a_network_error_is_retried_and_logged(tree):
    delivery = _delivery(tree, _free_port_url())
    with mock.patch.object(webhook_deliver_task, "retry", side_effect=Retry()) as retry, pytest.raises(Retry):
        webhook_deliver_task(delivery_id=delivery.pk, attempt=1)
    assert retry.call_args.kwargs["countdown"] == 30
    delivery.refresh_from_db()
    assert delivery.status == "RETRYING" and delivery.last_status_code is None
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None and "Connection refused" in attempt.error


def test_a_400_fails_at_once_without_retry(tree, receiver):
    receiver.status, receiver.body = 400, b'{"error": "unknown customer"}'
    delivery = _delivery(tree, receiver.url, receiver)
    with mock.patch.object(webhook_deliver_task, "retry", side_effect=Retry()) as retry:
        result = webhook_deliver_task(delivery_id=delivery.pk, attempt=1)
    retry.assert_not_called()
    assert (result["result"], result["status_code"], result["retry_in"]) == ("failed", 400, None)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.failures, delivery.last_status_code) == (
        "FAILED",
        1,
        0,
        400,
    )
    assert delivery.attempt_log.get().response_body == '{"error": "unknown customer"}'
    # A later duplicate run does not send again.
    assert webhook_deliver_task(delivery_id=delivery.pk, attempt=1)["result"] == "skipped"
    assert len(receiver.requests) == 1


def test_a_redirect_is_not_followed(tree, receiver):
    receiver.status, receiver.headers = 302, {"Location": "http://127.0.0.1:9/elsewhere"}
    delivery = _delivery(tree, receiver.url, receiver)
    assert webhook_deliver_task(delivery_id=delivery.pk, attempt=1)["result"] == "failed"
    assert len(receiver.requests) == 1


def test_an_inactive_subscription_is_not_sent_to(tree, receiver):
    delivery = _delivery(tree, receiver.url, receiver)
    delivery.subscription.is_active = False
    delivery.subscription.save(update_fields=["is_active"])
    assert webhook_deliver_task(delivery_id=delivery.pk, attempt=1)["result"] == "failed"
    assert receiver.requests == []
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == "FAILED"


def test_backoff_is_capped():
    assert [backoff_seconds(n) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff_seconds(1, retry_after=10) == 30
    assert backoff_seconds(1, retry_after=99999) == 3600


# --- The signature scheme ------------------------------------------------------------------------------


def test_verify_signature():
    secret, body, ts = "whsec_test", json.dumps({"a": "回款"}, ensure_ascii=False).encode(), 1_800_000_000
    signature = sign(secret, ts, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify_signature(secret, ts, body, signature, now=ts + 10)
    assert verify_signature(secret, str(ts), body.decode(), signature, now=ts - 10)  # str forms accepted
    assert not verify_signature(secret, ts, body + b" ", signature, now=ts)  # body tampered
    assert not verify_signature("whsec_other", ts, body, signature, now=ts)  # wrong secret
    assert not verify_signature(secret, ts + 1, body, signature, now=ts)  # timestamp tampered
    assert not verify_signature(secret, ts, body, signature, now=ts + 301)  # too old
    assert verify_signature(secret, ts, body, signature, tolerance=600, now=ts + 301)
    assert not verify_signature(secret, "yesterday", body, signature, now=ts)
    assert not verify_signature(secret, ts, body, signature.removeprefix("sha256="), now=ts)
    assert not verify_signature(secret, ts, body, "sha256=" + "0" * 64, now=ts)
