"""Reads of webhooks: who may hear about an event, and the subscriptions and deliveries a client sees."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

from accounts.selectors import Scope, scope_for_org_unit
from contracts.selectors import contract_visible_to, invoice_visible_to, receipt_visible_to
from ltc.api.scopes import READ, scopes_allow
from ltc.models import ApiClient, WebhookDelivery, WebhookEvent, WebhookSubscription
from pipeline.selectors import gate_decision_visible_to, lead_visible_to, opportunity_visible_to

# The object of an event → its visibility selector and the API resource a client needs to read it.
_OBJECTS: dict[str, tuple[Callable[..., QuerySet], str]] = {
    "lead": (lead_visible_to, "leads"),
    "opportunity": (opportunity_visible_to, "opportunities"),
    "gate_decision": (gate_decision_visible_to, "opportunities"),
    "contract": (contract_visible_to, "contracts"),
    "invoice": (invoice_visible_to, "invoices"),
    "receipt": (receipt_visible_to, "receipts"),
}

# Which API resource an event type is about (for checking a client's read scopes when it subscribes).
EVENT_RESOURCE: dict[str, str] = {
    "lead.converted": "leads",
    "gate.decided": "opportunities",
    "opportunity.won": "opportunities",
    "opportunity.lost": "opportunities",
    "opportunity.abandoned": "opportunities",
    "contract.signed": "contracts",
    "contract.changed": "contracts",
    "invoice.overdue": "invoices",
    "receipt.recorded": "receipts",
}


def any_subscription_wants(event_type: str) -> bool:
    """Is there an active subscription to `event_type`? One query over the (few) active subscriptions."""
    for types in WebhookSubscription.objects.filter(is_active=True).values_list("event_types", flat=True):
        if WebhookSubscription.ALL_EVENTS in (types or []) or event_type in (types or []):
            return True
    return False


def subscription_scope(subscription: WebhookSubscription) -> Scope:
    """What the subscriber may see: its API client's org unit, or the subscription's own (None: everything)."""
    if subscription.api_client_id is not None:
        return scope_for_org_unit(subscription.api_client.org_unit)
    return scope_for_org_unit(subscription.org_unit)


def subscription_may_receive(subscription: WebhookSubscription, event: WebhookEvent) -> bool:
    """Active, subscribed to the type, created before the event, owned by an active client holding the read
    scope of the event's resource (if client-owned), and the record is visible in the subscriber's scope."""
    if not subscription.is_active or not subscription.wants(event.event_type):
        return False
    if subscription.created_at > event.created_at:
        return False
    try:
        selector, resource = _OBJECTS[event.obj_type]
    except KeyError:
        return False
    client = subscription.api_client if subscription.api_client_id is not None else None
    if client is not None and (not client.is_active or not scopes_allow(client.scopes, resource, READ)):
        return False
    scope = subscription_scope(subscription)
    if scope.everything:
        return True
    return selector(None, scope=scope).filter(pk=event.obj_id).exists()


def active_subscriptions() -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(is_active=True).select_related(
        "api_client", "api_client__org_unit", "org_unit"
    )


def subscription_list_for(client: ApiClient) -> QuerySet[WebhookSubscription]:
    """The subscriptions an API client owns."""
    return WebhookSubscription.objects.filter(api_client=client).select_related("org_unit")


def delivery_list_for(client: ApiClient) -> QuerySet[WebhookDelivery]:
    """The deliveries of the subscriptions an API client owns."""
    return WebhookDelivery.objects.filter(subscription__api_client=client).select_related("event")
