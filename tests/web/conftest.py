"""The cast for the browser pages: a rep's customer in dept1 with a lead, a deal and a contract; the same in
another branch (dept3); and the people around them."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import Client

from accounts.models import User
from contracts.services import contract_confirm, opportunity_win
from pipeline.models import GateDecision, Stage
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    CustomerTeamMemberFactory,
    GateDecisionFactory,
    LeadFactory,
    OpportunityFactory,
    OpportunityTeamMemberFactory,
    UserFactory,
    VisitFactory,
)

Role = User.JobRole


def negotiating(customer, *, owner, sr, fr, decider, amount=Decimal("600000.00")):
    """A deal at NEGOTIATE with its iron triangle and a current ATC GO: ready to be won."""
    opp = OpportunityFactory(
        customer=customer, owner=owner, amount=amount, stage=Stage.NEGOTIATE, probability=75
    )
    OpportunityTeamMemberFactory(opportunity=opp, user=owner, role="AR")
    OpportunityTeamMemberFactory(opportunity=opp, user=sr, role="SR")
    OpportunityTeamMemberFactory(opportunity=opp, user=fr, role="FR")
    GateDecisionFactory(
        opportunity=opp, gate=GateDecision.Gate.ATC, outcome=GateDecision.Outcome.GO, decider=decider
    )
    return opp


@pytest.fixture
def cast(tree):
    dept1, dept3 = tree["dept1"], tree["dept3"]
    c = SimpleNamespace(tree=tree)
    c.rep = UserFactory(username="rep", full_name="王芳", org_unit=dept1, job_role=Role.SALES_REP)
    c.peer = UserFactory(username="peer", org_unit=dept1, job_role=Role.SALES_REP)
    c.sr = UserFactory(username="sr", org_unit=dept1, job_role=Role.SOLUTION_EXPERT)
    c.fr = UserFactory(username="fr", org_unit=dept1, job_role=Role.DELIVERY_EXPERT)
    c.dept_mgr = UserFactory(username="dept_mgr", org_unit=dept1, job_role=Role.MANAGER)
    c.other_rep = UserFactory(username="other_rep", org_unit=dept3, job_role=Role.SALES_REP)
    c.other_mgr = UserFactory(username="other_mgr", org_unit=dept3, job_role=Role.MANAGER)

    c.customer = CustomerFactory(name="浙江移动", account_dept=dept1, owner=c.rep)
    CustomerTeamMemberFactory(customer=c.customer, user=c.rep, role="AR")
    CustomerTeamMemberFactory(customer=c.customer, user=c.fr, role="FR")
    c.contact = ContactFactory(customer=c.customer, owner=c.rep, private_notes="喜欢打羽毛球")
    c.visit = VisitFactory(customer=c.customer, rep=c.rep, outcome="谈了5G专网")
    c.lead = LeadFactory(customer=c.customer, owner=c.rep, title="5G专网扩容")
    c.opp = OpportunityFactory(customer=c.customer, owner=c.rep, name="杭州5G专网")
    OpportunityTeamMemberFactory(opportunity=c.opp, user=c.rep, role="AR")
    won = negotiating(c.customer, owner=c.rep, sr=c.sr, fr=c.fr, decider=c.dept_mgr)
    c.contract = contract_confirm(contract=opportunity_win(opportunity=won, actor=c.rep), actor=c.rep)

    # Another branch: nobody in dept1 may see these.
    c.other_customer = CustomerFactory(name="广发银行", account_dept=dept3, owner=c.other_rep)
    c.other_visit = VisitFactory(customer=c.other_customer, rep=c.other_rep)
    c.other_lead = LeadFactory(customer=c.other_customer, owner=c.other_rep)
    c.other_opp = OpportunityFactory(customer=c.other_customer, owner=c.other_rep)
    other_won = negotiating(
        c.other_customer,
        owner=c.other_rep,
        sr=UserFactory(org_unit=dept3, job_role=Role.SOLUTION_EXPERT),
        fr=UserFactory(org_unit=dept3, job_role=Role.DELIVERY_EXPERT),
        decider=c.other_mgr,
    )
    c.other_contract = opportunity_win(opportunity=other_won, actor=c.other_rep)
    return c


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_rep(cast) -> Client:
    return login(cast.rep)
