"""R1, property-based: over random org trees, people, teams and records, every visibility selector returns
exactly what the Python oracle (tests.visibility.oracle) computes by walking the tree.

Each hypothesis example builds its world inside a savepoint and rolls it back, so examples never see each
other's rows.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.selectors import scope_for_org_unit
from relationships.selectors import private_notes_visible
from tests.visibility.oracle import (
    RECORD_TYPES,
    AssessmentSpec,
    ContractSpec,
    CustomerSpec,
    GateSpec,
    InvoiceSpec,
    LeadSpec,
    OpportunitySpec,
    Oracle,
    OwnedSpec,
    ReceiptSpec,
    UserSpec,
    VisitSpec,
    World,
    actor_for_api_client,
    actor_for_user,
    actual_visible,
    build,
    expected_visible,
)

ROLES = [
    "SALES_REP",
    "SALES_REP",
    "SOLUTION_EXPERT",
    "DELIVERY_EXPERT",
    "MANAGER",
    "MANAGER",
    "EXECUTIVE",
    "ADMIN",
]


@st.composite
def worlds(draw) -> World:
    w = World()
    # The tree: one HQ, then up to 3 regions, 2 offices per region, 2 departments per office (depth ≤ 4).
    w.units[0] = None
    frontier, next_key = [0], 1
    for _level in range(3):
        children = []
        for parent in frontier:
            for _ in range(draw(st.integers(0 if parent else 1, 3 if parent == 0 else 2))):
                w.units[next_key] = parent
                children.append(next_key)
                next_key += 1
        frontier = children
    units = list(w.units)
    unit = st.sampled_from(units)

    n_users = draw(st.integers(2, 8))
    for key in range(n_users):
        w.users[key] = UserSpec(
            unit=draw(st.one_of(unit, st.none()) if key else unit),
            role=draw(st.sampled_from(ROLES)),
            superuser=draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans()),
            active=draw(st.integers(0, 7)) > 0,
        )
    users = list(w.users)
    user = st.sampled_from(users)
    maybe_user = st.one_of(st.none(), user)
    for key in units:
        if draw(st.integers(0, 4)) == 0:
            w.unit_manager[key] = draw(user)

    for key in range(draw(st.integers(1, 5))):
        w.customers[key] = CustomerSpec(dept=draw(unit), owner=draw(maybe_user))
        for member in draw(st.lists(user, max_size=3, unique=True)):
            w.customer_team.append((key, member))
    customer = st.sampled_from(list(w.customers))

    for key in range(draw(st.integers(0, 5))):
        w.contacts[key] = OwnedSpec(customer=draw(customer), owner=draw(maybe_user))
    for key in range(draw(st.integers(0, 4))):
        w.visits[key] = VisitSpec(customer=draw(customer), rep=draw(user), unit=draw(unit))
    for key in range(draw(st.integers(0, 3))):
        w.issues[key] = OwnedSpec(customer=draw(customer), owner=draw(user))
    for key in range(draw(st.integers(0, 3))):
        w.plans[key] = OwnedSpec(customer=draw(customer), owner=draw(user))
    if w.contacts:
        for key in range(draw(st.integers(0, 4))):
            w.assessments[key] = AssessmentSpec(
                contact=draw(st.sampled_from(list(w.contacts))), assessor=draw(user)
            )
    for key in range(draw(st.integers(0, 4))):
        w.leads[key] = LeadSpec(
            customer=draw(st.one_of(st.none(), customer)),
            owner=draw(user),
            nurturer=draw(maybe_user),
            unit=draw(unit),
        )
    for key in range(draw(st.integers(0, 5))):
        w.opportunities[key] = OpportunitySpec(customer=draw(customer), owner=draw(user), unit=draw(unit))
        for member in draw(st.lists(user, max_size=3, unique=True)):
            w.opportunity_team.append((key, member))
    if w.opportunities:
        opportunity = st.sampled_from(list(w.opportunities))
        for key in range(draw(st.integers(0, 3))):
            w.gates[key] = GateSpec(opportunity=draw(opportunity), decider=draw(user))
    # A contract comes from at most one opportunity (one-to-one), or from none (ERP import).
    free_opportunities = draw(st.permutations(list(w.opportunities)))
    for key in range(draw(st.integers(0, 4))):
        from_deal = free_opportunities and draw(st.booleans())
        opp = free_opportunities.pop() if from_deal else None
        # Mostly the deal's customer (contracts won from a deal take it); sometimes another one, as an admin
        # edit of either record can leave it: the contract is then also visible through the deal's customer.
        deal_customer = w.opportunities[opp].customer if opp is not None else None
        w.contracts[key] = ContractSpec(
            opportunity=opp,
            customer=deal_customer if deal_customer is not None and draw(st.booleans()) else draw(customer),
            owner=draw(user),
            unit=draw(unit),
        )
    if w.contracts:
        contract = st.sampled_from(list(w.contracts))
        for key in range(draw(st.integers(0, 3))):
            w.milestones[key] = draw(contract)
        for key in range(draw(st.integers(0, 3))):
            on = draw(contract)
            milestones = [m for m, c in w.milestones.items() if c == on]
            w.invoices[key] = InvoiceSpec(on, draw(st.sampled_from([None, *milestones])))
        for key in range(draw(st.integers(0, 3))):
            on = draw(contract)
            invoices = [i for i, spec in w.invoices.items() if spec.contract == on]
            w.receipts[key] = ReceiptSpec(on, draw(st.sampled_from([None, *invoices])))
    return w


def _compare(world: World, built, user, actor, *, scope=None, who: str) -> None:
    expected = expected_visible(world, actor)
    actual = actual_visible(built, user, scope=scope)
    for kind in RECORD_TYPES:
        assert actual[kind] == expected[kind], (
            f"{who} × {kind}: wrong allow {sorted(map(str, actual[kind] - expected[kind]))}, "
            f"wrong deny {sorted(map(str, expected[kind] - actual[kind]))}"
        )


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(world=worlds(), client_unit=st.integers(0, 40))
def test_selectors_match_the_oracle_on_random_trees(world, client_unit):
    with transaction.atomic():
        built = build(world)
        for key in world.users:
            _compare(
                world,
                built,
                built.users[key],
                actor_for_user(world, key),
                who=f"user {key} {world.users[key]}",
            )
        _compare(world, built, AnonymousUser(), actor_for_user(world, None), who="anonymous")
        unit_key = client_unit if client_unit in world.units else None
        scope = scope_for_org_unit(built.units[unit_key] if unit_key is not None else None)
        _compare(
            world, built, None, actor_for_api_client(unit_key), scope=scope, who=f"API client {unit_key}"
        )

        for key in world.users:
            oracle = Oracle(world, actor_for_user(world, key))
            for contact_key, contact in built.records["contact"].items():
                assert private_notes_visible(built.users[key], contact) is oracle.private_notes(
                    contact_key
                ), (
                    key,
                    contact_key,
                )
        transaction.set_rollback(True)
