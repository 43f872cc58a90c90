"""Business events for integrations: the write side of the webhook outbox.

A service that completes a step an integration cares about calls `emit` (or `emit_for` with the model
instance) inside its own transaction. The event row is written in that transaction, so a change that rolls
back emits nothing, and the fan-out task is queued only after the commit. If the broker is down at that
moment, the event stays in the outbox and the sweeper (`ltc.tasks.webhook_outbox_sweep_task`) fans it out.

This module sits in `ltc` but is imported by the lower apps' services like `ltc.errors`: it imports no app
at module level (payload builders import their models lazily), so it adds no import cycle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import models, transaction

from ltc.models import WebhookEvent, WebhookEventType

EVENT_TYPES: tuple[str, ...] = tuple(WebhookEventType.values)
FANOUT_BATCH = 500


def _json_value(value: Any) -> Any:
    """Amounts as strings (exact), dates and times as ISO 8601, model instances as their id."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def _actor(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "pk", None) is not None else None


def _queue_fanout(event_ids: list[int], event_type: str) -> None:
    """After commit, one fan-out task per event (per batch of events for a bulk emission).

    No task is queued when no active subscription wants the event (one indexed query instead of a broker
    round trip; the sweeper closes such events). robust=True: a broker that is down must not turn a
    committed request into an error; the sweeper picks the events up later.
    """
    from ltc.tasks import webhook_fanout_task
    from ltc.webhooks.selectors import any_subscription_wants

    if not event_ids or not any_subscription_wants(event_type):
        return

    if len(event_ids) == 1:
        transaction.on_commit(partial(webhook_fanout_task.delay, event_id=event_ids[0]), robust=True)
        return
    for start in range(0, len(event_ids), FANOUT_BATCH):
        batch = event_ids[start : start + FANOUT_BATCH]
        transaction.on_commit(partial(webhook_fanout_task.delay, event_ids=batch), robust=True)


