"""Duplicate task runs at the same moment (a redelivered message, two workers): one POST, one delivery."""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import connection, connections

from ltc.events import emit_for
from ltc.models import WebhookDelivery, WebhookDeliveryAttempt
from ltc.tasks import webhook_deliver_task, webhook_fanout_task
from tests.factories import CustomerFactory, OpportunityFactory, UserFactory, org_tree
from tests.webhooks.conftest import subscribe

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


@pytest.fixture(autouse=True)
def queued():
    """These tests commit for real, so on-commit callbacks run: record the tasks instead of sending them."""
    with (
        mock.patch.object(webhook_fanout_task, "delay") as fanout,
        mock.patch.object(webhook_deliver_task, "delay") as deliver,
    ):
        yield {"fanout": fanout, "deliver": deliver}


def _run_together(target, count: int = 2) -> list:
    results: list = []
    errors: list = []
    barrier = threading.Barrier(count)

    def work():
        try:
            barrier.wait(timeout=10)
            results.append(target())
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return results


def _event():
    unit = org_tree()["dept1"]
    opp = OpportunityFactory(customer=CustomerFactory(account_dept=unit), owner=UserFactory(org_unit=unit))
    return emit_for("opportunity.won", opp)


def test_two_simultaneous_fanouts_create_one_delivery_each(receiver, queued):
    subscribe(receiver.url, ["opportunity.won"], name="a")
    subscribe(receiver.url, ["opportunity.won"], name="b")
    event = _event()
    queued["fanout"].assert_called_once_with(event_id=event.pk)  # after the (auto)commit
    results = _run_together(lambda: webhook_fanout_task(event_id=event.pk))
    assert sorted(len(r["deliveries"]) for r in results) == [0, 2]
    assert WebhookDelivery.objects.filter(event=event).count() == 2
    assert sorted(c.kwargs["delivery_id"] for c in queued["deliver"].call_args_list) == sorted(
        WebhookDelivery.objects.values_list("pk", flat=True)
    )


def test_two_simultaneous_runs_of_one_attempt_send_once(receiver):
    _, receiver.secret = subscribe(receiver.url, ["opportunity.won"])
    event = _event()
    (delivery_id,) = webhook_fanout_task(event_id=event.pk)["deliveries"]
    receiver.delay = 0.5  # the second run reaches the locked row while the first is still sending
    results = _run_together(lambda: webhook_deliver_task(delivery_id=delivery_id, attempt=1))
    assert sorted(r["result"] for r in results) == ["delivered", "skipped"]
    assert len(receiver.requests) == 1 and receiver.requests[0].verified
    assert WebhookDeliveryAttempt.objects.filter(delivery_id=delivery_id).count() == 1
    assert WebhookDelivery.objects.get(pk=delivery_id).status == "DELIVERED"
