"""Invoices and receipts: the amount checks, who may record money, idempotency, the overdue scan."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from contracts.models import Contract, Invoice, PaymentMilestone, Receipt
from contracts.services import (
    contract_confirm,
    invoice_cancel,
    invoice_issue,
    invoice_overdue_mark,
    opportunity_win,
    receipt_record,
)
from contracts.tasks import invoice_overdue_scan_task
from ltc.errors import ApplicationError, NotAllowed
from tests.contracts.conftest import negotiating_opportunity
from tests.factories import InvoiceFactory

pytestmark = pytest.mark.django_db
D = Decimal


def _milestones(contract: Contract) -> list[PaymentMilestone]:
    return list(contract.milestones.order_by("sequence"))


def _totals(contract: Contract) -> tuple[Decimal, Decimal]:
    contract.refresh_from_db()
    return contract.invoiced_amount, contract.collected_amount


def test_invoicing_a_received_contract_is_refused(cast):
    contract = opportunity_win(opportunity=negotiating_opportunity(cast), actor=cast.rep)
    with pytest.raises(ApplicationError) as err:
        invoice_issue(milestone=_milestones(contract)[0], actor=cast.rep, number="I-1", amount=D("10.00"))
    assert "contract" in err.value.extra
    assert not Invoice.objects.exists()
    assert _totals(contract) == (D("0.00"), D("0.00"))


def test_over_invoicing_a_milestone_is_refused(executing, cast):
    advance = _milestones(executing)[0]  # 300,000.00
    with pytest.raises(ApplicationError) as err:
        invoice_issue(milestone=advance, actor=cast.rep, number="I-1", amount=D("300000.01"))
    assert "amount" in err.value.extra
    assert "milestone" in str(err.value.message)
    invoice_issue(milestone=advance, actor=cast.rep, number="I-2", amount=D("200000.00"))
    with pytest.raises(ApplicationError) as err:
        invoice_issue(milestone=advance, actor=cast.rep, number="I-3", amount=D("100000.01"))
    assert "100000.00" in err.value.extra["amount"][0]
    invoice_issue(milestone=advance, actor=cast.rep, number="I-4", amount=D("100000.00"))
    advance.refresh_from_db()
    assert advance.invoiced_amount == advance.amount == D("300000.00")
    assert _totals(executing) == (D("300000.00"), D("0.00"))


def test_over_invoicing_the_contract_is_refused(executing, cast):
    with pytest.raises(ApplicationError) as err:
        invoice_issue(contract=executing, actor=cast.rep, number="I-1", amount=D("1000000.01"))
    assert "contract" in str(err.value.message)
    assert "amount" in err.value.extra
    invoice_issue(contract=executing, actor=cast.rep, number="I-2", amount=D("900000.00"))
    # 100,000.00 is left on the contract.
    with pytest.raises(ApplicationError) as err:
        invoice_issue(contract=executing, actor=cast.rep, number="I-3", amount=D("100000.01"))
    assert "contract" in str(err.value.message)
    invoice_issue(contract=executing, actor=cast.rep, number="I-4", amount=D("100000.00"))
    assert _totals(executing) == (D("1000000.00"), D("0.00"))
    # The PAC milestone has 600,000.00 un-invoiced, but the contract has nothing left.
    pac = _milestones(executing)[1]
    with pytest.raises(ApplicationError) as err:
        invoice_issue(milestone=pac, actor=cast.rep, number="I-5", amount=D("0.01"))
    assert "contract" in str(err.value.message)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": D("0")}, "amount"),
        ({"amount": D("-5")}, "amount"),
        ({"amount": D("1.234")}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"number": "  "}, "number"),
        ({"issued_on": dt.date(2026, 5, 2), "due_on": dt.date(2026, 5, 1)}, "due_on"),
    ],
)
def test_invoice_bad_input(executing, cast, kwargs, field):
    args = {"milestone": _milestones(executing)[0], "actor": cast.rep, "number": "I-1", "amount": D("1.00")}
    args.update(kwargs)
    with pytest.raises(ApplicationError) as err:
        invoice_issue(**args)
    assert field in err.value.extra
    assert not Invoice.objects.exists()


def test_invoice_number_is_unique_and_external_id_is_idempotent(executing, cast):
    advance = _milestones(executing)[0]
    first = invoice_issue(
        milestone=advance, actor=cast.rep, number="I-1", amount=D("10.00"), external_id="E-1"
    )
    again = invoice_issue(
        milestone=advance, actor=cast.rep, number="I-1", amount=D("10.00"), external_id="E-1"
    )
    assert again.pk == first.pk
    with pytest.raises(ApplicationError) as err:
        invoice_issue(milestone=advance, actor=cast.rep, number="I-1", amount=D("10.00"))
    assert "number" in err.value.extra
    assert _totals(executing) == (D("10.00"), D("0.00"))


def test_milestone_of_another_contract_is_refused(executing, cast):
    other = contract_confirm(
        contract=opportunity_win(opportunity=negotiating_opportunity(cast), actor=cast.rep), actor=cast.rep
    )
    with pytest.raises(ApplicationError) as err:
        invoice_issue(
            contract=executing, milestone=_milestones(other)[0], actor=cast.rep, number="X", amount=D("1.00")
        )
    assert "milestone" in err.value.extra


def test_receipts_update_invoice_and_contract(executing, cast):
    invoice = invoice_issue(
        milestone=_milestones(executing)[0], actor=cast.rep, number="I-1", amount=D("1000.00")
    )
    receipt_record(invoice=invoice, actor=cast.fr, amount=D("400.00"), reference="B1")
    invoice.refresh_from_db()
    assert (invoice.paid_amount, invoice.status) == (D("400.00"), Invoice.Status.PARTIALLY_PAID)
    receipt_record(invoice=invoice, actor=cast.fr, amount=D("600.00"))
    invoice.refresh_from_db()
    assert (invoice.paid_amount, invoice.status) == (D("1000.00"), Invoice.Status.PAID)
    assert _totals(executing) == (D("1000.00"), D("1000.00"))


def test_overpaying_an_invoice_is_refused(executing, cast):
    invoice = invoice_issue(
        milestone=_milestones(executing)[0], actor=cast.rep, number="I-1", amount=D("1000.00")
    )
    with pytest.raises(ApplicationError) as err:
        receipt_record(invoice=invoice, actor=cast.rep, amount=D("1000.01"))
    assert "Overpaying an invoice is refused" in str(err.value.message)
    assert "amount" in err.value.extra
    receipt_record(invoice=invoice, actor=cast.rep, amount=D("999.00"))
    with pytest.raises(ApplicationError) as err:
        receipt_record(invoice=invoice, actor=cast.rep, amount=D("1.01"))
    assert "1.00" in err.value.extra["amount"][0]
    assert Receipt.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.paid_amount == D("999.00")
    assert _totals(executing) == (D("1000.00"), D("999.00"))


def test_receipt_with_the_same_external_id_twice_records_one(executing, cast):
    invoice = invoice_issue(
        milestone=_milestones(executing)[0], actor=cast.rep, number="I-1", amount=D("1000.00")
    )
    first = receipt_record(invoice=invoice, actor=cast.fr, amount=D("1000.00"), external_id="BANK-77")
    # The replay would overpay if it were recorded again; it returns the first receipt instead.
    second = receipt_record(invoice=invoice, actor=cast.fr, amount=D("1000.00"), external_id="BANK-77")
    assert second.pk == first.pk
    assert Receipt.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.paid_amount == D("1000.00")
    assert _totals(executing) == (D("1000.00"), D("1000.00"))


def test_receipt_external_id_of_another_invoice_is_refused(executing, cast):
    advance, pac, _fac = _milestones(executing)
    one = invoice_issue(milestone=advance, actor=cast.rep, number="I-1", amount=D("10.00"))
    two = invoice_issue(milestone=pac, actor=cast.rep, number="I-2", amount=D("10.00"))
    receipt_record(invoice=one, actor=cast.rep, amount=D("5.00"), external_id="R-1")
    with pytest.raises(ApplicationError) as err:
        receipt_record(invoice=two, actor=cast.rep, amount=D("5.00"), external_id="R-1")
    assert "external_id" in err.value.extra


def test_receipt_refuses_future_dates_and_cancelled_invoices(executing, cast):
    invoice = invoice_issue(
        milestone=_milestones(executing)[0], actor=cast.rep, number="I-1", amount=D("10.00")
    )
    with pytest.raises(ApplicationError) as err:
        receipt_record(
            invoice=invoice,
            actor=cast.rep,
            amount=D("1.00"),
            received_on=timezone.localdate() + dt.timedelta(days=1),
        )
    assert "received_on" in err.value.extra
    invoice_cancel(invoice=invoice, actor=cast.rep, reason="开错了")
    with pytest.raises(ApplicationError) as err:
        receipt_record(invoice=invoice, actor=cast.rep, amount=D("1.00"))
    assert "invoice" in err.value.extra
    assert not Receipt.objects.exists()


def test_peer_rep_cannot_record_money_on_someone_elses_contract(executing, cast):
    invoice = invoice_issue(
        milestone=_milestones(executing)[0], actor=cast.rep, number="I-1", amount=D("10.00")
    )
    with pytest.raises(NotAllowed):
        receipt_record(invoice=invoice, actor=cast.peer, amount=D("1.00"))
    with pytest.raises(NotAllowed):
        invoice_issue(milestone=_milestones(executing)[1], actor=cast.peer, number="I-2", amount=D("1.00"))
    with pytest.raises(NotAllowed):
        invoice_cancel(invoice=invoice, actor=cast.peer)
    # Another branch's manager does not see it either.
    with pytest.raises(NotAllowed):
        receipt_record(invoice=invoice, actor=cast.other_mgr, amount=D("1.00"))
    assert not Receipt.objects.exists()
    assert _totals(executing) == (D("10.00"), D("0.00"))


def test_solution_expert_sees_but_does_not_record_money(executing, cast):
    invoice = invoice_issue(
        milestone=_milestones(executing)[0], actor=cast.rep, number="I-1", amount=D("10.00")
    )
    with pytest.raises(NotAllowed) as err:
        receipt_record(invoice=invoice, actor=cast.sr, amount=D("1.00"))
    assert "FR" in str(err.value.message)


@pytest.mark.parametrize("who", ["rep", "fr", "dept_mgr", "office_mgr", "admin"])
def test_who_may_record_money(executing, cast, who):
    invoice = invoice_issue(
        milestone=_milestones(executing)[0], actor=cast.rep, number="I-1", amount=D("10.00")
    )
    receipt = receipt_record(invoice=invoice, actor=getattr(cast, who), amount=D("10.00"))
    assert receipt.recorded_by == getattr(cast, who)


def test_opportunity_fr_may_record_money(executing, cast):
    from tests.factories import UserFactory

    deal_fr = UserFactory(username="deal_fr", org_unit=cast.tree["dept2"], job_role="DELIVERY_EXPERT")
    executing.opportunity.team.filter(role="FR").update(user=deal_fr)
    invoice = invoice_issue(
        milestone=_milestones(executing)[0], actor=deal_fr, number="I-1", amount=D("10.00")
    )
    assert invoice.history.get().history_user == deal_fr


def test_invoice_cancel_gives_the_amount_back_and_only_when_unpaid(executing, cast):
    advance = _milestones(executing)[0]
    unpaid = invoice_issue(milestone=advance, actor=cast.rep, number="I-1", amount=D("100.00"))
    paid = invoice_issue(milestone=advance, actor=cast.rep, number="I-2", amount=D("50.00"))
    receipt_record(invoice=paid, actor=cast.rep, amount=D("1.00"))
    cancelled = invoice_cancel(invoice=unpaid, actor=cast.rep, reason="开错了")
    assert cancelled.status == Invoice.Status.CANCELLED
    assert (
        invoice_cancel(invoice=unpaid, actor=cast.rep).status == Invoice.Status.CANCELLED
    )  # twice: no change
    advance.refresh_from_db()
    assert advance.invoiced_amount == D("50.00")
    assert _totals(executing) == (D("50.00"), D("1.00"))
    with pytest.raises(ApplicationError) as err:
        invoice_cancel(invoice=paid, actor=cast.rep)
    assert "status" in err.value.extra


def test_overdue_scan_marks_each_invoice_once(executing, cast):
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
    make("O-3", as_of)  # due today: not yet overdue
    make("O-4", dt.date(2026, 3, 1), status=Invoice.Status.PAID, paid_amount=D("100.00"))
    make("O-5", dt.date(2026, 3, 1), status=Invoice.Status.CANCELLED)
    make("O-6", dt.date(2026, 3, 1), overdue_notified_on=dt.date(2026, 3, 2))

    first = invoice_overdue_scan_task(as_of=as_of.isoformat())
    assert first == {"as_of": "2026-06-30", "count": 2, "invoice_ids": sorted([overdue.pk, partly.pk])}
    overdue.refresh_from_db()
    assert overdue.overdue_notified_on == as_of
    assert overdue.history.latest().overdue_notified_on == as_of
    snapshot = list(Invoice.objects.order_by("pk").values_list("pk", "overdue_notified_on", "updated_at"))
    history_rows = Invoice.history.count()

    second = invoice_overdue_scan_task(as_of=as_of.isoformat())
    assert second == {"as_of": "2026-06-30", "count": 0, "invoice_ids": []}
    assert (
        list(Invoice.objects.order_by("pk").values_list("pk", "overdue_notified_on", "updated_at"))
        == snapshot
    )
    assert Invoice.history.count() == history_rows
    # A month later only the invoice that was due on the first day has newly fallen overdue.
    due_today = Invoice.objects.get(number="O-3")
    assert invoice_overdue_mark(as_of=dt.date(2026, 7, 31)) == [due_today.pk]


def test_overdue_scan_task_defaults_to_today(executing, cast):
    invoice = InvoiceFactory(
        contract=executing,
        amount=D("100.00"),
        issued_on=timezone.localdate() - dt.timedelta(days=60),
        due_on=timezone.localdate() - dt.timedelta(days=1),
    )
    result = invoice_overdue_scan_task()
    assert result["invoice_ids"] == [invoice.pk]
    assert result["as_of"] == timezone.localdate().isoformat()
