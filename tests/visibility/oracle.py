"""A pure-Python model of the visibility rule, and a builder that writes the same world to the database.

The world is described with plain keys ("rep", "C1", 17…) before anything touches the database. The oracle
answers "which keys of each record type may this actor see" by walking org-unit parents in Python; the
selectors answer the same question in SQL. The tests compare the two, key for key.

The rule (DOMAIN.md §1 and the docstring of accounts/selectors.py):
- below(A): the subtrees of A's own unit (when A is a manager or executive) and of the units A is named
  manager of. A record is A's (or of the people below A) when filed under a unit below A, or owned by A or
  by a user whose unit is below A.
- customer: below (account dept, owner) or A on its customer team.
- contact / visit / issue / plan / lead: of a visible customer, or itself below A (owner, rep, nurturer, unit).
- opportunity: below (unit, owner), of a visible customer, or A on its opportunity team.
- contract: below (unit, owner), of a visible customer, or of a visible opportunity.
- gate decision follows its opportunity; milestone, invoice and receipt follow their contract.
- relationship assessment and a contact's private notes: only the assessor/owner and the people above them.
- superuser or ADMIN: everything. Inactive or anonymous: nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from accounts.models import OrgUnit, User
from contracts.models import Contract, Invoice, PaymentMilestone, Receipt
from pipeline.models import GateDecision, Lead, Opportunity, OpportunityTeamMember, Stage
from relationships.models import (
    Contact,
    Customer,
    CustomerIssue,
    CustomerTeamMember,
    RelationshipAssessment,
    RelationshipPlan,
    Visit,
)

MANAGER_ROLES = {"MANAGER", "EXECUTIVE"}
KIND_BY_DEPTH = ["HQ", "REGION", "REP_OFFICE", "ACCOUNT_DEPT"]
TEAM_ROLES = ["AR", "SR", "FR", "SPONSOR"]

RECORD_TYPES = (
    "customer",
    "contact",
    "visit",
    "issue",
    "plan",
    "assessment",
    "lead",
    "opportunity",
    "gate",
    "contract",
    "milestone",
    "invoice",
    "receipt",
)


class UserSpec(NamedTuple):
    unit: object | None
    role: str = "SALES_REP"
    superuser: bool = False
    active: bool = True


class CustomerSpec(NamedTuple):
    dept: object
    owner: object | None


class OwnedSpec(NamedTuple):
    """A record of a customer with one owning user (contact, issue, plan)."""

    customer: object
    owner: object | None


class VisitSpec(NamedTuple):
    customer: object
    rep: object
    unit: object


class AssessmentSpec(NamedTuple):
    contact: object
    assessor: object


class LeadSpec(NamedTuple):
    customer: object | None
    owner: object
    nurturer: object | None
    unit: object


class OpportunitySpec(NamedTuple):
    customer: object
    owner: object
    unit: object


class GateSpec(NamedTuple):
    opportunity: object
    decider: object


class ContractSpec(NamedTuple):
    opportunity: object | None
    customer: object
    owner: object
    unit: object


class InvoiceSpec(NamedTuple):
    contract: object
    milestone: object | None


class ReceiptSpec(NamedTuple):
    contract: object
    invoice: object | None


@dataclass
class World:
    """Org units must be listed parents first. Keys are any hashable values, unique per type."""

    units: dict = field(default_factory=dict)  # key -> parent key or None
    unit_manager: dict = field(default_factory=dict)  # unit key -> user key
    users: dict = field(default_factory=dict)  # key -> UserSpec
    customers: dict = field(default_factory=dict)  # key -> CustomerSpec
    customer_team: list = field(default_factory=list)  # (customer key, user key)
    contacts: dict = field(default_factory=dict)  # key -> OwnedSpec
    visits: dict = field(default_factory=dict)
    issues: dict = field(default_factory=dict)  # key -> OwnedSpec (owner required)
    plans: dict = field(default_factory=dict)  # key -> OwnedSpec (owner required)
    assessments: dict = field(default_factory=dict)
    leads: dict = field(default_factory=dict)
    opportunities: dict = field(default_factory=dict)
    opportunity_team: list = field(default_factory=list)  # (opportunity key, user key)
    gates: dict = field(default_factory=dict)
    contracts: dict = field(default_factory=dict)
    milestones: dict = field(default_factory=dict)  # key -> contract key
    invoices: dict = field(default_factory=dict)
    receipts: dict = field(default_factory=dict)

    def records(self, kind: str) -> dict:
        return {
            "customer": self.customers,
            "contact": self.contacts,
            "visit": self.visits,
            "issue": self.issues,
            "plan": self.plans,
            "assessment": self.assessments,
            "lead": self.leads,
            "opportunity": self.opportunities,
            "gate": self.gates,
            "contract": self.contracts,
            "milestone": self.milestones,
            "invoice": self.invoices,
            "receipt": self.receipts,
        }[kind]


# --- The oracle -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who is looking: a user (key), or an API client bound to a unit (user None), or nobody."""

    user: object | None
    heads: frozenset  # unit keys whose subtrees are "below" the actor
    everything: bool = False


