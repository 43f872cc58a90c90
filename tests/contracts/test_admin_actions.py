"""Admin actions on opportunities (win), contracts and invoices go through the contracts services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from contracts.models import Contract, Invoice
from pipeline.models import Stage
from tests.factories import (
    ContractFactory,
    GateDecisionFactory,
    InvoiceFactory,
    OpportunityFactory,
    UserFactory,
)
from tests.pipeline.test_admin_actions import errors, run_action, successes


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True, job_role=User.JobRole.ADMIN)


def test_win_opens_the_contract_and_refuses_a_deal_not_in_negotiation(client, root, tree):
    ready = OpportunityFactory(
        name="省网扩容",
        stage=Stage.NEGOTIATE,
        amount=Decimal("1200000.00"),
        customer__account_dept=tree["dept1"],
    )
    GateDecisionFactory(opportunity=ready, gate="ATC", outcome="GO")
    early = OpportunityFactory(name="早期项目", stage=Stage.BID, customer__account_dept=tree["dept1"])

    messages_ = run_action(
        client, root, "admin:pipeline_opportunity_changelist", "win_and_open_contract", [ready, early]
    )

    ready.refresh_from_db()
    early.refresh_from_db()
    assert ready.stage == Stage.WON
    contract = Contract.objects.get(opportunity=ready)
    assert (contract.amount, contract.customer_id, contract.status) == (
        Decimal("1200000.00"),
        ready.customer_id,
        Contract.Status.RECEIVED,
    )
    assert contract.milestones.count() > 0
    assert early.stage == Stage.BID
    assert not Contract.objects.filter(opportunity=early).exists()
    assert successes(messages_) == ["Won, contract opened 已赢单并生成合同: 1 succeeded. 成功 1 条。"]
    [refusal] = errors(messages_)
    assert refusal.startswith("早期项目: ") and "谈判" in refusal

    # Twice is safe: the same contract comes back, no second one.
    run_action(client, root, "admin:pipeline_opportunity_changelist", "win_and_open_contract", [ready])
    assert Contract.objects.filter(opportunity=ready).count() == 1


def test_confirm_contract_and_refuse_a_closed_one(client, root, tree):
    received = ContractFactory(number="HT-A", customer__account_dept=tree["dept1"])
    closed = ContractFactory(
        number="HT-B",
        customer__account_dept=tree["dept1"],
        status=Contract.Status.CLOSED,
        closed_at=timezone.now(),
    )

    messages_ = run_action(
        client, root, "admin:contracts_contract_changelist", "confirm_contracts", [received, closed]
    )

    received.refresh_from_db()
    closed.refresh_from_db()
    assert received.status == Contract.Status.EXECUTING and received.confirmed_at is not None
    assert closed.status == Contract.Status.CLOSED
    assert successes(messages_) == ["Confirmed 已确认: 1 succeeded. 成功 1 条。"]
    [refusal] = errors(messages_)
    assert refusal.startswith("HT-B: ")


def test_close_contract_needs_an_evaluation(client, root, tree):
    contract = ContractFactory(
        number="HT-C", customer__account_dept=tree["dept1"], status=Contract.Status.EXECUTING
    )
    messages_ = run_action(
        client,
        root,
        "admin:contracts_contract_changelist",
        "close_contracts",
        [contract],
        evaluation="",
        evaluation_score="",
    )
    contract.refresh_from_db()
    assert contract.status == Contract.Status.EXECUTING
    [refusal] = errors(messages_)
    assert "关闭合同需要填写评价" in refusal


def test_cancel_invoice_gives_the_amount_back(client, root, tree):
    contract = ContractFactory(
        customer__account_dept=tree["dept1"],
        status=Contract.Status.EXECUTING,
        invoiced_amount=Decimal("100000.00"),
    )
    invoice = InvoiceFactory(contract=contract, amount=Decimal("100000.00"))
    messages_ = run_action(
        client,
        root,
        "admin:contracts_invoice_changelist",
        "cancel_invoices",
        [invoice],
        reason="开票信息错误",
    )
    invoice.refresh_from_db()
    contract.refresh_from_db()
    assert invoice.status == Invoice.Status.CANCELLED
    assert contract.invoiced_amount == Decimal("0.00")
    assert errors(messages_) == []
