"""The webhook admin: subscriptions created with a secret shown once, deliveries filtered by status and
event, and the "Replay delivery 重新投递" action that queues a new, logged attempt."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ltc.events import emit_for
from ltc.models import WebhookDelivery, WebhookSubscription
from ltc.tasks import webhook_deliver_task
from ltc.webhooks.services import webhook_fanout
from tests.factories import CustomerFactory, OpportunityFactory, UserFactory
from tests.webhooks.conftest import subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(tree):
    return UserFactory(username="webhook-admin", org_unit=tree["hq"], job_role="ADMIN", is_staff=True)


def _failed_delivery(tree, receiver) -> WebhookDelivery:
    subscription, receiver.secret = subscribe(receiver.url, ["opportunity.won"])
    unit = tree["dept1"]
    opp = OpportunityFactory(customer=CustomerFactory(account_dept=unit), owner=UserFactory(org_unit=unit))
    (delivery_id,) = webhook_fanout(event_ids=[emit_for("opportunity.won", opp).pk])
    receiver.status = 400
    assert webhook_deliver_task(delivery_id=delivery_id, attempt=1)["result"] == "failed"
    return WebhookDelivery.objects.get(pk=delivery_id)


def test_replay_action_creates_a_new_logged_attempt(
    client, administrator, tree, receiver, django_capture_on_commit_callbacks
):
    delivery = _failed_delivery(tree, receiver)
    receiver.status = 200  # the receiver is fixed
    client.force_login(administrator)
    url = reverse("admin:ltc_webhookdelivery_changelist")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, {"action": "replay_deliveries", "_selected_action": [delivery.pk]})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.failures) == ("PENDING", 0)
    (queued,) = callbacks
    assert queued.func == webhook_deliver_task.delay
    assert queued.keywords == {
        "delivery_id": delivery.pk,
        "attempt": 2,
        "trigger": "REPLAY",
        "requested_by_id": administrator.pk,
    }

    assert webhook_deliver_task(**queued.keywords)["result"] == "delivered"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("DELIVERED", 2)
    log = list(
        delivery.attempt_log.order_by("number").values_list(
            "number", "trigger", "status_code", "requested_by"
        )
    )
    assert log == [(1, "INITIAL", 400, None), (2, "REPLAY", 200, administrator.pk)]
    assert len(receiver.requests) == 2 and all(r.verified for r in receiver.requests)

    # The change page shows the attempt log.
    page = client.get(reverse("admin:ltc_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200
    assert "REPLAY" in page.content.decode() or "重新投递" in page.content.decode()


def test_delivery_changelist_filters_and_search(client, administrator, tree, receiver):
    delivery = _failed_delivery(tree, receiver)
    client.force_login(administrator)
    url = reverse("admin:ltc_webhookdelivery_changelist")
    for params in (
        {"status__exact": "FAILED"},
        {"event__event_type": "opportunity.won"},
        {"q": str(delivery.pk)},
    ):
        response = client.get(url, params)
        assert response.status_code == 200
        assert [d.pk for d in response.context["cl"].result_list] == [delivery.pk], params
    response = client.get(url, {"status__exact": "DELIVERED"})
    assert list(response.context["cl"].result_list) == []


def test_admin_creates_a_subscription_and_shows_the_secret_once(client, administrator, tree):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:ltc_webhooksubscription_add"),
        {
            "name": "BI feed",
            "target_url": "https://bi.example.com/hook",
            "event_types": ["opportunity.won", "opportunity.lost"],
            "org_unit": tree["region"].pk,
        },
        follow=True,
    )
    assert response.status_code == 200
    subscription = WebhookSubscription.objects.get()
    assert (subscription.name, subscription.org_unit, subscription.created_by) == (
        "BI feed",
        tree["region"],
        administrator,
    )
    assert subscription.event_types == ["opportunity.lost", "opportunity.won"]
    messages = [str(m) for m in response.context["messages"]]
    assert any(subscription.secret in m for m in messages)
    change = client.get(reverse("admin:ltc_webhooksubscription_change", args=[subscription.pk]))
    assert subscription.secret not in change.content.decode()


def test_only_administrators_see_the_webhook_admin(client, tree):
    manager = UserFactory(org_unit=tree["region"], job_role="MANAGER", is_staff=True)
    client.force_login(manager)
    assert client.get(reverse("admin:ltc_webhookdelivery_changelist")).status_code == 403
    assert client.get(reverse("admin:ltc_webhooksubscription_changelist")).status_code == 403
