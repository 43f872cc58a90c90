"""The outbox: events are written with the change they report, fanned out once per subscription that may
see the record, and queued only after commit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from ltc.api.services import api_client_create
from ltc.events import emit, emit_for
from ltc.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from ltc.tasks import webhook_fanout_task
from ltc.webhooks.services import webhook_fanout, webhook_outbox_sweep
from tests.factories import CustomerFactory, OpportunityFactory, UserFactory
from tests.webhooks.conftest import subscribe

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hook"


def _opportunity(unit, **kwargs):
    return OpportunityFactory(
        customer=CustomerFactory(account_dept=unit), owner=UserFactory(org_unit=unit), **kwargs
    )


def test_an_event_emitted_in_a_rolled_back_transaction_leaves_nothing(
    tree, django_capture_on_commit_callbacks
):
    subscribe(URL, ["opportunity.won"])
    opp = _opportunity(tree["dept1"])
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        emit_for("opportunity.won", opp)
        assert WebhookEvent.objects.count() == 1
        raise RuntimeError("the business change fails after the emission")
    assert WebhookEvent.objects.count() == 0
    assert callbacks == []


def test_emit_queues_the_fanout_only_after_commit(tree, django_capture_on_commit_callbacks):
    subscribe(URL, ["opportunity.won"])
    opp = _opportunity(tree["dept1"], amount=Decimal("1234.50"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        event = emit_for("opportunity.won", opp)
        assert callbacks == []
    assert len(callbacks) == 1
    assert callbacks[0].func == webhook_fanout_task.delay
    assert callbacks[0].keywords == {"event_id": event.pk}
    event.refresh_from_db()
    assert (event.obj_type, event.obj_id) == ("opportunity", opp.pk)
    assert event.payload["amount"] == "1234.50"
    assert event.payload["opportunity_external_id"] == opp.external_id
    assert event.payload["customer_external_id"] == opp.customer.external_id
    assert event.payload["expected_sign_on"] == opp.expected_sign_on.isoformat()


def test_no_subscription_no_task(tree, django_capture_on_commit_callbacks):
    subscribe(URL, ["receipt.recorded"])  # wants something else
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        emit_for("opportunity.won", _opportunity(tree["dept1"]))
    assert callbacks == []
    assert WebhookEvent.objects.count() == 1  # still in the outbox: the sweeper closes it


def test_unknown_event_type_is_refused(tree):
    with pytest.raises(ValueError):
        emit("opportunity.sold", obj_type="opportunity", obj_id=1, payload={})


def test_fanout_one_delivery_per_subscription_that_may_see_the_record(
    tree, django_capture_on_commit_callbacks
):
    company, _ = subscribe(URL, ["*"], name="whole company")
    region, _ = subscribe(URL, ["opportunity.won"], org_unit=tree["region"], name="region")
    other_branch, _ = subscribe(URL, ["opportunity.won"], org_unit=tree["region2"], name="other branch")
    other_type, _ = subscribe(URL, ["opportunity.lost"], name="other type")
    client_near, _ = api_client_create(
        name="near", scopes=["webhooks:write", "opportunities:read"], org_unit=tree["office"]
    )
    client_far, _ = api_client_create(
        name="far", scopes=["webhooks:write", "opportunities:read"], org_unit=tree["dept3"]
    )
    client_no_read, _ = api_client_create(name="no read", scopes=["webhooks:write", "opportunities:read"])
    near, _ = subscribe(URL, ["opportunity.won"], api_client=client_near)
    far, _ = subscribe(URL, ["opportunity.won"], api_client=client_far)
    lost_scope, _ = subscribe(URL, ["opportunity.won"], api_client=client_no_read)
    client_no_read.scopes = ["webhooks:write"]  # the read scope was taken away after subscribing
    client_no_read.save(update_fields=["scopes"])
    inactive, _ = subscribe(URL, ["opportunity.won"], is_active=False, name="inactive")

    event = emit_for("opportunity.won", _opportunity(tree["dept1"]))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        created = webhook_fanout(event_ids=[event.pk])

    receivers = set(WebhookDelivery.objects.filter(event=event).values_list("subscription_id", flat=True))
    assert receivers == {company.pk, region.pk, near.pk}
    assert sorted(created) == sorted(WebhookDelivery.objects.values_list("pk", flat=True))
    assert sorted(c.keywords["delivery_id"] for c in callbacks) == sorted(created)
    assert {(c.keywords["attempt"], c.keywords["trigger"]) for c in callbacks} == {(1, "INITIAL")}
    event.refresh_from_db()
    assert event.fanned_out_at is not None
    for sub in (other_branch, other_type, far, lost_scope, inactive):
        assert not WebhookDelivery.objects.filter(subscription=sub).exists()


def test_fanout_twice_creates_and_queues_nothing_new(tree, django_capture_on_commit_callbacks):
    subscribe(URL, ["opportunity.won"])
    subscribe(URL, ["opportunity.won"], org_unit=tree["dept1"])
    event = emit_for("opportunity.won", _opportunity(tree["dept1"]))
    first = webhook_fanout_task(event_id=event.pk)
    assert len(first["deliveries"]) == 2
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        second = webhook_fanout_task(event_id=event.pk)
    assert second == {"deliveries": []}
    assert callbacks == []
    assert WebhookDelivery.objects.count() == 2


def test_a_subscription_made_after_the_event_does_not_receive_it(tree):
    subscribe(URL, ["opportunity.won"], name="before")
    event = emit_for("opportunity.won", _opportunity(tree["dept1"]))
    later, _ = subscribe(URL, ["opportunity.won"], name="after")
    webhook_fanout(event_ids=[event.pk])
    assert list(WebhookDelivery.objects.values_list("subscription__name", flat=True)) == ["before"]


def test_bulk_emission_queues_batches(tree, django_capture_on_commit_callbacks):
    subscribe(URL, ["opportunity.lost"])
    opps = [_opportunity(tree["dept1"]) for _ in range(3)]
    from ltc.events import emit_many

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        events = emit_many("opportunity.lost", opps)
    assert [e.obj_id for e in events] == sorted(o.pk for o in opps)
    assert len(callbacks) == 1
    assert callbacks[0].keywords == {"event_ids": [e.pk for e in events]}
    assert len(webhook_fanout_task(event_ids=callbacks[0].keywords["event_ids"])["deliveries"]) == 3


def test_sweeper_fans_out_lost_events_and_requeues_stuck_deliveries(tree, django_capture_on_commit_callbacks):
    sub, _ = subscribe(URL, ["opportunity.won"])
    WebhookSubscription.objects.filter(pk=sub.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    event = emit_for("opportunity.won", _opportunity(tree["dept1"]))
    fresh = emit_for("opportunity.won", _opportunity(tree["dept1"]))
    WebhookEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = webhook_outbox_sweep()
    assert result == {"events": 1, "deliveries_created": 1, "deliveries_requeued": 0}
    delivery = WebhookDelivery.objects.get()
    assert delivery.event_id == event.pk  # the fresh event is left to its own task
    assert [c.keywords for c in callbacks] == [
        {"delivery_id": delivery.pk, "attempt": 1, "trigger": "INITIAL"}
    ]
    assert WebhookEvent.objects.get(pk=fresh.pk).fanned_out_at is None

    # The delivery task was lost too: a later sweep queues its attempt again.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = webhook_outbox_sweep()
    assert result == {"events": 0, "deliveries_created": 0, "deliveries_requeued": 1}
    assert [c.keywords for c in callbacks] == [
        {"delivery_id": delivery.pk, "attempt": 1, "trigger": "INITIAL"}
    ]
