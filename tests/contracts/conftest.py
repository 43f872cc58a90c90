"""The cast for contract tests: one customer in dept1 with its iron triangle, and people around it."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from accounts.models import User
from contracts.models import Contract
from contracts.services import contract_confirm, opportunity_win
from pipeline.models import GateDecision, Stage
from tests.factories import (
    CustomerFactory,
    CustomerTeamMemberFactory,
    GateDecisionFactory,
    OpportunityFactory,
    OpportunityTeamMemberFactory,
    UserFactory,
)

Role = User.JobRole


@pytest.fixture
def cast(tree):
    dept1, dept3 = tree["dept1"], tree["dept3"]
    people = SimpleNamespace(
        tree=tree,
        rep=UserFactory(username="rep", org_unit=dept1, job_role=Role.SALES_REP),
        peer=UserFactory(username="peer", org_unit=dept1, job_role=Role.SALES_REP),
        fr=UserFactory(username="fr", org_unit=dept1, job_role=Role.DELIVERY_EXPERT),
        sr=UserFactory(username="sr", org_unit=dept1, job_role=Role.SOLUTION_EXPERT),
        dept_mgr=UserFactory(username="dept_mgr", org_unit=dept1, job_role=Role.MANAGER),
        office_mgr=UserFactory(username="office_mgr", org_unit=tree["office"], job_role=Role.MANAGER),
        other_mgr=UserFactory(username="other_mgr", org_unit=dept3, job_role=Role.MANAGER),
        admin=UserFactory(username="admin", org_unit=None, job_role=Role.ADMIN),
    )
    people.customer = CustomerFactory(account_dept=dept1, owner=people.rep)
    CustomerTeamMemberFactory(customer=people.customer, user=people.rep, role="AR")
    CustomerTeamMemberFactory(customer=people.customer, user=people.fr, role="FR")
    return people


def negotiating_opportunity(cast, *, amount: Decimal = Decimal("1234567.89")):
    """An opportunity at NEGOTIATE with its iron triangle and a current ATC GO."""
    opp = OpportunityFactory(
        customer=cast.customer, owner=cast.rep, amount=amount, stage=Stage.NEGOTIATE, probability=75
    )
    OpportunityTeamMemberFactory(opportunity=opp, user=cast.rep, role="AR")
    OpportunityTeamMemberFactory(opportunity=opp, user=cast.sr, role="SR")
    OpportunityTeamMemberFactory(opportunity=opp, user=cast.fr, role="FR")
    GateDecisionFactory(
        opportunity=opp, gate=GateDecision.Gate.ATC, outcome=GateDecision.Outcome.GO, decider=cast.office_mgr
    )
    return opp


@pytest.fixture
def executing(cast) -> Contract:
    """A won, confirmed contract of 1,000,000.00 on the standard 30/60/10 terms."""
    opp = negotiating_opportunity(cast, amount=Decimal("1000000.00"))
    contract = opportunity_win(opportunity=opp, actor=cast.rep)
    return contract_confirm(contract=contract, actor=cast.rep)
