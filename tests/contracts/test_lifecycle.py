"""From a won opportunity to a closed contract, through the services."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from contracts.models import Contract, Invoice, PaymentMilestone, Receipt
from contracts.services import (
    contract_close,
    contract_confirm,
    contract_create,
    invoice_issue,
    milestone_achieve,
    milestone_plan,
    opportunity_win,
    receipt_record,
)
from ltc.errors import ApplicationError, NotAllowed
from pipeline.models import Stage
from tests.contracts.conftest import negotiating_opportunity
from tests.factories import CustomerFactory, OpportunityFactory

pytestmark = pytest.mark.django_db
D = Decimal


def test_whole_path_from_negotiation_to_closed_contract(cast):
    opp = negotiating_opportunity(cast)
    today = timezone.localdate()

    contract = opportunity_win(opportunity=opp, actor=cast.rep)

    opp.refresh_from_db()
    assert opp.stage == Stage.WON
    assert contract.status == Contract.Status.RECEIVED
    assert re.fullmatch(rf"HT-{today.year}-\d{{6}}", contract.number)
    assert (contract.opportunity_id, contract.customer_id, contract.owner_id) == (
        opp.pk,
        cast.customer.pk,
        cast.rep.pk,
    )
    assert (contract.org_unit_id, contract.amount, contract.currency) == (
        opp.org_unit_id,
        D("1234567.89"),
        "CNY",
    )
    assert contract.signed_on == today
    milestones = list(contract.milestones.order_by("sequence"))
    # 1,234,567.89 × 30% = 370,370.367 → 370,370.37; × 60% = 740,740.734 → 740,740.73; the last takes the rest.
    assert [(m.kind, m.percent, m.amount) for m in milestones] == [
        ("ADVANCE", D("30.00"), D("370370.37")),
        ("PAC", D("60.00"), D("740740.73")),
        ("FAC", D("10.00"), D("123456.79")),
    ]
    assert sum(m.amount for m in milestones) == contract.amount
    assert [m.planned_on for m in milestones] == [today + dt.timedelta(days=d) for d in (30, 180, 365)]

    contract = contract_confirm(contract=contract, actor=cast.rep)
    assert contract.status == Contract.Status.EXECUTING
    assert contract.confirmed_at is not None

    for number, ms in enumerate(milestones, start=1):
        milestone_achieve(milestone=ms, actor=cast.fr)
        invoice = invoice_issue(milestone=ms, actor=cast.rep, number=f"INV-{number}", amount=ms.amount)
        assert invoice.due_on == today + dt.timedelta(days=30)
        receipt_record(invoice=invoice, actor=cast.fr, amount=ms.amount, reference=f"BANK-{number}")

    contract.refresh_from_db()
    assert contract.invoiced_amount == contract.collected_amount == contract.amount
    assert set(Invoice.objects.filter(contract=contract).values_list("status", flat=True)) == {"PAID"}
    assert all(m.invoiced_amount == m.amount for m in contract.milestones.all())

    closed = contract_close(
        contract=contract, actor=cast.rep, evaluation="按期交付，客户满意", evaluation_score=5
    )
    assert closed.status == Contract.Status.CLOSED
    assert closed.closed_at is not None
    assert (closed.evaluation, closed.evaluation_score) == ("按期交付，客户满意", 5)
    # Closing twice changes nothing.
    again = contract_close(contract=contract, actor=cast.rep, evaluation="other", evaluation_score=1)
    assert (again.evaluation, again.evaluation_score, again.closed_at) == (
        "按期交付，客户满意",
        5,
        closed.closed_at,
    )


def test_winning_twice_gives_one_contract(cast):
    opp = negotiating_opportunity(cast)
    first = opportunity_win(opportunity=opp, actor=cast.rep)
    second = opportunity_win(opportunity=opp, actor=cast.rep, payment_terms="DELIVERY")
    assert second.pk == first.pk
    assert Contract.objects.filter(opportunity=opp).count() == 1
    assert PaymentMilestone.objects.filter(contract=first).count() == 3


def test_win_needs_an_atc_go_and_writes_nothing_when_refused(cast):
    opp = OpportunityFactory(customer=cast.customer, owner=cast.rep, stage=Stage.NEGOTIATE)
    with pytest.raises(ApplicationError) as err:
        opportunity_win(opportunity=opp, actor=cast.rep)
    assert "gate" in err.value.extra
    opp.refresh_from_db()
    assert opp.stage == Stage.NEGOTIATE
    assert not Contract.objects.exists()


def test_win_refused_to_someone_who_cannot_see_the_deal(cast):
    opp = negotiating_opportunity(cast)
    with pytest.raises(NotAllowed):
        opportunity_win(opportunity=opp, actor=cast.peer)
    with pytest.raises(NotAllowed):
        opportunity_win(opportunity=opp, actor=cast.other_mgr)
    assert not Contract.objects.exists()


def test_win_with_a_given_number_and_terms(cast):
    opp = negotiating_opportunity(cast, amount=D("1000.00"))
    signed = timezone.localdate() - dt.timedelta(days=10)
    contract = opportunity_win(
        opportunity=opp, actor=cast.rep, payment_terms="ADVANCE_FAC", signed_on=signed, number="HT-X-1"
    )
    assert (contract.number, contract.payment_terms, contract.signed_on) == ("HT-X-1", "ADVANCE_FAC", signed)
    assert [(m.kind, m.amount, m.planned_on) for m in contract.milestones.order_by("sequence")] == [
        ("ADVANCE", D("500.00"), signed + dt.timedelta(days=30)),
        ("FAC", D("500.00"), signed + dt.timedelta(days=365)),
    ]


def test_win_refuses_a_used_number_and_unknown_terms(cast):
    opp = negotiating_opportunity(cast)
    other = negotiating_opportunity(cast)
    opportunity_win(opportunity=opp, actor=cast.rep, number="HT-DUP")
    with pytest.raises(ApplicationError) as err:
        opportunity_win(opportunity=other, actor=cast.rep, number="HT-DUP")
    assert "number" in err.value.extra
    with pytest.raises(ApplicationError) as err:
        opportunity_win(opportunity=other, actor=cast.rep, payment_terms="NEVER")
    assert "payment_terms" in err.value.extra
    other.refresh_from_db()
    assert other.stage == Stage.NEGOTIATE


def test_generated_numbers_are_sequential_and_skip_taken_ones(cast):
    year = timezone.localdate().year
    first = opportunity_win(opportunity=negotiating_opportunity(cast), actor=cast.rep)
    seq = int(first.number.rsplit("-", 1)[1])
    # Someone typed the next number by hand: the generator skips it.
    opportunity_win(
        opportunity=negotiating_opportunity(cast), actor=cast.rep, number=f"HT-{year}-{seq + 1:06d}"
    )
    third = opportunity_win(opportunity=negotiating_opportunity(cast), actor=cast.rep)
    assert third.number == f"HT-{year}-{seq + 2:06d}"


def test_milestone_plan_last_takes_the_remainder():
    plan = milestone_plan(
        amount=D("100.00"),
        signed_on=dt.date(2026, 1, 1),
        payment_terms="CUSTOM",
        milestones=[
            {"kind": "ADVANCE", "percent": "33.33"},
            {"kind": "DELIVERY", "percent": "33.33"},
            {"kind": "FAC", "percent": "33.34", "planned_on": dt.date(2026, 12, 31)},
        ],
    )
    assert [row["amount"] for row in plan] == [D("33.33"), D("33.33"), D("33.34")]
    plan = milestone_plan(amount=D("0.05"), signed_on=dt.date(2026, 1, 1), payment_terms="STANDARD")
    # 0.05 × 30% = 0.015 → 0.02; × 60% = 0.03; the last gets 0.05 − 0.05 = 0.00.
    assert [row["amount"] for row in plan] == [D("0.02"), D("0.03"), D("0.00")]
    assert sum(row["amount"] for row in plan) == D("0.05")


def test_erp_contract_create_with_custom_milestones_is_idempotent_on_external_id(cast):
    signed = timezone.localdate() - dt.timedelta(days=5)
    kwargs = {
        "actor": cast.admin,
        "customer": cast.customer,
        "number": "ERP-HT-1",
        "amount": D("900.00"),
        "signed_on": signed,
        "payment_terms": "CUSTOM",
        "external_id": "ERP-1",
        "milestones": [
            {"kind": "DELIVERY", "percent": 70, "days": 60},
            {"kind": "FAC", "percent": 30, "days": 200},
        ],
    }
    contract = contract_create(**kwargs)
    assert contract.opportunity_id is None
    assert (contract.owner, contract.org_unit, contract.status) == (cast.rep, cast.tree["dept1"], "RECEIVED")
    assert [(m.amount, m.planned_on) for m in contract.milestones.order_by("sequence")] == [
        (D("630.00"), signed + dt.timedelta(days=60)),
        (D("270.00"), signed + dt.timedelta(days=200)),
    ]
    assert contract_create(**kwargs).pk == contract.pk
    assert Contract.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"milestones": [{"kind": "FAC", "percent": 90}]}, "milestones"),
        ({"milestones": None}, "milestones"),
        ({"milestones": [{"kind": "NOPE", "percent": 100}]}, "milestones[0]"),
        ({"amount": D("-1")}, "amount"),
        ({"amount": D("1.001")}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"currency": "RMB1"}, "currency"),
        ({"signed_on": dt.date(2999, 1, 1)}, "signed_on"),
    ],
)
def test_erp_contract_create_refuses_bad_input(cast, change, field):
    kwargs = {
        "actor": cast.admin,
        "customer": cast.customer,
        "number": "ERP-HT-2",
        "amount": D("900.00"),
        "signed_on": timezone.localdate(),
        "payment_terms": "CUSTOM",
        "milestones": [{"kind": "FAC", "percent": 100}],
    }
    kwargs.update(change)
    with pytest.raises(ApplicationError) as err:
        contract_create(**kwargs)
    assert field in err.value.extra
    assert not Contract.objects.exists()


def test_erp_contract_create_authority(cast):
    kwargs = {
        "customer": cast.customer,
        "amount": D("10.00"),
        "signed_on": timezone.localdate(),
        "payment_terms": "DELIVERY",
    }
    with pytest.raises(NotAllowed):
        contract_create(actor=cast.peer, number="A-1", **kwargs)
    with pytest.raises(NotAllowed):
        contract_create(actor=cast.other_mgr, number="A-2", **kwargs)
    with pytest.raises(NotAllowed):
        contract_create(actor=cast.sr, number="A-3", **kwargs)
    assert contract_create(actor=cast.dept_mgr, number="A-4", **kwargs).owner == cast.rep
    assert contract_create(actor=cast.fr, number="A-5", **kwargs).pk


def test_confirm_and_achieve_are_safe_twice(executing, cast):
    again = contract_confirm(contract=executing, actor=cast.rep)
    assert again.confirmed_at == executing.confirmed_at
    ms = executing.milestones.order_by("sequence").first()
    day = timezone.localdate() - dt.timedelta(days=0)
    first = milestone_achieve(milestone=ms, actor=cast.fr, achieved_on=day)
    second = milestone_achieve(milestone=ms, actor=cast.fr, achieved_on=day - dt.timedelta(days=1))
    assert first.achieved_on == second.achieved_on == day


def test_achieve_refuses_future_dates_and_received_contracts(cast):
    contract = opportunity_win(opportunity=negotiating_opportunity(cast), actor=cast.rep)
    ms = contract.milestones.first()
    with pytest.raises(ApplicationError) as err:
        milestone_achieve(milestone=ms, actor=cast.rep)
    assert "status" in err.value.extra
    contract_confirm(contract=contract, actor=cast.rep)
    with pytest.raises(ApplicationError) as err:
        milestone_achieve(
            milestone=ms, actor=cast.rep, achieved_on=timezone.localdate() + dt.timedelta(days=1)
        )
    assert "achieved_on" in err.value.extra


def test_closing_an_uncollected_contract_is_refused(executing, cast):
    milestones = list(executing.milestones.order_by("sequence"))
    for i, ms in enumerate(milestones):
        milestone_achieve(milestone=ms, actor=cast.fr)
        invoice = invoice_issue(milestone=ms, actor=cast.rep, number=f"U-{i}", amount=ms.amount)
        if i < 2:
            receipt_record(invoice=invoice, actor=cast.rep, amount=ms.amount)
    with pytest.raises(ApplicationError) as err:
        contract_close(contract=executing, actor=cast.rep, evaluation="好", evaluation_score=4)
    assert set(err.value.extra) == {"collected_amount"}
    executing.refresh_from_db()
    assert executing.status == Contract.Status.EXECUTING


def test_closing_refused_while_undelivered_and_uninvoiced(executing, cast):
    with pytest.raises(ApplicationError) as err:
        contract_close(contract=executing, actor=cast.rep, evaluation="好", evaluation_score=4)
    assert set(err.value.extra) == {"milestones", "invoiced_amount", "collected_amount"}
    assert "#1, #2, #3" in err.value.extra["milestones"][0]


@pytest.mark.parametrize(
    ("evaluation", "score", "field"),
    [
        ("", 3, "evaluation"),
        ("ok", 0, "evaluation_score"),
        ("ok", 6, "evaluation_score"),
        ("ok", "5", "evaluation_score"),
    ],
)
def test_closing_needs_an_evaluation(executing, cast, evaluation, score, field):
    with pytest.raises(ApplicationError) as err:
        contract_close(contract=executing, actor=cast.rep, evaluation=evaluation, evaluation_score=score)
    assert field in err.value.extra


def test_history_names_the_actor(executing, cast):
    contract = executing
    assert contract.history.earliest().history_user == cast.rep  # created by the winner
    assert contract.history.latest().history_user == cast.rep  # confirmed
    ms = contract.milestones.order_by("sequence").first()
    milestone_achieve(milestone=ms, actor=cast.fr)
    assert ms.history.latest().history_user == cast.fr
    invoice = invoice_issue(milestone=ms, actor=cast.dept_mgr, number="H-1", amount=D("100.00"))
    assert invoice.history.get().history_user == cast.dept_mgr
    assert ms.history.latest().history_user == cast.dept_mgr
    assert contract.history.latest().history_user == cast.dept_mgr
    receipt = receipt_record(invoice=invoice, actor=cast.fr, amount=D("40.00"))
    assert receipt.history.get().history_user == cast.fr
    assert receipt.recorded_by == cast.fr
    latest_invoice = invoice.history.latest()
    assert (latest_invoice.history_user, latest_invoice.paid_amount, latest_invoice.status) == (
        cast.fr,
        D("40.00"),
        "PARTIALLY_PAID",
    )
    assert (contract.history.latest().history_user, contract.history.latest().collected_amount) == (
        cast.fr,
        D("40.00"),
    )
    assert Receipt.objects.count() == 1


def test_opportunity_of_another_customer_sees_nothing(cast):
    stranger = CustomerFactory(account_dept=cast.tree["dept3"])
    opp = OpportunityFactory(customer=stranger, stage=Stage.NEGOTIATE)
    with pytest.raises(NotAllowed):
        opportunity_win(opportunity=opp, actor=cast.rep)
