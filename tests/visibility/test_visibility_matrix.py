"""R1: the role matrix. Every role × every record type, the visible set is exactly the rule's.

The seeded org tree is tests.factories.org_tree():

    总部 hq ─┬─ 华东 region ── 上海 office ─┬─ dept1 (rep, peer)
             │                             └─ dept2 (named manager: named_mgr; dept2_mgr)
             └─ 华南 region2 ── 广州 office2 ── dept3 (b2rep, cust_member, admin)

Expected sets come from tests.visibility.oracle (a Python model that walks parents), and the headline cells
are also spelled out by hand below, so a wrong oracle cannot hide a wrong selector.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from accounts.selectors import scope_for_org_unit
from relationships.selectors import private_notes_visible
from tests.factories import org_tree
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

pytestmark = pytest.mark.django_db

PARENTS = {  # the shape of tests.factories.org_tree()
    "hq": None,
    "region": "hq",
    "office": "region",
    "dept1": "office",
    "dept2": "office",
    "region2": "hq",
    "office2": "region2",
    "dept3": "office2",
}

USER_ROLES = {
    "rep": UserSpec("dept1"),
    "peer": UserSpec("dept1"),  # same account department as rep
    "cust_member": UserSpec("dept3", "DELIVERY_EXPERT"),  # on rep's customer team, other branch
    "opp_member": UserSpec("office2", "SOLUTION_EXPERT"),  # on rep's opportunity team only, other branch
    "office_mgr": UserSpec("office", "MANAGER"),  # manager of the rep's office
    "dept2_mgr": UserSpec("dept2", "MANAGER"),  # manager of the sibling account department
    "named_mgr": UserSpec("region", "SALES_REP"),  # named OrgUnit.manager of dept2, not a manager role
    "branch2_mgr": UserSpec("region2", "MANAGER"),  # manager of another branch
    "exec": UserSpec("hq", "EXECUTIVE"),
    "b2rep": UserSpec("dept3"),  # a rep of the other branch
    "superuser": UserSpec(None, "SALES_REP", superuser=True),
    "admin": UserSpec("dept3", "ADMIN"),
    "inactive": UserSpec("office", "MANAGER", active=False),
}


def scenario() -> World:
    w = World(units=dict(PARENTS), users=dict(USER_ROLES))
    w.unit_manager = {"office": "office_mgr", "dept2": "named_mgr"}
    w.customers = {
        "C_rep": CustomerSpec("dept1", "rep"),
        "C_peer": CustomerSpec("dept1", "peer"),
        "C_b2": CustomerSpec("dept3", "b2rep"),
        "C_dept2": CustomerSpec("dept2", None),
        "C_repb2": CustomerSpec("dept3", "rep"),  # rep owns a customer filed in the other branch
    }
    w.customer_team = [("C_rep", "rep"), ("C_rep", "cust_member"), ("C_peer", "peer"), ("C_b2", "b2rep")]
    w.contacts = {
        "K_rep": OwnedSpec("C_rep", "rep"),
        "K_peer": OwnedSpec("C_peer", "peer"),
        "K_peer_on_rep": OwnedSpec("C_rep", "peer"),
        "K_b2": OwnedSpec("C_b2", "b2rep"),
        "K_rep_on_b2": OwnedSpec("C_b2", "rep"),
        "K_none": OwnedSpec("C_dept2", None),
    }
    w.visits = {
        "V_rep": VisitSpec("C_rep", "rep", "dept1"),
        "V_peer_on_rep": VisitSpec("C_rep", "peer", "dept1"),
        "V_b2": VisitSpec("C_b2", "b2rep", "dept3"),
        "V_rep_on_b2": VisitSpec("C_b2", "rep", "dept1"),
        "V_member": VisitSpec("C_rep", "cust_member", "dept3"),
    }
    w.issues = {
        "I_rep": OwnedSpec("C_rep", "rep"),
        "I_peer": OwnedSpec("C_peer", "peer"),
        "I_b2": OwnedSpec("C_b2", "b2rep"),
        "I_rep_on_b2": OwnedSpec("C_b2", "rep"),
    }
    w.plans = {
        "P_rep": OwnedSpec("C_rep", "rep"),
        "P_peer": OwnedSpec("C_peer", "peer"),
        "P_b2": OwnedSpec("C_b2", "b2rep"),
    }
    w.assessments = {
        "A_rep": AssessmentSpec("K_rep", "rep"),
        "A_peer_on_rep": AssessmentSpec("K_peer_on_rep", "peer"),
        "A_member": AssessmentSpec("K_rep", "cust_member"),
        "A_b2": AssessmentSpec("K_b2", "b2rep"),
    }
    w.leads = {
        "L_rep": LeadSpec("C_rep", "rep", None, "dept1"),
        "L_peer_nurtured_by_rep": LeadSpec("C_peer", "peer", "rep", "dept1"),
        "L_prospect_peer": LeadSpec(None, "peer", None, "dept1"),
        "L_prospect_b2": LeadSpec(None, "b2rep", None, "dept3"),
        "L_b2": LeadSpec("C_b2", "b2rep", None, "dept3"),
    }
    w.opportunities = {
        "O_rep": OpportunitySpec("C_rep", "rep", "dept1"),
        "O_peer": OpportunitySpec("C_peer", "peer", "dept1"),
        "O_b2": OpportunitySpec("C_b2", "b2rep", "dept3"),
        "O_dept2": OpportunitySpec("C_dept2", "peer", "dept2"),
        # the other branch's deal with rep's customer
        "O_b2_on_rep": OpportunitySpec("C_rep", "b2rep", "dept3"),
    }
    w.opportunity_team = [("O_rep", "rep"), ("O_rep", "opp_member"), ("O_b2", "b2rep")]
    w.gates = {
        "G_rep": GateSpec("O_rep", "office_mgr"),
        "G_b2": GateSpec("O_b2", "branch2_mgr"),
        "G_dept2": GateSpec("O_dept2", "named_mgr"),
    }
    w.contracts = {
        "CT_rep": ContractSpec("O_rep", "C_rep", "rep", "dept1"),
        "CT_b2": ContractSpec("O_b2", "C_b2", "b2rep", "dept3"),
        "CT_peer_erp": ContractSpec(None, "C_peer", "peer", "dept1"),  # imported from the ERP, no deal
        "CT_peer_opp": ContractSpec("O_peer", "C_peer", "b2rep", "dept3"),  # filed in the other branch
        # moved to another customer by an admin: seen by rep's side only through the deal's customer
        "CT_moved": ContractSpec("O_b2_on_rep", "C_b2", "b2rep", "dept3"),
    }
    w.milestones = {"M_rep": "CT_rep", "M_b2": "CT_b2", "M_peer": "CT_peer_erp"}
    w.invoices = {
        "N_rep": InvoiceSpec("CT_rep", "M_rep"),
        "N_b2": InvoiceSpec("CT_b2", None),
        "N_peer": InvoiceSpec("CT_peer_erp", "M_peer"),
        "N_moved": InvoiceSpec("CT_moved", None),
    }
    w.receipts = {
        "R_rep": ReceiptSpec("CT_rep", "N_rep"),
        "R_b2": ReceiptSpec("CT_b2", "N_b2"),
        "R_peer": ReceiptSpec("CT_peer_erp", None),
    }
    return w


# Hand-written headline cells: role -> record type -> exactly the visible keys.
HEADLINE = {
    "rep": {
        "customer": {"C_rep", "C_repb2"},
        "contact": {"K_rep", "K_peer_on_rep", "K_rep_on_b2"},
        "visit": {"V_rep", "V_peer_on_rep", "V_rep_on_b2", "V_member"},
        "issue": {"I_rep", "I_rep_on_b2"},
        "assessment": {"A_rep"},
        "lead": {"L_rep", "L_peer_nurtured_by_rep"},
        "opportunity": {"O_rep", "O_b2_on_rep"},
        "contract": {"CT_rep", "CT_moved"},  # CT_moved through its deal's customer only
        "invoice": {"N_rep", "N_moved"},
        "receipt": {"R_rep"},
    },
    "peer": {
        "customer": {"C_peer"},
        "contact": {"K_peer", "K_peer_on_rep"},
        "assessment": {"A_peer_on_rep"},
        "opportunity": {"O_peer", "O_dept2"},
        "contract": {"CT_peer_erp", "CT_peer_opp"},
        "invoice": {"N_peer"},
    },
    "cust_member": {
        "customer": {"C_rep"},
        "contact": {"K_rep", "K_peer_on_rep"},
        "assessment": {"A_member"},
        "opportunity": {"O_rep", "O_b2_on_rep"},
        "gate": {"G_rep"},
        "contract": {"CT_rep", "CT_moved"},
    },
    "opp_member": {
        "customer": set(),
        "contact": set(),
        "opportunity": {"O_rep"},
        "gate": {"G_rep"},
        "contract": {"CT_rep"},
        "milestone": {"M_rep"},
        "invoice": {"N_rep"},
        "receipt": {"R_rep"},
    },
    "office_mgr": {
        "customer": {"C_rep", "C_peer", "C_dept2", "C_repb2"},
        "assessment": {"A_rep", "A_peer_on_rep"},
        "opportunity": {"O_rep", "O_peer", "O_dept2", "O_b2_on_rep"},
        "contract": {"CT_rep", "CT_peer_erp", "CT_peer_opp", "CT_moved"},
    },
    "dept2_mgr": {"customer": {"C_dept2"}, "opportunity": {"O_dept2"}, "contract": set()},
    "named_mgr": {"customer": {"C_dept2"}, "opportunity": {"O_dept2"}, "gate": {"G_dept2"}},
    "branch2_mgr": {
        "customer": {"C_b2", "C_repb2"},
        "assessment": {"A_member", "A_b2"},
        "lead": {"L_prospect_b2", "L_b2"},
        "opportunity": {"O_b2", "O_b2_on_rep"},
        "contract": {"CT_b2", "CT_peer_opp", "CT_moved"},
        "invoice": {"N_b2", "N_moved"},
    },
    "b2rep": {
        "customer": {"C_b2"},
        "opportunity": {"O_b2", "O_b2_on_rep"},
        "contract": {"CT_b2", "CT_peer_opp", "CT_moved"},
    },
    "inactive": {kind: set() for kind in RECORD_TYPES},
    None: {kind: set() for kind in RECORD_TYPES},  # anonymous
}

# Private relationship cards: (viewer, contact) -> may read the private notes.
PRIVATE_NOTES = {
    ("rep", "K_rep"): True,
    ("peer", "K_rep"): False,  # a peer, even one who can see the contact
    ("rep", "K_peer_on_rep"): False,  # the peer's card on the rep's own customer
    ("peer", "K_peer_on_rep"): True,
    ("cust_member", "K_rep"): False,  # on the customer team, still not the owner's card
    ("office_mgr", "K_rep"): True,
    ("office_mgr", "K_peer_on_rep"): True,
    ("office_mgr", "K_rep_on_b2"): True,  # the rep is below, wherever the customer is filed
    ("branch2_mgr", "K_rep_on_b2"): False,  # sees the contact (its customer), not the rep's card
    ("branch2_mgr", "K_b2"): True,
    ("dept2_mgr", "K_rep"): False,
    ("named_mgr", "K_none"): True,  # no owner: the people above the customer's account department
    ("rep", "K_none"): False,
    ("exec", "K_b2"): True,
    ("admin", "K_rep"): True,
    ("superuser", "K_b2"): True,
    ("inactive", "K_rep"): False,
    (None, "K_rep"): False,
}


def _login(built, key):
    if key is None:
        return AnonymousUser()
    return User.objects.get(pk=built.users[key].pk)  # fresh from the database: no cached scope


def test_headline_cells_agree_with_the_oracle():
    """The oracle itself says what the hand-written table says (a check of the model, no database)."""
    world = scenario()
    for role, cells in HEADLINE.items():
        expected = expected_visible(world, actor_for_user(world, role))
        for kind, keys in cells.items():
            assert expected[kind] == keys, (role, kind)
    for (role, contact), allowed in PRIVATE_NOTES.items():
        assert Oracle(world, actor_for_user(world, role)).private_notes(contact) is allowed, (role, contact)


def test_scenario_discriminates():
    """Each record type has a role that sees some but not all of it, and everything is seen by someone."""
    world = scenario()
    for kind in RECORD_TYPES:
        everything = set(world.records(kind))
        partial = [
            role
            for role in world.users
            if set() != expected_visible(world, actor_for_user(world, role))[kind] != everything
        ]
        assert len(partial) >= 3, kind


@pytest.mark.parametrize("role", [*USER_ROLES, None], ids=lambda r: r or "anonymous")
def test_role_sees_exactly_the_rule(role):
    world = scenario()
    built = build(world, existing_units=org_tree())
    user = _login(built, role)
    expected = expected_visible(world, actor_for_user(world, role))
    actual = actual_visible(built, user)
    for kind in RECORD_TYPES:
        wrong_allow = actual[kind] - expected[kind]
        wrong_deny = expected[kind] - actual[kind]
        assert not wrong_allow and not wrong_deny, (
            f"{role or 'anonymous'} × {kind}: wrong allow {sorted(map(str, wrong_allow))}, "
            f"wrong deny {sorted(map(str, wrong_deny))}"
        )
    for kind, keys in HEADLINE.get(role, {}).items():
        assert actual[kind] == keys, (role, kind)
    if role in ("superuser", "admin"):
        assert all(actual[kind] == set(world.records(kind)) for kind in RECORD_TYPES)


@pytest.mark.parametrize("client_unit", ["office2", "office", "hq", None])
def test_erp_client_scope_sees_exactly_its_subtree(client_unit):
    """An API client bound to an org unit sees what is filed under or owned below it; unbound: all."""
    world = scenario()
    built = build(world, existing_units=org_tree())
    scope = scope_for_org_unit(built.units[client_unit] if client_unit else None)
    expected = expected_visible(world, actor_for_api_client(client_unit))
    actual = actual_visible(built, None, scope=scope)
    for kind in RECORD_TYPES:
        assert actual[kind] == expected[kind], (client_unit, kind)
    if client_unit == "office2":
        assert actual["customer"] == {"C_b2", "C_repb2"}
        assert actual["assessment"] == {"A_member", "A_b2"}


def test_private_notes_for_every_viewer_and_contact():
    world = scenario()
    built = build(world, existing_units=org_tree())
    for role in [*USER_ROLES, None]:
        user = _login(built, role)
        oracle = Oracle(world, actor_for_user(world, role))
        for key, contact in built.records["contact"].items():
            contact = (
                type(contact)
                .objects.select_related("customer__account_dept", "owner__org_unit")
                .get(pk=contact.pk)
            )
            assert private_notes_visible(user, contact) is oracle.private_notes(key), (role, key)
    for (role, key), allowed in PRIVATE_NOTES.items():
        contact = built.records["contact"][key]
        assert private_notes_visible(_login(built, role), contact) is allowed, (role, key)
