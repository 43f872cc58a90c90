"""Row locks under real concurrency (PostgreSQL only): two writers, one passes the amount check."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection, connections

from contracts.models import Contract, Invoice, Receipt
from contracts.services import contract_confirm, invoice_issue, opportunity_win, receipt_record
from ltc.errors import ApplicationError
from tests.contracts.conftest import negotiating_opportunity

D = Decimal
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]


def _race(*calls: Callable[[], object]) -> list[object]:
    """Run the calls at once, each in its own thread and database connection; return results or errors."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each writer got
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_receipts_that_together_would_overpay(cast):
    contract = contract_confirm(
        contract=opportunity_win(opportunity=negotiating_opportunity(cast), actor=cast.rep), actor=cast.rep
    )
    invoice = invoice_issue(
        milestone=contract.milestones.order_by("sequence").first(),
        actor=cast.rep,
        number="I-1",
        amount=D("1000.00"),
    )
    results = _race(
        lambda: receipt_record(invoice=invoice, actor=cast.rep, amount=D("600.00"), reference="A"),
        lambda: receipt_record(invoice=invoice, actor=cast.fr, amount=D("600.00"), reference="B"),
    )
    receipts = [r for r in results if isinstance(r, Receipt)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(receipts) == 1, results
    assert len(refused) == 1, results
    assert "Overpaying an invoice is refused" in str(refused[0].message)
    invoice.refresh_from_db()
    contract.refresh_from_db()
    assert Receipt.objects.count() == 1
    assert (invoice.paid_amount, invoice.status) == (D("600.00"), Invoice.Status.PARTIALLY_PAID)
    assert contract.collected_amount == D("600.00")


def test_two_invoices_that_together_would_exceed_the_milestone(cast):
    contract = contract_confirm(
        contract=opportunity_win(
            opportunity=negotiating_opportunity(cast, amount=D("1000.00")), actor=cast.rep
        ),
        actor=cast.rep,
    )
    advance = contract.milestones.order_by("sequence").first()  # 300.00
    results = _race(
        lambda: invoice_issue(milestone=advance, actor=cast.rep, number="I-A", amount=D("200.00")),
        lambda: invoice_issue(milestone=advance, actor=cast.fr, number="I-B", amount=D("200.00")),
    )
    assert sum(isinstance(r, Invoice) for r in results) == 1, results
    assert sum(isinstance(r, ApplicationError) for r in results) == 1, results
    advance.refresh_from_db()
    contract.refresh_from_db()
    assert advance.invoiced_amount == contract.invoiced_amount == D("200.00")


def test_winning_twice_at_once_opens_one_contract(cast):
    opp = negotiating_opportunity(cast)
    results = _race(
        lambda: opportunity_win(opportunity=opp, actor=cast.rep),
        lambda: opportunity_win(opportunity=opp, actor=cast.rep),
    )
    assert all(isinstance(r, Contract) for r in results), results
    assert results[0].pk == results[1].pk
    assert Contract.objects.filter(opportunity=opp).count() == 1


def test_a_locked_contract_does_not_block_its_neighbours(cast):
    """The lock takes the contract row only (FOR UPDATE OF), not its org unit or owner."""
    from django.db import transaction

    from contracts.services.access import lock_contract

    first, second = (
        contract_confirm(
            contract=opportunity_win(opportunity=negotiating_opportunity(cast), actor=cast.rep),
            actor=cast.rep,
        )
        for _ in range(2)
    )
    invoice = invoice_issue(
        milestone=second.milestones.order_by("sequence").first(),
        actor=cast.rep,
        number="N-1",
        amount=D("10.00"),
    )
    holding, release = threading.Event(), threading.Event()

    def hold_first() -> None:
        with transaction.atomic():
            lock_contract(contract=first, actor=cast.rep)
            holding.set()
            release.wait(timeout=30)

    def record_on_second() -> object:
        holding.wait(timeout=10)
        with connections["default"].cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")
        return receipt_record(invoice=invoice, actor=cast.fr, amount=D("10.00"))

    def releasing(call: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            try:
                return call()
            finally:
                release.set()

        return run

    results = _race(hold_first, releasing(record_on_second))
    assert isinstance(results[1], Receipt), results
