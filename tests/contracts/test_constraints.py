"""Database constraints of contracts, milestones, changes, invoices and receipts
(harness: tests/ltc/test_constraints.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from contracts.models import Contract, ContractChange, ContractNumberSequence, Invoice, Receipt
from tests.factories import (
    ContractFactory,
    InvoiceFactory,
    PaymentMilestoneFactory,
    ReceiptFactory,
    UserFactory,
)
from tests.ltc.test_constraints import Check, Unique, covered_names, run_check, run_unique

NOW = timezone.now()
CENT = Decimal("0.01")


def build_change(**kwargs) -> ContractChange:
    values = {"description": "增加扩容批次", "new_amount": Decimal("1200000.00")}
    values.update(kwargs)
    values.setdefault("contract", ContractFactory())
    values.setdefault("requested_by", UserFactory())
    return ContractChange.objects.create(**values)


def build_contract_half_invoiced() -> Contract:
    return ContractFactory(invoiced_amount=Decimal("400000.00"), collected_amount=Decimal("100000.00"))


def build_sequence(**kwargs) -> ContractNumberSequence:
    values = {"year": 2026, "last_value": 12}
    values.update(kwargs)
    return ContractNumberSequence.objects.create(**values)


def choices(name: str, build, field: str, good: str) -> Check:
    return Check(name, build, bad={field: "Z"}, good={field: good})


CHECKS = [
    choices("contract_status_valid", ContractFactory, "status", "EXECUTING"),
    choices("contract_terms_valid", ContractFactory, "payment_terms", "CUSTOM"),
    Check("contract_amount_nonneg", ContractFactory, bad={"amount": Decimal("-0.01")}, good={"amount": 0}),
    # invoiced ≤ amount: invoicing the whole contract passes, a cent more is refused. (A negative invoiced
    # amount cannot be tested alone: it also breaks collected ≤ invoiced, which PostgreSQL may report first.)
    Check(
        "contract_invoiced_within_amount",
        build_contract_half_invoiced,
        bad={"invoiced_amount": F("amount") + CENT},
        good={"invoiced_amount": F("amount")},
    ),
    # collected ≤ invoiced: collecting every invoiced yuan passes, a cent more is refused.
    Check(
        "contract_collected_within_invoiced",
        build_contract_half_invoiced,
        bad={"collected_amount": F("invoiced_amount") + CENT},
        good={"collected_amount": F("invoiced_amount")},
    ),
    Check("contract_collected_within_invoiced", ContractFactory, bad={"collected_amount": -CENT}),
    Check(
        "contract_closed_has_time",
        ContractFactory,
        bad={"status": "CLOSED", "closed_at": None},
        good={"status": "CLOSED", "closed_at": NOW},
    ),
    Check(
        "contract_evaluation_1_5", ContractFactory, bad={"evaluation_score": 6}, good={"evaluation_score": 5}
    ),
    Check(
        "contract_evaluation_1_5", ContractFactory, bad={"evaluation_score": 0}, good={"evaluation_score": 1}
    ),
    choices("milestone_kind_valid", PaymentMilestoneFactory, "kind", "FAC"),
    Check(
        "milestone_percent",
        PaymentMilestoneFactory,
        bad={"percent": Decimal("0")},
        good={"percent": Decimal("0.01")},
    ),
    Check(
        "milestone_percent",
        PaymentMilestoneFactory,
        bad={"percent": Decimal("100.01")},
        good={"percent": Decimal("100")},
    ),
    Check("milestone_amount_nonneg", PaymentMilestoneFactory, bad={"amount": -CENT}),
    Check(
        "milestone_invoiced_within_amount",
        PaymentMilestoneFactory,
        bad={"invoiced_amount": F("amount") + CENT},
        good={"invoiced_amount": F("amount")},
    ),
    Check("milestone_invoiced_within_amount", PaymentMilestoneFactory, bad={"invoiced_amount": -CENT}),
    # A decided change (decider and time set), so only the status check can object.
    choices(
        "contractchange_status_valid",
        lambda: build_change(decider=UserFactory(), decided_at=NOW),
        "status",
        "REJECTED",
    ),
    Check("contractchange_amount_nonneg", build_change, bad={"new_amount": -CENT}, good={"new_amount": None}),
    Check(
        "contractchange_decided_has_decider",
        build_change,
        bad={"status": "APPROVED", "decided_at": NOW},
        good={"status": "PROPOSED"},
    ),
    Check(
        "contractchange_decided_has_decider",
        build_change,
        bad={"status": "REJECTED", "decider": None, "decided_at": None},
    ),
    Check(
        "contractchange_applied_has_time",
        lambda: build_change(decider=UserFactory(), decided_at=NOW),
        bad={"status": "APPLIED", "applied_at": None},
        good={"status": "APPLIED", "applied_at": NOW},
    ),
    choices("invoice_status_valid", InvoiceFactory, "status", "PARTIALLY_PAID"),
    Check("invoice_amount_pos", InvoiceFactory, bad={"amount": Decimal("0")}, good={"amount": Decimal("1")}),
    # Never overpaid: paid = amount passes, a cent more is refused; a negative paid amount is refused too.
    Check(
        "invoice_not_overpaid",
        InvoiceFactory,
        bad={"paid_amount": F("amount") + CENT},
        good={"paid_amount": F("amount")},
    ),
    Check("invoice_not_overpaid", InvoiceFactory, bad={"paid_amount": -CENT}),
    Check(
        "invoice_due_after_issue",
        InvoiceFactory,
        bad={"due_on": F("issued_on") - dt.timedelta(days=1)},
        good={"due_on": F("issued_on")},
    ),
    Check("receipt_amount_pos", ReceiptFactory, bad={"amount": Decimal("0")}, good={"amount": CENT}),
]

UNIQUES = [
    Unique(
        "contract_number_unique",
        ContractFactory,
        lambda a: ContractFactory(number=a.number),
        lambda a: ContractFactory(number=a.number + "-B"),
    ),
    Unique(
        "contract_external_id_unique",
        ContractFactory,
        lambda a: ContractFactory(external_id=a.external_id),
        lambda a: ContractFactory(external_id=a.external_id + "-B"),
    ),
    Unique(
        "milestone_unique_sequence",
        PaymentMilestoneFactory,
        lambda a: PaymentMilestoneFactory(contract=a.contract, sequence=a.sequence),
        lambda a: PaymentMilestoneFactory(contract=a.contract, sequence=a.sequence + 1),
    ),
    Unique(
        "invoice_number_unique",
        InvoiceFactory,
        lambda a: InvoiceFactory(number=a.number),
        lambda a: InvoiceFactory(number=a.number + "-B"),
    ),
    Unique(
        "invoice_external_id_unique",
        InvoiceFactory,
        lambda a: InvoiceFactory(external_id=a.external_id),
        lambda a: InvoiceFactory(external_id=a.external_id + "-B"),
    ),
    Unique(
        "receipt_external_id_unique",
        ReceiptFactory,
        lambda a: ReceiptFactory(external_id=a.external_id),
        lambda a: ReceiptFactory(external_id=a.external_id + "-B"),
    ),
    Unique(
        "contractnumberseq_unique_year",
        build_sequence,
        lambda a: build_sequence(year=a.year),
        lambda a: build_sequence(year=a.year + 1),
    ),
]

COVERED = covered_names(CHECKS) | covered_names(UNIQUES)


def _case_id(case) -> str:
    bad = ",".join(f"{k}={v}" for k, v in case.bad.items() if not hasattr(v, "resolve_expression"))
    return f"{case.name}[{bad}]"


@pytest.mark.django_db
@pytest.mark.parametrize("case", CHECKS, ids=[f"{_case_id(c)}-{i}" for i, c in enumerate(CHECKS)])
def test_check_constraint(case):
    run_check(case)


@pytest.mark.django_db
@pytest.mark.parametrize("case", UNIQUES, ids=[f"{c.name}-{i}" for i, c in enumerate(UNIQUES)])
def test_unique_constraint(case):
    run_unique(case)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "build"),
    [
        pytest.param(Contract, lambda: ContractFactory(external_id=None), id="contract"),
        pytest.param(Invoice, lambda: InvoiceFactory(external_id=None), id="invoice"),
        pytest.param(Receipt, lambda: ReceiptFactory(external_id=None), id="receipt"),
    ],
)
def test_many_rows_without_external_id(model, build):
    first, second = build(), build()
    assert model.objects.filter(pk__in=[first.pk, second.pk], external_id__isnull=True).count() == 2