def actor_for_user(world: World, user_key) -> Actor:
    if user_key is None:  # anonymous
        return Actor(user=None, heads=frozenset())
    spec = world.users[user_key]
    if not spec.active:
        return Actor(user=None, heads=frozenset())
    if spec.superuser or spec.role == "ADMIN":
        return Actor(user=user_key, heads=frozenset(), everything=True)
    heads = {unit for unit, manager in world.unit_manager.items() if manager == user_key}
    if spec.role in MANAGER_ROLES and spec.unit is not None:
        heads.add(spec.unit)
    return Actor(user=user_key, heads=frozenset(heads))


def actor_for_api_client(unit_key) -> Actor:
    if unit_key is None:
        return Actor(user=None, heads=frozenset(), everything=True)
    return Actor(user=None, heads=frozenset({unit_key}))


class Oracle:
    def __init__(self, world: World, actor: Actor):
        self.w = world
        self.a = actor

    # The tree, walked in Python.
    def unit_below(self, unit) -> bool:
        while unit is not None:
            if unit in self.a.heads:
                return True
            unit = self.w.units[unit]
        return False

    def person_below(self, user) -> bool:
        """The actor, or a user whose unit is below the actor."""
        if user is None:
            return False
        if self.a.user is not None and user == self.a.user:
            return True
        return self.unit_below(self.w.users[user].unit)

    def on_customer_team(self, customer) -> bool:
        return self.a.user is not None and (customer, self.a.user) in set(self.w.customer_team)

    def on_opportunity_team(self, opportunity) -> bool:
        return self.a.user is not None and (opportunity, self.a.user) in set(self.w.opportunity_team)

    # One predicate per record type.
    def customer(self, key) -> bool:
        c = self.w.customers[key]
        return self.unit_below(c.dept) or self.person_below(c.owner) or self.on_customer_team(key)

    def contact(self, key) -> bool:
        c = self.w.contacts[key]
        return self.customer(c.customer) or self.person_below(c.owner)

    def private_notes(self, key) -> bool:
        if self.a.everything:
            return True
        c = self.w.contacts[key]
        if c.owner is None:
            return self.unit_below(self.w.customers[c.customer].dept)
        return self.person_below(c.owner)

    def visit(self, key) -> bool:
        v = self.w.visits[key]
        return self.customer(v.customer) or self.person_below(v.rep) or self.unit_below(v.unit)

    def issue(self, key) -> bool:
        i = self.w.issues[key]
        return self.customer(i.customer) or self.person_below(i.owner)

    def plan(self, key) -> bool:
        p = self.w.plans[key]
        return self.customer(p.customer) or self.person_below(p.owner)

    def assessment(self, key) -> bool:
        return self.person_below(self.w.assessments[key].assessor)

    def lead(self, key) -> bool:
        lead = self.w.leads[key]
        return (
            (lead.customer is not None and self.customer(lead.customer))
            or self.person_below(lead.owner)
            or self.person_below(lead.nurturer)
            or self.unit_below(lead.unit)
        )

    def opportunity(self, key) -> bool:
        o = self.w.opportunities[key]
        return (
            self.customer(o.customer)
            or self.person_below(o.owner)
            or self.unit_below(o.unit)
            or self.on_opportunity_team(key)
        )

    def gate(self, key) -> bool:
        return self.opportunity(self.w.gates[key].opportunity)

    def contract(self, key) -> bool:
        c = self.w.contracts[key]
        return (
            self.customer(c.customer)
            or self.person_below(c.owner)
            or self.unit_below(c.unit)
            or (c.opportunity is not None and self.opportunity(c.opportunity))
        )

    def milestone(self, key) -> bool:
        return self.contract(self.w.milestones[key])

    def invoice(self, key) -> bool:
        return self.contract(self.w.invoices[key].contract)

    def receipt(self, key) -> bool:
        return self.contract(self.w.receipts[key].contract)

    def visible(self, kind: str) -> set:
        records = self.w.records(kind)
        if self.a.everything:
            return set(records)
        if self.a.user is None and not self.a.heads:
            return set()
        predicate = getattr(self, kind)
        return {key for key in records if predicate(key)}