def emit(event_type: str, *, obj_type: str, obj_id: int, payload: dict, actor: Any = None) -> WebhookEvent:
    """Record `event_type` about (obj_type, obj_id) in the current transaction and fan it out after commit.

    `payload` must be JSON-able (use `emit_for` to build it from a model instance). `actor` is the user who
    made the change (None for scheduled jobs).
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {event_type!r}")
    event = WebhookEvent.objects.create(
        event_type=event_type,
        obj_type=obj_type,
        obj_id=obj_id,
        payload=_json_value(payload),
        actor=_actor(actor),
    )
    _queue_fanout([event.pk], event_type)
    return event


# --- Payloads built from model instances --------------------------------------------------------------
#
# Each builder takes a freshly loaded instance (with the relations named in `_RELATED`) and returns
# (obj_type, obj_id, payload). The object named is the one whose visibility decides who hears the event.


def _customer(customer: Any) -> dict:
    if customer is None:
        return {"customer_id": None, "customer_external_id": None}
    return {"customer_id": customer.pk, "customer_external_id": customer.external_id}


def _opportunity_fields(opp: Any) -> dict:
    return {
        "opportunity_id": opp.pk,
        "opportunity_external_id": opp.external_id,
        "name": opp.name,
        **_customer(opp.customer),
        "amount": opp.amount,
        "currency": opp.currency,
        "stage": opp.stage,
        "probability": opp.probability,
        "expected_sign_on": opp.expected_sign_on,
        "close_reason": opp.close_reason,
        "closed_at": opp.closed_at,
        "owner_id": opp.owner_id,
        "org_unit_id": opp.org_unit_id,
        "lead_id": opp.lead_id,
    }


def _contract_fields(contract: Any) -> dict:
    opp = contract.opportunity
    return {
        "contract_id": contract.pk,
        "contract_external_id": contract.external_id,
        "number": contract.number,
        "title": contract.title,
        **_customer(contract.customer),
        "opportunity_id": contract.opportunity_id,
        "opportunity_external_id": opp.external_id if opp is not None else None,
        "amount": contract.amount,
        "currency": contract.currency,
        "signed_on": contract.signed_on,
        "payment_terms": contract.payment_terms,
        "status": contract.status,
        "invoiced_amount": contract.invoiced_amount,
        "collected_amount": contract.collected_amount,
        "owner_id": contract.owner_id,
        "org_unit_id": contract.org_unit_id,
    }


def _lead(lead: Any, extra: dict) -> tuple[str, int, dict]:
    opp = extra.pop("opportunity", None)
    if opp is None:
        from pipeline.models import Opportunity

        opp = Opportunity.objects.filter(lead_id=lead.pk).first()
    return (
        "lead",
        lead.pk,
        {
            "lead_id": lead.pk,
            "lead_external_id": lead.external_id,
            "title": lead.title,
            **_customer(lead.customer),
            "status": lead.status,
            "grade": lead.grade,
            "estimated_amount": lead.estimated_amount,
            "currency": lead.currency,
            "converted_at": lead.converted_at,
            "owner_id": lead.owner_id,
            "org_unit_id": lead.org_unit_id,
            "opportunity_id": opp.pk if opp is not None else None,
            "opportunity_external_id": opp.external_id if opp is not None else None,
        },
    )


def _gate_decision(decision: Any, extra: dict) -> tuple[str, int, dict]:
    opp = decision.opportunity
    return (
        "gate_decision",
        decision.pk,
        {
            "gate_decision_id": decision.pk,
            "gate": decision.gate,
            "outcome": decision.outcome,
            "decided_on": decision.decided_on,
            "decider_id": decision.decider_id,
            "conditions": decision.conditions,
            "amount_at_decision": decision.amount_at_decision,
            "margin_at_decision": decision.margin_at_decision,
            "escalated_to_id": decision.escalated_to_id,
            "opportunity_id": opp.pk,
            "opportunity_external_id": opp.external_id,
            "stage": opp.stage,
            **_customer(opp.customer),
        },
    )


def _opportunity(opp: Any, extra: dict) -> tuple[str, int, dict]:
    return "opportunity", opp.pk, _opportunity_fields(opp)


def _contract(contract: Any, extra: dict) -> tuple[str, int, dict]:
    payload = _contract_fields(contract)
    payload["source"] = "opportunity" if contract.opportunity_id else "import"
    return "contract", contract.pk, payload


def _contract_change(change: Any, extra: dict) -> tuple[str, int, dict]:
    contract = change.contract
    payload = _contract_fields(contract)
    payload["change"] = {
        "change_id": change.pk,
        "description": change.description,
        "new_amount": change.new_amount,
        "new_signed_on": change.new_signed_on,
        "status": change.status,
        "decider_id": change.decider_id,
        "applied_at": change.applied_at,
    }
    return "contract", contract.pk, payload


def _invoice(invoice: Any, extra: dict) -> tuple[str, int, dict]:
    contract = invoice.contract
    as_of = invoice.overdue_notified_on
    return (
        "invoice",
        invoice.pk,
        {
            "invoice_id": invoice.pk,
            "invoice_external_id": invoice.external_id,
            "number": invoice.number,
            "contract_id": contract.pk,
            "contract_external_id": contract.external_id,
            **_customer(contract.customer),
            "amount": invoice.amount,
            "paid_amount": invoice.paid_amount,
            "outstanding": invoice.amount - invoice.paid_amount,
            "currency": invoice.currency,
            "status": invoice.status,
            "issued_on": invoice.issued_on,
            "due_on": invoice.due_on,
            "as_of": as_of,
            "days_overdue": (as_of - invoice.due_on).days if as_of else None,
        },
    )


def _receipt(receipt: Any, extra: dict) -> tuple[str, int, dict]:
    invoice, contract = receipt.invoice, receipt.contract
    return (
        "receipt",
        receipt.pk,
        {
            "receipt_id": receipt.pk,
            "receipt_external_id": receipt.external_id,
            "amount": receipt.amount,
            "currency": receipt.currency,
            "received_on": receipt.received_on,
            "reference": receipt.reference,
            "invoice_id": receipt.invoice_id,
            "invoice_external_id": invoice.external_id if invoice is not None else None,
            "invoice_status": invoice.status if invoice is not None else None,
            "invoice_paid_amount": invoice.paid_amount if invoice is not None else None,
            "contract_id": contract.pk,
            "contract_external_id": contract.external_id,
            **_customer(contract.customer),
            "contract_collected_amount": contract.collected_amount,
        },
    )


Builder = Callable[[Any, dict], tuple[str, int, dict]]

# model label → (builder, relations to load with it)
_BUILDERS: dict[str, tuple[Builder, tuple[str, ...]]] = {
    "pipeline.Lead": (_lead, ("customer",)),
    "pipeline.GateDecision": (_gate_decision, ("opportunity", "opportunity__customer")),
    "pipeline.Opportunity": (_opportunity, ("customer",)),
    "contracts.Contract": (_contract, ("customer", "opportunity")),
    "contracts.ContractChange": (
        _contract_change,
        ("contract", "contract__customer", "contract__opportunity"),
    ),
    "contracts.Invoice": (_invoice, ("contract", "contract__customer")),
    "contracts.Receipt": (_receipt, ("invoice", "contract", "contract__customer")),
}


def _builder(model: type[models.Model]) -> tuple[Builder, tuple[str, ...]]:
    try:
        return _BUILDERS[model._meta.label]
    except KeyError:
        raise ValueError(f"No webhook payload for {model._meta.label}") from None


def event_payload(instance: models.Model, **extra: Any) -> tuple[str, int, dict]:
    """(obj_type, obj_id, payload) for an event about `instance`, read afresh from the database (in the
    caller's transaction, so it shows the change being made) with its relations in one query."""
    build, related = _builder(type(instance))
    fresh = type(instance)._default_manager.select_related(*related).get(pk=instance.pk)
    obj_type, obj_id, payload = build(fresh, extra)
    payload.update(extra)
    return obj_type, obj_id, payload


def emit_for(event_type: str, instance: models.Model, *, actor: Any = None, **extra: Any) -> WebhookEvent:
    """`emit` with the payload built from a model instance; `extra` values are added to the payload."""
    obj_type, obj_id, payload = event_payload(instance, **extra)
    return emit(event_type, obj_type=obj_type, obj_id=obj_id, payload=payload, actor=actor)


def emit_many(event_type: str, instances: Iterable[models.Model], *, actor: Any = None) -> list[WebhookEvent]:
    """One event per instance (all of one model), in one insert; the relations are loaded in one query."""
    instances = list(instances)
    if not instances:
        return []
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {event_type!r}")
    model = type(instances[0])
    build, related = _builder(model)
    fresh = model._default_manager.select_related(*related).filter(pk__in=[i.pk for i in instances])
    rows = []
    for obj in sorted(fresh, key=lambda o: o.pk):
        obj_type, obj_id, payload = build(obj, {})
        rows.append(
            WebhookEvent(
                event_type=event_type,
                obj_type=obj_type,
                obj_id=obj_id,
                payload=_json_value(payload),
                actor=_actor(actor),
            )
        )
    # PostgreSQL and SQLite (≥ 3.35) return the new ids from a bulk insert.
    events = WebhookEvent.objects.bulk_create(rows, batch_size=FANOUT_BATCH)
    _queue_fanout([event.pk for event in events], event_type)
    return events
