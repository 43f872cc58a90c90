"""Contract changes: proposal, decision with authority, application with milestone rescaling."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from contracts.models import ContractChange
from contracts.services import (
    contract_change_apply,
    contract_change_decide,
    contract_change_propose,
    invoice_issue,
    opportunity_win,
)
from ltc.errors import ApplicationError, NotAllowed
from tests.contracts.conftest import negotiating_opportunity
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
D = Decimal


def _milestone_rows(contract):
    return [(m.amount, m.percent, m.invoiced_amount) for m in contract.milestones.order_by("sequence")]


def _invoice_400k(contract, actor):
    """Invoice the advance in full (300,000) and 100,000 of the PAC."""
    advance, pac, _fac = contract.milestones.order_by("sequence")
    invoice_issue(milestone=advance, actor=actor, number="C-1", amount=D("300000.00"))
    invoice_issue(milestone=pac, actor=actor, number="C-2", amount=D("100000.00"))


def test_increase_rescales_the_uninvoiced_part(executing, cast):
    _invoice_400k(executing, cast.rep)
    change = contract_change_propose(
        contract=executing, actor=cast.rep, description="扩容二期并入", new_amount=D("1500000.00")
    )
    assert change.status == ContractChange.Status.PROPOSED
    change = contract_change_decide(change=change, actor=cast.office_mgr, approve=True, notes="同意")
    assert (change.status, change.decider, change.decision_notes) == ("APPROVED", cast.office_mgr, "同意")
    change = contract_change_apply(change=change, actor=cast.rep)
    assert change.status == ContractChange.Status.APPLIED
    assert change.applied_at is not None
    executing.refresh_from_db()
    assert executing.amount == D("1500000.00")
    # Un-invoiced: PAC 500,000 + FAC 100,000 = 600,000 grows to 1,100,000 (×11/6):
    # PAC 500,000 × 11/6 = 916,666.666… → 916,666.66; FAC takes the rest, 183,333.34.
    # Shares: 300,000 / 1.5M = 20.00%; 1,016,666.66 / 1.5M = 67.777… → 67.78%; FAC 100 − 87.78 = 12.22%.
    assert _milestone_rows(executing) == [
        (D("300000.00"), D("20.00"), D("300000.00")),
        (D("1016666.66"), D("67.78"), D("100000.00")),
        (D("183333.34"), D("12.22"), D("0.00")),
    ]
    assert sum(row[0] for row in _milestone_rows(executing)) == executing.amount
    # Applying twice changes nothing.
    assert contract_change_apply(change=change, actor=cast.rep).applied_at == change.applied_at
    executing.refresh_from_db()
    assert executing.amount == D("1500000.00")
    assert executing.history.latest().history_user == cast.rep


def test_decrease_keeps_every_milestone_above_its_invoiced_amount(executing, cast):
    _invoice_400k(executing, cast.rep)
    signed = timezone.localdate() - dt.timedelta(days=3)
    change = contract_change_propose(
        contract=executing,
        actor=cast.rep,
        description="减项",
        new_amount=D("500000.00"),
        new_signed_on=signed,
    )
    contract_change_decide(change=change, actor=cast.dept_mgr, approve=True)
    contract_change_apply(change=change, actor=cast.dept_mgr)
    executing.refresh_from_db()
    assert (executing.amount, executing.signed_on) == (D("500000.00"), signed)
    # Un-invoiced 600,000 shrinks to 100,000 (×1/6): PAC 500,000 → 83,333.33; FAC 100,000 → 16,666.67.
    assert _milestone_rows(executing) == [
        (D("300000.00"), D("60.00"), D("300000.00")),
        (D("183333.33"), D("36.67"), D("100000.00")),
        (D("16666.67"), D("3.33"), D("0.00")),
    ]


def test_new_amount_below_the_invoiced_amount_is_refused(executing, cast):
    _invoice_400k(executing, cast.rep)
    with pytest.raises(ApplicationError) as err:
        contract_change_propose(
            contract=executing, actor=cast.rep, description="x", new_amount=D("399999.99")
        )
    assert "new_amount" in err.value.extra


def test_a_change_that_empties_a_milestone_is_refused(executing, cast):
    _invoice_400k(executing, cast.rep)
    # 400,000 = exactly what is invoiced: the FAC milestone would be left with nothing.
    change = contract_change_propose(
        contract=executing, actor=cast.rep, description="x", new_amount=D("400000.00")
    )
    contract_change_decide(change=change, actor=cast.dept_mgr, approve=True)
    with pytest.raises(ApplicationError) as err:
        contract_change_apply(change=change, actor=cast.rep)
    assert "#3" in str(err.value.message)
    executing.refresh_from_db()
    assert executing.amount == D("1000000.00")
    change.refresh_from_db()
    assert change.status == ContractChange.Status.APPROVED


def test_applying_an_unapproved_change_is_refused(executing, cast):
    change = contract_change_propose(
        contract=executing, actor=cast.rep, description="x", new_amount=D("2.00")
    )
    with pytest.raises(ApplicationError) as err:
        contract_change_apply(change=change, actor=cast.rep)
    assert "status" in err.value.extra
    contract_change_decide(change=change, actor=cast.dept_mgr, approve=False, notes="不同意")
    with pytest.raises(ApplicationError):
        contract_change_apply(change=change, actor=cast.rep)
    executing.refresh_from_db()
    assert executing.amount == D("1000000.00")


def test_decider_without_authority_is_refused(cast):
    # 1,234,567.89 is above an account department's limit of 1,000,000.
    contract = opportunity_win(opportunity=negotiating_opportunity(cast), actor=cast.rep)
    change = contract_change_propose(
        contract=contract, actor=cast.rep, description="x", new_amount=D("1000.00")
    )
    for actor in (cast.peer, cast.sr, cast.fr, cast.other_mgr):
        with pytest.raises(NotAllowed):
            contract_change_decide(change=change, actor=actor, approve=True)
    with pytest.raises(NotAllowed) as err:
        contract_change_decide(change=change, actor=cast.dept_mgr, approve=True)
    assert "decider" in err.value.extra
    change.refresh_from_db()
    assert change.status == ContractChange.Status.PROPOSED
    decided = contract_change_decide(change=change, actor=cast.office_mgr, approve=True)
    assert decided.decider == cast.office_mgr


def test_limit_applies_to_the_larger_of_old_and_new_amounts(executing, cast):
    change = contract_change_propose(
        contract=executing, actor=cast.rep, description="x", new_amount=D("1000000.01")
    )
    with pytest.raises(NotAllowed):
        contract_change_decide(change=change, actor=cast.dept_mgr, approve=True)
    assert contract_change_decide(change=change, actor=cast.office_mgr, approve=True).status == "APPROVED"


def test_nobody_decides_their_own_change(executing, cast):
    change = contract_change_propose(contract=executing, actor=cast.dept_mgr, description="x")
    with pytest.raises(NotAllowed):
        contract_change_decide(change=change, actor=cast.dept_mgr, approve=True)


def test_admin_decides_at_headquarters_level(executing, cast):
    change = contract_change_propose(
        contract=executing, actor=cast.rep, description="x", new_amount=D("50000000.00")
    )
    with pytest.raises(NotAllowed):
        contract_change_decide(change=change, actor=cast.office_mgr, approve=True)
    assert contract_change_decide(change=change, actor=cast.admin, approve=True).status == "APPROVED"


def test_deciding_twice(executing, cast):
    change = contract_change_propose(contract=executing, actor=cast.rep, description="x")
    first = contract_change_decide(change=change, actor=cast.dept_mgr, approve=False)
    again = contract_change_decide(change=change, actor=cast.dept_mgr, approve=False)
    assert again.decided_at == first.decided_at
    with pytest.raises(ApplicationError):
        contract_change_decide(change=change, actor=cast.dept_mgr, approve=True)
    other_mgr_same_unit = UserFactory(username="mgr2", org_unit=cast.tree["dept1"], job_role="MANAGER")
    with pytest.raises(ApplicationError):
        contract_change_decide(change=change, actor=other_mgr_same_unit, approve=False)


def test_increase_after_everything_is_invoiced_goes_to_the_last_milestone(executing, cast):
    for i, ms in enumerate(executing.milestones.order_by("sequence")):
        invoice_issue(milestone=ms, actor=cast.rep, number=f"F-{i}", amount=ms.amount)
    change = contract_change_propose(
        contract=executing, actor=cast.rep, description="x", new_amount=D("1100000.00")
    )
    contract_change_decide(change=change, actor=cast.office_mgr, approve=True)
    contract_change_apply(change=change, actor=cast.rep)
    executing.refresh_from_db()
    assert _milestone_rows(executing) == [
        (D("300000.00"), D("27.27"), D("300000.00")),
        (D("600000.00"), D("54.55"), D("600000.00")),
        (D("200000.00"), D("18.18"), D("100000.00")),
    ]


def test_proposal_needs_a_description_and_an_open_contract(executing, cast):
    with pytest.raises(ApplicationError) as err:
        contract_change_propose(contract=executing, actor=cast.rep, description="  ")
    assert "description" in err.value.extra
    with pytest.raises(NotAllowed):
        contract_change_propose(contract=executing, actor=cast.peer, description="x")