def expected_visible(world: World, actor: Actor) -> dict[str, set]:
    oracle = Oracle(world, actor)
    return {kind: oracle.visible(kind) for kind in RECORD_TYPES}


# --- Writing the world to the database ----------------------------------------------------------------

_serial = itertools.count(1)


def _n() -> int:
    return next(_serial)


@dataclass
class Built:
    """The database rows of a world: key -> model instance, per type."""

    units: dict
    users: dict
    records: dict  # kind -> {key: instance}

    def ids(self, kind: str) -> dict:
        """pk -> key for one record type."""
        return {obj.pk: key for key, obj in self.records[kind].items()}


def build(world: World, *, existing_units: dict | None = None) -> Built:
    """Create the world with bulk inserts (a few dozen statements, whatever its size).

    `existing_units` (key -> OrgUnit, e.g. tests.factories.org_tree()) places the world on a tree that is
    already there; its shape must be the one `world.units` describes.
    """
    today = dt.date(2026, 3, 2)
    units: dict = dict(existing_units or {})
    for key, unit in units.items():
        parent = world.units[key]
        assert unit.parent_id == (units[parent].pk if parent is not None else None), key
    depth_of: dict = {key: unit.depth for key, unit in units.items()}
    pending = [(k, p) for k, p in world.units.items() if k not in units]
    while pending:  # one bulk insert per level of the tree
        level = [(k, p) for k, p in pending if p is None or p in units]
        pending = [(k, p) for k, p in pending if not (p is None or p in units)]
        assert level, "org units must form a tree"
        rows = []
        for key, parent in level:
            depth = 0 if parent is None else depth_of[parent] + 1
            depth_of[key] = depth
            n = _n()
            rows.append(
                OrgUnit(
                    code=f"V{n}",
                    name=f"unit {key}",
                    kind=KIND_BY_DEPTH[depth],
                    parent=units.get(parent),
                    path="",
                    depth=depth,
                )
            )
        created = OrgUnit.objects.bulk_create(rows)
        for (key, parent), unit in zip(level, created, strict=True):
            unit.path = f"{units[parent].path if parent is not None else '/'}{unit.pk}/"
            units[key] = unit
        OrgUnit.objects.bulk_update(created, ["path"])

    user_rows = []
    for key, spec in world.users.items():
        n = _n()
        user_rows.append(
            User(
                username=f"vis{n}",
                full_name=f"user {key}",
                password="!",
                org_unit=units.get(spec.unit) if spec.unit is not None else None,
                job_role=spec.role,
                is_superuser=spec.superuser,
                is_staff=spec.superuser,
                is_active=spec.active,
            )
        )
    users = dict(zip(world.users, User.objects.bulk_create(user_rows), strict=True))
    managed = []
    for unit_key, user_key in world.unit_manager.items():
        units[unit_key].manager = users[user_key]
        managed.append(units[unit_key])
    if managed:
        OrgUnit.objects.bulk_update(managed, ["manager"])

    def user(key):
        return users[key] if key is not None else None

    def bulk(model, specs: dict, make) -> dict:
        return dict(
            zip(specs, model.objects.bulk_create([make(k, s) for k, s in specs.items()]), strict=True)
        )

    records: dict = {}
    records["customer"] = bulk(
        Customer,
        world.customers,
        lambda k, s: Customer(
            name=f"customer {k}", external_id=f"VC{_n()}", account_dept=units[s.dept], owner=user(s.owner)
        ),
    )
    customers = records["customer"]
    roles_used: dict = {}
    team_rows = []
    for customer_key, user_key in world.customer_team:
        used = roles_used.setdefault(customer_key, 0)
        roles_used[customer_key] = used + 1
        role = TEAM_ROLES[used] if used < len(TEAM_ROLES) else "SUPPORT"
        team_rows.append(
            CustomerTeamMember(customer=customers[customer_key], user=users[user_key], role=role)
        )
    CustomerTeamMember.objects.bulk_create(team_rows)

    records["contact"] = bulk(
        Contact,
        world.contacts,
        lambda k, s: Contact(
            customer=customers[s.customer], name=f"contact {k}", owner=user(s.owner), private_notes="私人卡片"
        ),
    )
    records["visit"] = bulk(
        Visit,
        world.visits,
        lambda k, s: Visit(
            customer=customers[s.customer], rep=users[s.rep], org_unit=units[s.unit], visited_on=today
        ),
    )
    records["issue"] = bulk(
        CustomerIssue,
        world.issues,
        lambda k, s: CustomerIssue(customer=customers[s.customer], title=f"issue {k}", owner=users[s.owner]),
    )
    records["plan"] = bulk(
        RelationshipPlan,
        world.plans,
        lambda k, s: RelationshipPlan(
            customer=customers[s.customer],
            period_start=today,
            period_end=today + dt.timedelta(days=90),
            objective=f"plan {k}",
            owner=users[s.owner],
        ),
    )
    contacts = records["contact"]
    records["assessment"] = bulk(
        RelationshipAssessment,
        world.assessments,
        lambda k, s: RelationshipAssessment(
            contact=contacts[s.contact],
            period=f"P{_n()}"[:7],
            assessor=users[s.assessor],
            acceptance=3,
            participation=3,
            information_sharing=3,
            guidance=3,
            project_support=3,
            competitor_attitude=3,
        ),
    )
    records["lead"] = bulk(
        Lead,
        world.leads,
        lambda k, s: Lead(
            title=f"lead {k}",
            customer=customers[s.customer] if s.customer is not None else None,
            prospect_name="" if s.customer is not None else f"prospect {k}",
            owner=users[s.owner],
            nurturer=user(s.nurturer),
            org_unit=units[s.unit],
        ),
    )
    records["opportunity"] = bulk(
        Opportunity,
        world.opportunities,
        lambda k, s: Opportunity(
            name=f"opportunity {k}",
            customer=customers[s.customer],
            owner=users[s.owner],
            org_unit=units[s.unit],
            amount=Decimal("100000.00"),
            stage=Stage.VALIDATE,
        ),
    )
    opportunities = records["opportunity"]
    roles_used = {}
    team_rows = []
    for opportunity_key, user_key in world.opportunity_team:
        used = roles_used.setdefault(opportunity_key, 0)
        roles_used[opportunity_key] = used + 1
        role = TEAM_ROLES[used] if used < len(TEAM_ROLES) else "SUPPORT"
        team_rows.append(
            OpportunityTeamMember(opportunity=opportunities[opportunity_key], user=users[user_key], role=role)
        )
    OpportunityTeamMember.objects.bulk_create(team_rows)
    records["gate"] = bulk(
        GateDecision,
        world.gates,
        lambda k, s: GateDecision(
            opportunity=opportunities[s.opportunity],
            gate=GateDecision.Gate.ATI,
            outcome=GateDecision.Outcome.GO,
            decider=users[s.decider],
            decided_on=today,
            amount_at_decision=Decimal("100000.00"),
        ),
    )
    records["contract"] = bulk(
        Contract,
        world.contracts,
        lambda k, s: Contract(
            number=f"VHT{_n()}",
            opportunity=opportunities[s.opportunity] if s.opportunity is not None else None,
            customer=customers[s.customer],
            owner=users[s.owner],
            org_unit=units[s.unit],
            amount=Decimal("1000000.00"),
            signed_on=today,
        ),
    )
    contracts = records["contract"]
    sequence_in_contract: dict = {}

    def next_sequence(contract_key) -> int:
        sequence_in_contract[contract_key] = sequence_in_contract.get(contract_key, 0) + 1
        return sequence_in_contract[contract_key]

    records["milestone"] = bulk(
        PaymentMilestone,
        world.milestones,
        lambda k, s: PaymentMilestone(
            contract=contracts[s],
            sequence=next_sequence(s),
            kind=PaymentMilestone.Kind.ADVANCE,
            percent=Decimal("10.00"),
            amount=Decimal("100000.00"),
            planned_on=today,
        ),
    )
    milestones = records["milestone"]
    records["invoice"] = bulk(
        Invoice,
        world.invoices,
        lambda k, s: Invoice(
            contract=contracts[s.contract],
            milestone=milestones[s.milestone] if s.milestone is not None else None,
            number=f"VINV{_n()}",
            amount=Decimal("50000.00"),
            issued_on=today,
            due_on=today + dt.timedelta(days=30),
        ),
    )
    invoices = records["invoice"]
    records["receipt"] = bulk(
        Receipt,
        world.receipts,
        lambda k, s: Receipt(
            contract=contracts[s.contract],
            invoice=invoices[s.invoice] if s.invoice is not None else None,
            amount=Decimal("1000.00"),
            received_on=today,
        ),
    )
    return Built(units=units, users=users, records=records)


