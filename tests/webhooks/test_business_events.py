"""Each business event fires from its service, once, with a JSON payload (ids, external ids, amounts as
strings, ISO dates) — and a service that fails emits nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from contracts.models import Invoice
from contracts.services import (
    contract_change_apply,
    contract_change_decide,
    contract_change_propose,
    contract_create,
    invoice_issue,
    opportunity_win,
    receipt_record,
)
from contracts.tasks import invoice_overdue_scan_task
from ltc.errors import ApplicationError
from ltc.models import WebhookEvent
from pipeline.models import Lead
from pipeline.services.leads import lead_close, lead_convert, lead_create
from pipeline.services.opportunities import gate_decide, opportunity_abandon, opportunity_lose
from tests.contracts.conftest import negotiating_opportunity
from tests.factories import InvoiceFactory, opportunity_deal

pytestmark = pytest.mark.django_db


def _events(event_type: str) -> list[WebhookEvent]:
    return list(WebhookEvent.objects.filter(event_type=event_type).order_by("pk"))


def test_lead_convert_emits_lead_converted(cast):
    lead = lead_create(
        actor=cast.rep, title="码头5G专网", customer=cast.customer, source=Lead.Source.MARKET_INSIGHT
    )
    opportunity = lead_convert(lead=lead, actor=cast.rep, amount=D("2500000.00"))

    (event,) = _events("lead.converted")
    assert (event.obj_type, event.obj_id, event.actor_id) == ("lead", lead.pk, cast.rep.pk)
    assert event.payload["status"] == "CONVERTED"
    assert event.payload["opportunity_id"] == opportunity.pk
    assert event.payload["customer_external_id"] == cast.customer.external_id
    assert event.payload["converted_at"] == Lead.objects.get(pk=lead.pk).converted_at.isoformat()
    with pytest.raises(ApplicationError):
        lead_convert(lead=lead, actor=cast.rep)  # converts once; the refusal emits nothing
    assert len(_events("lead.converted")) == 1


def test_closing_a_lead_emits_nothing(cast):
    lead = lead_create(
        actor=cast.rep, title="园区网络", customer=cast.customer, source=Lead.Source.MARKET_INSIGHT
    )
    lead_close(lead=lead, actor=cast.rep, reason="预算取消")
    assert WebhookEvent.objects.count() == 0


def test_gate_decide_emits_gate_decided_once(tree):
    deal = opportunity_deal(tree)
    decision = gate_decide(opportunity=deal.opp, actor=deal.dept_manager, gate="ATI", outcome="GO")
    again = gate_decide(opportunity=deal.opp, actor=deal.dept_manager, gate="ATI", outcome="GO")
    assert again.pk == decision.pk  # the same decision repeated is not a new event
    (event,) = _events("gate.decided")
    assert (event.obj_type, event.obj_id) == ("gate_decision", decision.pk)
    assert event.payload["gate"] == "ATI" and event.payload["outcome"] == "GO"
    assert event.payload["opportunity_id"] == deal.opp.pk
    assert event.payload["amount_at_decision"] == "800000.00"
    assert event.payload["decided_on"] == timezone.localdate().isoformat()


def test_lose_and_abandon_emit_their_events_once(tree):
    lost, abandoned = opportunity_deal(tree), opportunity_deal(tree)
    opportunity_lose(opportunity=lost.opp, actor=lost.rep, reason="价格")
    opportunity_lose(opportunity=lost.opp, actor=lost.rep, reason="价格")  # already lost: unchanged
    opportunity_abandon(opportunity=abandoned.opp, actor=abandoned.rep, reason="战略调整")

    (event,) = _events("opportunity.lost")
    assert (event.obj_id, event.payload["stage"], event.payload["close_reason"]) == (
        lost.opp.pk,
        "LOST",
        "价格",
    )
    (event,) = _events("opportunity.abandoned")
    assert (event.obj_id, event.payload["stage"]) == (abandoned.opp.pk, "ABANDONED")


def test_opportunity_win_emits_won_and_contract_signed(cast):
    opp = negotiating_opportunity(cast, amount=D("1234567.89"))
    contract = opportunity_win(opportunity=opp, actor=cast.rep)
    assert opportunity_win(opportunity=opp, actor=cast.rep).pk == contract.pk  # safe twice

    (won,) = _events("opportunity.won")
    assert (won.obj_type, won.obj_id, won.payload["stage"], won.payload["amount"]) == (
        "opportunity",
        opp.pk,
        "WON",
        "1234567.89",
    )
    (signed,) = _events("contract.signed")
    assert (signed.obj_type, signed.obj_id) == ("contract", contract.pk)
    assert signed.payload["source"] == "opportunity"
    assert signed.payload["opportunity_id"] == opp.pk
    assert signed.payload["number"] == contract.number
    assert signed.payload["amount"] == "1234567.89"
    assert signed.payload["signed_on"] == contract.signed_on.isoformat()


def test_imported_contract_emits_contract_signed_once(cast):
    kwargs = {
        "actor": cast.admin,
        "customer": cast.customer,
        "number": "ERP-HT-9",
        "amount": D("900.00"),
        "signed_on": timezone.localdate() - dt.timedelta(days=3),
        "payment_terms": "DELIVERY",
        "external_id": "ERP-9",
    }
    contract = contract_create(**kwargs)
    contract_create(**kwargs)  # the same import again returns the contract
    (event,) = _events("contract.signed")
    assert (event.obj_id, event.payload["source"], event.payload["contract_external_id"]) == (
        contract.pk,
        "import",
        "ERP-9",
    )


def test_contract_change_apply_emits_contract_changed(executing, cast):
    change = contract_change_propose(
        contract=executing, actor=cast.rep, description="扩容二期并入", new_amount=D("1500000.00")
    )
    change = contract_change_decide(change=change, actor=cast.office_mgr, approve=True)
    assert WebhookEvent.objects.filter(event_type="contract.changed").count() == 0  # not applied yet
    change = contract_change_apply(change=change, actor=cast.rep)
    contract_change_apply(change=change, actor=cast.rep)  # already applied: unchanged

    (event,) = _events("contract.changed")
    assert (event.obj_type, event.obj_id) == ("contract", executing.pk)
    assert event.payload["amount"] == "1500000.00"
    assert event.payload["change"]["change_id"] == change.pk
    assert event.payload["change"]["new_amount"] == "1500000.00"
    assert event.payload["change"]["status"] == "APPLIED"


def test_receipt_record_emits_receipt_recorded(executing, cast):
    advance = executing.milestones.order_by("sequence").first()
    invoice = invoice_issue(milestone=advance, actor=cast.rep, number="I-1", amount=D("1000.00"))
    receipt = receipt_record(invoice=invoice, actor=cast.fr, amount=D("400.00"), external_id="BANK-1")
    receipt_record(invoice=invoice, actor=cast.fr, amount=D("400.00"), external_id="BANK-1")  # same again
    with pytest.raises(ApplicationError):
        receipt_record(invoice=invoice, actor=cast.fr, amount=D("600.01"))  # overpaying: refused, no event

    (event,) = _events("receipt.recorded")
    assert (event.obj_type, event.obj_id, event.actor_id) == ("receipt", receipt.pk, cast.fr.pk)
    assert event.payload["amount"] == "400.00"
    assert event.payload["receipt_external_id"] == "BANK-1"
    assert event.payload["invoice_status"] == "PARTIALLY_PAID"
    assert event.payload["invoice_paid_amount"] == "400.00"
    assert event.payload["contract_collected_amount"] == "400.00"


def test_overdue_scan_emits_invoice_overdue_once_per_invoice(executing):
    as_of = dt.date(2026, 6, 30)

    def make(number, due_on, **extra):
        return InvoiceFactory(
            contract=executing,
            number=number,
            amount=D("100.00"),
            issued_on=dt.date(2026, 1, 1),
            due_on=due_on,
            **extra,
        )

    overdue = make("O-1", dt.date(2026, 6, 29))
    partly = make("O-2", dt.date(2026, 3, 1), status=Invoice.Status.PARTIALLY_PAID, paid_amount=D("10.00"))
    due_today = make("O-3", as_of)  # due today: not overdue yet
    make("O-4", dt.date(2026, 3, 1), status=Invoice.Status.PAID, paid_amount=D("100.00"))

    invoice_overdue_scan_task(as_of=as_of.isoformat())
    invoice_overdue_scan_task(as_of=as_of.isoformat())
    events = _events("invoice.overdue")
    assert sorted(e.obj_id for e in events) == sorted([overdue.pk, partly.pk])

    invoice_overdue_scan_task(as_of=(as_of + dt.timedelta(days=1)).isoformat())
    assert [e.obj_id for e in _events("invoice.overdue")[2:]] == [due_today.pk]
    by_invoice = {e.obj_id: e.payload for e in events}
    assert by_invoice[overdue.pk]["days_overdue"] == 1
    assert by_invoice[overdue.pk]["as_of"] == "2026-06-30"
    assert by_invoice[partly.pk]["outstanding"] == "90.00"
    assert by_invoice[partly.pk]["contract_external_id"] == executing.external_id
