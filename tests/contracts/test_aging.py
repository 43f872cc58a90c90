"""Receivables aging and DSO against figures worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.selectors import scope_for
from contracts.models import Invoice
from contracts.selectors import contract_balance, dso, receivables_aging
from ltc.errors import ApplicationError
from tests.factories import ContractFactory, CustomerFactory, InvoiceFactory, ReceiptFactory

pytestmark = pytest.mark.django_db
D = Decimal
AS_OF = dt.date(2026, 6, 30)
KEYS = ["not_due", "0_30", "31_90", "91_180", "over_180"]


def _invoice(contract, amount, issued, due, *, paid=(), status=None):
    """An invoice with receipts [(amount, received_on)]; status and paid_amount follow the receipts."""
    paid_amount = sum((a for a, _on in paid), D("0.00"))
    if status is None:
        status = "PAID" if paid_amount == amount else ("PARTIALLY_PAID" if paid_amount else "ISSUED")
    invoice = InvoiceFactory(
        contract=contract,
        currency=contract.currency,
        amount=amount,
        issued_on=issued,
        due_on=due,
        paid_amount=paid_amount,
        status=status,
    )
    for value, received_on in paid:
        ReceiptFactory(invoice=invoice, amount=value, received_on=received_on)
    return invoice


@pytest.fixture
def ledger(cast):
    """Invoices around 30 June 2026 on a contract the rep owns, one in USD, and one the rep cannot see."""
    contract = ContractFactory(customer=cast.customer, owner=cast.rep, amount=D("100000.00"))
    usd = ContractFactory(customer=cast.customer, owner=cast.rep, amount=D("10000.00"), currency="USD")
    far = ContractFactory(customer=CustomerFactory(account_dept=cast.tree["dept3"]), amount=D("100000.00"))
    d = dt.date
    # not due: due 20 July → 1,000
    _invoice(contract, D("1000.00"), d(2026, 6, 20), d(2026, 7, 20))
    # due today (0 days overdue) → 0–30: 2,000 − 500 paid on 10 June = 1,500
    _invoice(contract, D("2000.00"), d(2026, 5, 1), d(2026, 6, 30), paid=[(D("500.00"), d(2026, 6, 10))])
    # 30 days overdue → 0–30: 3,000 (issued 1 April: just outside a 90-day DSO window)
    _invoice(contract, D("3000.00"), d(2026, 4, 1), d(2026, 5, 31))
    # 31 days overdue → 31–90: 4,000, paid in full on 5 July, after the as-of day, so it counts
    _invoice(contract, D("4000.00"), d(2026, 4, 15), d(2026, 5, 30), paid=[(D("4000.00"), d(2026, 7, 5))])
    # 180 days overdue (1 Jan → 30 Jun) → 91–180: 5,000
    _invoice(contract, D("5000.00"), d(2025, 12, 1), d(2026, 1, 1))
    # 181 days overdue → over 180: 6,000 − 1,000 paid = 5,000
    _invoice(contract, D("6000.00"), d(2025, 11, 1), d(2025, 12, 31), paid=[(D("1000.00"), d(2026, 2, 1))])
    # Cancelled: never counts, in aging or DSO.
    _invoice(contract, D("7000.00"), d(2026, 6, 1), d(2026, 6, 10), status="CANCELLED")
    # Issued after the as-of day: not yet a receivable, nor in the window.
    _invoice(contract, D("8000.00"), d(2026, 7, 1), d(2026, 7, 31))
    # Paid in full before the as-of day: in the DSO window (9,000) but not a receivable.
    _invoice(contract, D("9000.00"), d(2026, 6, 1), d(2026, 6, 15), paid=[(D("9000.00"), d(2026, 6, 14))])
    # USD, 1 day overdue → 0–30 in USD: 500
    _invoice(usd, D("500.00"), d(2026, 5, 30), d(2026, 6, 29))
    # Another branch: 29 days overdue → 0–30, seen by the admin only: 10,000
    _invoice(far, D("10000.00"), d(2026, 5, 1), d(2026, 6, 1))
    return contract


def test_aging_buckets_for_the_rep(ledger, cast):
    scope_for(cast.rep)  # the scope is read once per request; the report itself is one query
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        report = receivables_aging(user=cast.rep, as_of=AS_OF)
    assert len(queries) == 1
    assert [b["key"] for b in report["buckets"]] == KEYS
    assert set(report["by_currency"]) == {"CNY", "USD"}
    cny = report["by_currency"]["CNY"]
    assert cny["amounts"] == {
        "not_due": D("1000.00"),
        "0_30": D("4500.00"),
        "31_90": D("4000.00"),
        "91_180": D("5000.00"),
        "over_180": D("5000.00"),
    }
    assert cny["counts"] == {"not_due": 1, "0_30": 2, "31_90": 1, "91_180": 1, "over_180": 1}
    assert cny["total"] == D("19500.00")
    usd = report["by_currency"]["USD"]
    assert usd["amounts"]["0_30"] == D("500.00")
    assert usd["total"] == D("500.00")


def test_aging_for_the_admin_includes_the_other_branch(ledger, cast):
    cny = receivables_aging(user=cast.admin, as_of=AS_OF)["by_currency"]["CNY"]
    assert cny["amounts"]["0_30"] == D("14500.00")
    assert cny["total"] == D("29500.00")


def test_aging_for_a_peer_is_empty(ledger, cast):
    assert receivables_aging(user=cast.peer, as_of=AS_OF)["by_currency"] == {}


def test_aging_buckets_follow_settings(ledger, cast, settings):
    settings.LTC = {**settings.LTC, "AGING_BUCKETS": [60]}
    report = receivables_aging(user=cast.rep, as_of=AS_OF)
    assert [b["key"] for b in report["buckets"]] == ["not_due", "0_60", "over_60"]
    # 0–60: 1,500 + 3,000 + 4,000; over 60: 5,000 + 5,000.
    assert report["by_currency"]["CNY"]["amounts"] == {
        "not_due": D("1000.00"),
        "0_60": D("8500.00"),
        "over_60": D("10000.00"),
    }


def test_aging_on_a_later_day(ledger, cast):
    # On 31 July the 4,000 invoice is paid (5 July) and drops out; the 8,000 invoice of 1 July is due
    # that day (0 days overdue). 0–30: 8,000 + 1,000 (due 20 Jul, 11 days); 31–90: 1,500 (due 30 Jun,
    # 31 days) + 3,000 (due 31 May, 61 days); over 180: 5,000 (due 1 Jan, 211 days) + 5,000 (212 days).
    cny = receivables_aging(user=cast.rep, as_of=dt.date(2026, 7, 31))["by_currency"]["CNY"]
    assert cny["amounts"] == {
        "not_due": D("0"),
        "0_30": D("9000.00"),
        "31_90": D("4500.00"),
        "91_180": D("0"),
        "over_180": D("10000.00"),
    }


def test_dso_against_a_hand_computed_figure(ledger, cast):
    # Receivables at 30 June: 19,500 (see the aging test). Invoiced in (2 April, 30 June]:
    # 1,000 + 2,000 + 4,000 + 9,000 = 16,000 (the 3,000 of 1 April is outside; cancelled and later ones
    # never count). DSO = 19,500 ÷ 16,000 × 90 = 109.6875 → 109.69 days.
    scope_for(cast.rep)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        value = dso(user=cast.rep, as_of=AS_OF, days=90)
    assert len(queries) == 1
    assert value == D("109.69")
    # Over 91 days the 1 April invoice is in: 19,500 ÷ 19,000 × 91 = 93.394… → 93.39.
    assert dso(user=cast.rep, as_of=AS_OF, days=91) == D("93.39")
    # USD: 500 ÷ 500 × 90 = 90.
    assert dso(user=cast.rep, as_of=AS_OF, currency="USD") == D("90.00")
    # Nothing invoiced in the window: no DSO.
    assert dso(user=cast.rep, as_of=AS_OF, currency="EUR") is None
    assert dso(user=cast.peer, as_of=AS_OF) is None
    with pytest.raises(ApplicationError) as err:
        dso(user=cast.rep, as_of=AS_OF, days=0)
    assert "days" in err.value.extra


def test_contract_balance(ledger):
    ledger.invoiced_amount, ledger.collected_amount = D("60000.00"), D("25000.00")
    assert contract_balance(ledger) == {
        "amount": D("100000.00"),
        "invoiced": D("60000.00"),
        "collected": D("25000.00"),
        "to_invoice": D("40000.00"),
        "receivable": D("35000.00"),
        "to_collect": D("75000.00"),
    }
    assert Invoice.objects.count() == 11