def selectors() -> dict:
    """Record type -> its visibility selector `(user, *, scope=None) -> QuerySet`."""
    from contracts.selectors import (
        contract_visible_to,
        invoice_visible_to,
        milestone_visible_to,
        receipt_visible_to,
    )
    from pipeline.selectors import gate_decision_visible_to, lead_visible_to, opportunity_visible_to
    from relationships.selectors import (
        contact_visible_to,
        customer_issue_visible_to,
        customer_visible_to,
        relationship_assessment_visible_to,
        relationship_plan_visible_to,
        visit_visible_to,
    )

    return {
        "customer": customer_visible_to,
        "contact": contact_visible_to,
        "visit": visit_visible_to,
        "issue": customer_issue_visible_to,
        "plan": relationship_plan_visible_to,
        "assessment": relationship_assessment_visible_to,
        "lead": lead_visible_to,
        "opportunity": opportunity_visible_to,
        "gate": gate_decision_visible_to,
        "contract": contract_visible_to,
        "milestone": milestone_visible_to,
        "invoice": invoice_visible_to,
        "receipt": receipt_visible_to,
    }


def actual_visible(built: Built, user=None, *, scope=None) -> dict[str, set]:
    """What the selectors return, as keys of the world, per record type."""
    result = {}
    for kind, selector in selectors().items():
        by_pk = built.ids(kind)
        pks = list(selector(user, scope=scope).values_list("pk", flat=True))
        assert len(pks) == len(set(pks)), f"{kind}: duplicate rows {pks}"
        result[kind] = {by_pk.get(pk, ("foreign row", pk)) for pk in pks}
    return result
