"""/api/v1/webhooks/: subscriptions (list/create/delete) and deliveries (list, detail, replay) for API clients
with the "webhooks" scope; each client sees only its own."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from ltc.events import emit_for
from ltc.models import WebhookDelivery, WebhookSubscription
from ltc.tasks import webhook_deliver_task
from ltc.webhooks.services import webhook_fanout
from tests.api.conftest import session_client, token_client
from tests.api.test_auth import assert_envelope
from tests.factories import CustomerFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db

SUBS = "/api/v1/webhooks/subscriptions/"
DELIVERIES = "/api/v1/webhooks/deliveries/"
HOOK = "https://erp.example.com/hooks/ltc"
WRITER = ["webhooks:write", "opportunities:read", "contracts:read"]


@pytest.fixture(autouse=True)
def _clear_throttle_cache():
    cache.clear()
    yield
    cache.clear()


def _create(http, **overrides):
    payload = {"name": "SAP", "target_url": HOOK, "event_types": ["opportunity.won", "contract.signed"]}
    return http.post(SUBS, {**payload, **overrides}, format="json")


def _subscribe(http) -> int:
    response = _create(http, event_types=["opportunity.won"])
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _won(tree) -> list[WebhookDelivery]:
    """An opportunity.won in dept1, fanned out: its deliveries (one per subscription), by subscription id."""
    unit = tree["dept1"]
    event = emit_for(
        "opportunity.won",
        OpportunityFactory(customer=CustomerFactory(account_dept=unit), owner=UserFactory(org_unit=unit)),
    )
    return list(WebhookDelivery.objects.filter(pk__in=webhook_fanout(event_ids=[event.pk])))


def test_create_shows_the_secret_once_and_list_never(tree):
    http = token_client(WRITER, org_unit=tree["region"])
    response = _create(http)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["event_types"] == ["contract.signed", "opportunity.won"]
    assert body["org_unit"] == tree["region"].pk  # the client's scope
    assert response["Location"].endswith(f"{SUBS}{body['id']}/")
    subscription = WebhookSubscription.objects.get(pk=body["id"])
    assert (subscription.api_client, subscription.secret) == (http.api_client, body["secret"])

    listed = http.get(SUBS)
    assert listed.status_code == 200
    (row,) = listed.json()["results"]
    assert row["id"] == body["id"] and "secret" not in row
    detail = http.get(f"{SUBS}{body['id']}/")
    assert detail.status_code == 200 and "secret" not in detail.json() and detail["ETag"]


def test_create_with_idempotency_key_makes_one_subscription(tree):
    http = token_client(WRITER)
    first = http.post(
        SUBS,
        {"name": "SAP", "target_url": HOOK, "event_types": ["opportunity.won"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="sub-1",
    )
    second = http.post(
        SUBS,
        {"name": "SAP", "target_url": HOOK, "event_types": ["opportunity.won"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="sub-1",
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert WebhookSubscription.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"target_url": "ftp://erp.example.com/x"}, "target_url"),
        ({"target_url": "not a url"}, "target_url"),
        ({"event_types": []}, "event_types"),
        ({"event_types": ["opportunity.sold"]}, "event_types"),
        ({"event_types": "opportunity.won"}, "event_types"),
        ({"name": ""}, "name"),
        ({"event_types": ["receipt.recorded"]}, "event_types"),  # the client may not read receipts
        ({"event_types": ["*"]}, "event_types"),  # nor leads, invoices, receipts
    ],
)
def test_create_400_names_the_field(tree, overrides, field):
    http = token_client(WRITER)
    body = assert_envelope(_create(http, **overrides), 400, "invalid")
    assert field in body["errors"], body
    assert WebhookSubscription.objects.count() == 0


def test_scopes_401_and_403(tree):
    assert_envelope(_create(APIClient()), 401)
    reader = token_client(["webhooks:read", "opportunities:read"])
    assert reader.get(SUBS).status_code == 200
    assert_envelope(_create(reader), 403)
    stranger = token_client(["opportunities:read", "contracts:read"])
    assert_envelope(stranger.get(SUBS), 403)
    assert_envelope(stranger.get(DELIVERIES), 403)
    # A browser user, even an administrator, manages subscriptions in the admin, not here.
    admin = UserFactory(org_unit=tree["hq"], job_role="ADMIN")
    assert_envelope(session_client(admin).get(SUBS), 403)


def test_a_client_sees_and_deletes_only_its_own(tree):
    mine, theirs = token_client(WRITER, name="mine"), token_client(WRITER, name="theirs")
    own_id = _create(mine).json()["id"]
    their_id = _create(theirs).json()["id"]
    assert [row["id"] for row in mine.get(SUBS).json()["results"]] == [own_id]
    assert_envelope(mine.get(f"{SUBS}{their_id}/"), 404)
    assert_envelope(mine.delete(f"{SUBS}{their_id}/"), 404)
    assert WebhookSubscription.objects.filter(pk=their_id).exists()
    assert mine.delete(f"{SUBS}{own_id}/").status_code == 204
    assert not WebhookSubscription.objects.filter(pk=own_id).exists()
    assert_envelope(mine.get(f"{SUBS}{own_id}/"), 404)
    assert_envelope(token_client(["webhooks:read"]).delete(f"{SUBS}{their_id}/"), 403)


def test_deliveries_list_detail_and_filters(tree, django_assert_max_num_queries):
    mine, theirs = token_client(WRITER, name="mine"), token_client(WRITER, name="theirs")
    own_sub, their_sub = _subscribe(mine), _subscribe(theirs)
    fanned = [_won(tree) for _ in range(3)]
    own = [d for batch in fanned for d in batch if d.subscription_id == own_sub]
    other = next(d for d in fanned[0] if d.subscription_id == their_sub)

    with django_assert_max_num_queries(6):
        response = mine.get(DELIVERIES)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [d.pk for d in own]
    assert rows[0]["event_type"] == "opportunity.won" and rows[0]["status"] == "PENDING"
    assert rows[0]["object_type"] == "opportunity"

    assert mine.get(DELIVERIES, {"status": "DELIVERED"}).json()["results"] == []
    assert len(mine.get(DELIVERIES, {"event_type": "opportunity.won"}).json()["results"]) == 3
    assert (
        mine.get(DELIVERIES, {"subscription": own[0].subscription_id}).json()["results"][0]["id"] == own[0].pk
    )
    assert_envelope(mine.get(DELIVERIES, {"status": "LOST"}), 400)

    assert_envelope(mine.get(f"{DELIVERIES}{other.pk}/"), 404)
    detail = mine.get(f"{DELIVERIES}{own[0].pk}/")
    assert detail.status_code == 200 and detail.json()["attempt_log"] == []


def test_replay_queues_a_new_attempt_for_own_deliveries_only(
    tree, receiver, django_capture_on_commit_callbacks
):
    mine, theirs = token_client(WRITER, name="mine"), token_client(WRITER, name="theirs")
    own_sub, _ = _subscribe(mine), _subscribe(theirs)
    (delivery,) = [d for d in _won(tree) if d.subscription_id == own_sub]
    WebhookSubscription.objects.filter(pk=delivery.subscription_id).update(target_url=receiver.url)
    receiver.secret = WebhookSubscription.objects.get(pk=delivery.subscription_id).secret
    assert webhook_deliver_task(delivery_id=delivery.pk, attempt=1)["result"] == "delivered"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = mine.post(f"{DELIVERIES}{delivery.pk}/replay/")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "PENDING"
    (queued,) = callbacks
    assert queued.keywords == {
        "delivery_id": delivery.pk,
        "attempt": 2,
        "trigger": "REPLAY",
        "requested_by_id": mine.api_client.acting_user_id,
    }
    assert webhook_deliver_task(**queued.keywords)["result"] == "delivered"
    assert len(receiver.requests) == 2 and all(r.verified for r in receiver.requests)
    log = mine.get(f"{DELIVERIES}{delivery.pk}/").json()["attempt_log"]
    assert [(a["number"], a["trigger"], a["status_code"]) for a in log] == [
        (1, "INITIAL", 200),
        (2, "REPLAY", 200),
    ]

    assert_envelope(theirs.post(f"{DELIVERIES}{delivery.pk}/replay/"), 404)
    assert_envelope(token_client(["webhooks:read"]).post(f"{DELIVERIES}{delivery.pk}/replay/"), 403)
    assert mine.get(f"{DELIVERIES}{delivery.pk}/replay/").status_code == 405
