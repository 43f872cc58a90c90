"""Bulk upsert of contracts, invoices and receipts from the ERP: created / updated / unchanged, bad rows named
and nothing written, the money rules (no invoice beyond its contract or milestone, no overpaid invoice) with
the running totals recomputed in SQL, and a constant number of queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import Contract, Invoice, PaymentMilestone, Receipt
from tests.api.conftest import token_client
from tests.api.test_auth import assert_envelope
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

CONTRACTS, INVOICES, RECEIPTS = "/api/v1/contracts/bulk/", "/api/v1/invoices/bulk/", "/api/v1/receipts/bulk/"
TODAY = "2026-01-10"


def post(http, url, rows):
    return http.post(url, {"rows": rows}, format="json")


def named(response) -> set[tuple[int, str]]:
    body = assert_envelope(response, 400)
    return {(e["index"], e["field"]) for e in body["errors"]["rows"]}


@pytest.fixture
def erp(tree):
    owner = UserFactory(org_unit=tree["dept1"], username="sales.one")
    for i in range(3):
        CustomerFactory(account_dept=tree["dept1"], external_id=f"C-{i}")
    return token_client(["contracts:write", "invoices:write", "receipts:write"], name="SAP"), owner


def contract_rows(n: int, *, start: int = 0, **extra) -> list[dict]:
    return [
        {
            "external_id": f"K-{i}",
            "number": f"HT-ERP-{i}",
            "customer": f"C-{i % 3}",
            "owner": "sales.one",
            "amount": "1000.00",
            "signed_on": TODAY,
            "payment_terms": "ADVANCE_FAC",
            "status": "EXECUTING",
            **extra,
        }
        for i in range(start, start + n)
    ]


def test_contracts(erp, tree):
    http, owner = erp
    assert post(http, CONTRACTS, contract_rows(3)).json() == {"created": 3, "updated": 0, "unchanged": 0}
    contract = Contract.objects.get(external_id="K-1")
    assert (contract.org_unit, contract.owner, contract.status) == (tree["dept1"], owner, "EXECUTING")
    assert contract.confirmed_at is not None
    assert list(contract.milestones.values_list("sequence", "kind", "amount")) == [
        (1, "ADVANCE", Decimal("500.00")),
        (2, "FAC", Decimal("500.00")),
    ]
    stamps = dict(Contract.objects.values_list("external_id", "updated_at"))
    assert post(http, CONTRACTS, contract_rows(3)).json() == {"created": 0, "updated": 0, "unchanged": 3}
    assert dict(Contract.objects.values_list("external_id", "updated_at")) == stamps
    rows = contract_rows(3)
    rows[0]["status"] = "RECEIVED"
    rows[1]["amount"] = "2000.00"
    rows[2]["payment_terms"] = "CUSTOM"
    assert named(post(http, CONTRACTS, rows)) == {(2, "payment_terms")}
    rows[2]["payment_terms"] = "ADVANCE_FAC"
    assert named(post(http, CONTRACTS, rows)) == {(0, "status"), (1, "amount")}
    rows = contract_rows(4, title="")
    rows[0]["title"] = "改名"
    assert post(http, CONTRACTS, rows).json() == {"created": 1, "updated": 1, "unchanged": 2}
    assert PaymentMilestone.objects.count() == 8
    hidden = CustomerFactory(account_dept=tree["dept3"], external_id="C-FAR")
    scoped = token_client(["contracts:write"], org_unit=tree["dept1"])
    bad = contract_rows(2, start=10)
    bad[0]["customer"] = hidden.external_id
    bad[1]["signed_on"] = "2999-01-01"
    assert named(post(scoped, CONTRACTS, bad)) == {(0, "customer")}
    bad[0]["customer"] = "C-0"
    assert named(post(scoped, CONTRACTS, bad)) == {(1, "signed_on")}
    assert not Contract.objects.filter(external_id__in=["K-10", "K-11"]).exists()
    assert_envelope(post(token_client(["contracts:read"]), CONTRACTS, contract_rows(1)), 403)


def invoice_rows(
    n: int, *, contract: str = "K-0", amount: str = "100.00", start: int = 0, **extra
) -> list[dict]:
    return [
        {
            "external_id": f"I-{i}",
            "number": f"FP-{i}",
            "contract": contract,
            "amount": amount,
            "issued_on": TODAY,
            **extra,
        }
        for i in range(start, start + n)
    ]


def test_invoices_keep_the_contract_and_milestone_totals(erp):
    http, _owner = erp
    post(http, CONTRACTS, contract_rows(2))
    rows = invoice_rows(3, milestone_sequence=1)
    assert post(http, INVOICES, rows).json() == {"created": 3, "updated": 0, "unchanged": 0}
    contract = Contract.objects.get(external_id="K-0")
    assert contract.invoiced_amount == Decimal("300.00")
    assert contract.milestones.get(sequence=1).invoiced_amount == Decimal("300.00")
    invoice = Invoice.objects.get(external_id="I-0")
    assert invoice.milestone.sequence == 1 and invoice.currency == contract.currency
    assert (invoice.due_on - invoice.issued_on).days == 30
    assert post(http, INVOICES, rows).json() == {"created": 0, "updated": 0, "unchanged": 3}
    rows[0]["amount"] = "150.00"
    assert post(http, INVOICES, rows).json() == {"created": 0, "updated": 1, "unchanged": 2}
    assert Contract.objects.get(external_id="K-0").invoiced_amount == Decimal("350.00")

    # Beyond the milestone (500): the rows of that milestone are named, nothing is written.
    over = invoice_rows(2, start=10, amount="100.00", milestone_sequence=1)
    assert named(post(http, INVOICES, over)) == {(0, "milestone_sequence"), (1, "milestone_sequence")}
    # Beyond the contract (1000): rows of K-0 named, the row of K-1 is not.
    over = [*invoice_rows(2, start=20, amount="400.00"), *invoice_rows(1, start=30, contract="K-1")]
    assert named(post(http, INVOICES, over)) == {(0, "amount"), (1, "amount")}
    assert Invoice.objects.count() == 3
    contract.refresh_from_db()
    assert contract.invoiced_amount == Decimal("350.00")
    bad = invoice_rows(2, start=40, milestone_sequence=None)
    bad[0]["milestone_sequence"] = 9
    bad[1]["due_on"] = "2025-01-01"
    bad.append(
        {**invoice_rows(1, start=42)[0], "contract": "K-404", "milestone_sequence": None, "due_on": None}
    )
    bad[0]["due_on"] = None
    # A row naming nothing that exists is reported first; the cross-table rules once every row is well-formed.
    assert named(post(http, INVOICES, bad)) == {(2, "contract")}
    assert named(post(http, INVOICES, bad[:2])) == {(0, "milestone_sequence"), (1, "due_on")}
    assert Invoice.objects.count() == 3


def test_invoices_need_an_executing_contract(erp):
    http, _owner = erp
    post(http, CONTRACTS, contract_rows(1, status="RECEIVED"))
    assert named(post(http, INVOICES, invoice_rows(1))) == {(0, "contract")}


def test_receipts_never_overpay_and_keep_the_totals(erp):
    http, _owner = erp
    post(http, CONTRACTS, contract_rows(1))
    post(http, INVOICES, invoice_rows(2, amount="300.00"))
    rows = [
        {"external_id": "R-1", "invoice": "I-0", "amount": "100.00", "received_on": TODAY, "reference": "B1"},
        {"external_id": "R-2", "invoice": "I-0", "amount": "200.00", "received_on": TODAY, "reference": "B2"},
        {"external_id": "R-3", "invoice": "I-1", "amount": "50.00", "received_on": TODAY, "reference": "B3"},
    ]
    assert post(http, RECEIPTS, rows).json() == {"created": 3, "updated": 0, "unchanged": 0}
    first, second = Invoice.objects.get(external_id="I-0"), Invoice.objects.get(external_id="I-1")
    assert (first.paid_amount, first.status) == (Decimal("300.00"), "PAID")
    assert (second.paid_amount, second.status) == (Decimal("50.00"), "PARTIALLY_PAID")
    assert Contract.objects.get(external_id="K-0").collected_amount == Decimal("350.00")
    assert Receipt.objects.get(external_id="R-1").recorded_by == http.api_client.acting_user
    assert post(http, RECEIPTS, rows).json() == {"created": 0, "updated": 0, "unchanged": 3}
    # Moving R-2 to the other invoice recomputes both.
    rows[1]["invoice"] = "I-1"
    assert post(http, RECEIPTS, rows).json() == {"created": 0, "updated": 1, "unchanged": 2}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.paid_amount, first.status, second.paid_amount) == (
        Decimal("100.00"),
        "PARTIALLY_PAID",
        Decimal("250.00"),
    )
    # Two new rows, each within what is outstanding (200), overpay together: both named, nothing written.
    more = [
        {"external_id": f"R-{i}", "invoice": "I-0", "amount": "150.00", "received_on": TODAY, "reference": ""}
        for i in (4, 5)
    ]
    assert named(post(http, RECEIPTS, more)) == {(0, "amount"), (1, "amount")}
    assert Receipt.objects.count() == 3
    assert Invoice.objects.get(external_id="I-0").paid_amount == Decimal("100.00")
    late = [{**more[0], "received_on": "2999-01-01"}]
    assert named(post(http, RECEIPTS, late)) == {(0, "received_on")}


def test_a_cancelled_invoice_takes_no_receipt(erp):
    http, _owner = erp
    post(http, CONTRACTS, contract_rows(1))
    post(http, INVOICES, invoice_rows(1))
    Invoice.objects.filter(external_id="I-0").update(status=Invoice.Status.CANCELLED)
    row = {"external_id": "R-1", "invoice": "I-0", "amount": "10.00", "received_on": TODAY}
    assert named(post(http, RECEIPTS, [row])) == {(0, "invoice")}


@pytest.mark.parametrize("url", [CONTRACTS, INVOICES, RECEIPTS])
def test_query_count_does_not_grow_with_rows(erp, url):
    http, _owner = erp
    post(http, CONTRACTS, contract_rows(3, amount="100000000.00"))
    if url == RECEIPTS:
        post(http, INVOICES, invoice_rows(3, amount="1000000.00", start=900_000))

    def rows(n: int, start: int) -> list[dict]:
        if url == CONTRACTS:
            return contract_rows(n, start=start + 10)
        if url == INVOICES:
            return [*invoice_rows(n, start=start, amount="10.00", contract=f"K-{start % 3}")]
        return [
            {
                "external_id": f"R-{i}",
                "invoice": f"I-{900_000 + i % 3}",
                "amount": "1.00",
                "received_on": TODAY,
            }
            for i in range(start, start + n)
        ]

    post(http, url, rows(1, 50_000))
    counts = []
    for n, start in ((10, 0), (1000, 100)):
        with CaptureQueriesContext(connection) as queries:
            response = post(http, url, rows(n, start))
        assert response.json()["created"] == n, response.content
        counts.append(len(queries))
    with CaptureQueriesContext(connection) as queries:
        assert post(http, url, rows(1000, 100)).json()["unchanged"] == 1000
    counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[2] <= counts[1]
    assert counts[1] <= 20
