"""Contract pages: confirm, achieve a milestone, issue an invoice, record a receipt; refusals as messages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from contracts.models import Contract, Invoice, Receipt
from contracts.services import invoice_issue
from tests.factories import CustomerTeamMemberFactory, UserFactory
from tests.web.conftest import login, negotiating

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_confirm_a_received_contract(cast, as_rep):
    from contracts.services import opportunity_win

    opp = negotiating(cast.customer, owner=cast.rep, sr=cast.sr, fr=cast.fr, decider=cast.dept_mgr)
    contract = opportunity_win(opportunity=opp, actor=cast.rep)
    assert (
        reverse("contract-confirm", args=[contract.pk])
        in as_rep.get(reverse("contract-detail", args=[contract.pk])).content.decode()
    )
    response = as_rep.post(reverse("contract-confirm", args=[contract.pk]), follow=True)
    assert messages_of(response) == [("success", "Contract confirmed: now executing. 合同已确认，进入执行。")]
    contract.refresh_from_db()
    assert contract.status == Contract.Status.EXECUTING


def test_achieve_issue_and_collect(cast, as_rep):
    contract = cast.contract
    milestone = contract.milestones.order_by("sequence").first()
    response = as_rep.post(
        reverse("milestone-achieve", args=[contract.pk, milestone.pk]), {"achieved_on": ""}, follow=True
    )
    assert messages_of(response) == [("success", "Milestone achieved. 里程碑已达成。")]
    milestone.refresh_from_db()
    assert milestone.achieved_on is not None

    response = as_rep.post(
        reverse("invoice-issue", args=[contract.pk]),
        {"number": "FP-0001", "amount": "100000.00", "milestone": milestone.pk},
        follow=True,
    )
    assert messages_of(response) == [("success", "Invoice issued. 发票已开具。")]
    invoice = Invoice.objects.get(number="FP-0001")
    assert (invoice.contract, invoice.milestone, invoice.amount) == (
        contract,
        milestone,
        Decimal("100000.00"),
    )

    as_rep.post(
        reverse("receipt-record", args=[contract.pk]),
        {"invoice": invoice.pk, "amount": "40000", "reference": "BANK-1"},
    )
    receipt = Receipt.objects.get(invoice=invoice)
    assert (receipt.amount, receipt.reference, receipt.recorded_by) == (
        Decimal("40000.00"),
        "BANK-1",
        cast.rep,
    )
    content = as_rep.get(reverse("contract-detail", args=[contract.pk])).content.decode()
    assert "FP-0001" in content and "BANK-1" in content


def test_overpaying_is_a_bilingual_message(cast, as_rep):
    invoice = invoice_issue(actor=cast.rep, contract=cast.contract, number="FP-9", amount=Decimal("1000.00"))
    response = as_rep.post(
        reverse("receipt-record", args=[cast.contract.pk]),
        {"invoice": invoice.pk, "amount": "1000.01"},
        follow=True,
    )
    assert response.status_code == 200
    [(level, text)] = messages_of(response)
    assert (
        level == "error" and "Overpaying an invoice is refused. 回款金额超过发票未回款金额，已拒绝。" in text
    )
    assert not Receipt.objects.filter(invoice=invoice).exists()


def test_an_invoice_of_another_contract_is_not_accepted(cast, as_rep):
    other = invoice_issue(
        actor=cast.other_rep,
        contract=_confirmed(cast.other_contract, cast.other_rep),
        number="X1",
        amount=Decimal("10.00"),
    )
    response = as_rep.post(
        reverse("receipt-record", args=[cast.contract.pk]), {"invoice": other.pk, "amount": "1"}, follow=True
    )
    assert messages_of(response)[0][0] == "error"
    assert not Receipt.objects.filter(invoice=other).exists()


def _confirmed(contract, actor):
    from contracts.services import contract_confirm

    return contract_confirm(contract=contract, actor=actor)


def test_a_solution_expert_sees_the_contract_but_no_cash_actions_and_is_refused(cast):
    CustomerTeamMemberFactory(customer=cast.customer, user=cast.sr, role="SR")
    client = login(cast.sr)
    content = client.get(reverse("contract-detail", args=[cast.contract.pk])).content.decode()
    assert cast.contract.number in content
    assert reverse("invoice-issue", args=[cast.contract.pk]) not in content
    response = client.post(
        reverse("invoice-issue", args=[cast.contract.pk]), {"number": "FP-SR", "amount": "10"}, follow=True
    )
    assert (
        "只有合同负责人、客户经理(AR)或交付经理(FR)、上级主管或管理员可以执行此操作"
        in messages_of(response)[0][1]
    )
    assert not Invoice.objects.filter(number="FP-SR").exists()


def test_money_on_a_contract_not_yet_confirmed_is_refused(cast, as_rep):
    from contracts.services import opportunity_win

    opp = negotiating(
        cast.customer,
        owner=cast.rep,
        sr=UserFactory(org_unit=cast.tree["dept1"]),
        fr=cast.fr,
        decider=cast.dept_mgr,
    )
    contract = opportunity_win(opportunity=opp, actor=cast.rep)
    response = as_rep.post(
        reverse("invoice-issue", args=[contract.pk]), {"number": "FP-R", "amount": "10"}, follow=True
    )
    assert "只有执行中的合同才能开票或回款" in messages_of(response)[0][1]
    assert not Invoice.objects.filter(number="FP-R").exists()


def test_list_filters_by_status(cast, as_rep):
    assert (
        cast.contract.number in as_rep.get(reverse("contract-list"), {"status": "EXECUTING"}).content.decode()
    )
    assert (
        cast.contract.number
        not in as_rep.get(reverse("contract-list"), {"status": "CLOSED"}).content.decode()
    )
