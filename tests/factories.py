"""factory-boy factories for every model the tests build. Org units get their materialised path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import OrgUnit, User
from contracts.models import Contract, Invoice, PaymentMilestone, Receipt
from pipeline.models import GateDecision, Lead, Opportunity, OpportunityTeamMember, Product, Stage
from relationships.models import Contact, Customer, CustomerTeamMember, Visit

DEMO_PASSWORD = "Ltc-demo-2026!"


class OrgUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrgUnit

    code = factory.Sequence(lambda n: f"U{n:05d}")
    name = factory.Sequence(lambda n: f"组织{n}")
    kind = OrgUnit.Kind.HQ
    parent = None
    path = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        parent = kwargs.get("parent")
        if (
            parent is not None
            and "kind" not in kwargs
            or parent is not None
            and kwargs.get("kind") == OrgUnit.Kind.HQ
        ):
            kwargs["kind"] = OrgUnit.CHILD_KIND[parent.kind]
        kwargs["depth"] = (parent.depth + 1) if parent else 0
        unit = super()._create(model_class, *args, **kwargs)
        unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
        unit.save(update_fields=["path"])
        return unit


def org_tree() -> dict[str, OrgUnit]:
    """HQ → region → rep office → two account departments, and a second branch (region2 → office2 → dept3)."""
    hq = OrgUnitFactory(kind=OrgUnit.Kind.HQ, name="总部")
    region = OrgUnitFactory(parent=hq, name="华东地区部")
    office = OrgUnitFactory(parent=region, name="上海代表处")
    dept1 = OrgUnitFactory(parent=office, name="运营商系统部")
    dept2 = OrgUnitFactory(parent=office, name="政企系统部")
    region2 = OrgUnitFactory(parent=hq, name="华南地区部")
    office2 = OrgUnitFactory(parent=region2, name="广州代表处")
    dept3 = OrgUnitFactory(parent=office2, name="金融系统部")
    return {
        "hq": hq,
        "region": region,
        "office": office,
        "dept1": dept1,
        "dept2": dept2,
        "region2": region2,
        "office2": office2,
        "dept3": dept3,
    }


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"员工{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    job_role = User.JobRole.SALES_REP
    org_unit = factory.SubFactory(OrgUnitFactory)
    password = factory.PostGenerationMethodCall("set_password", DEMO_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"客户公司{n}")
    name_en = factory.Sequence(lambda n: f"Customer Co {n}")
    external_id = factory.Sequence(lambda n: f"CUST-{n:06d}")
    account_dept = factory.SubFactory(OrgUnitFactory)
    owner = None
    annual_purchase = Decimal("2000000.00")
    tier = Customer.Tier.B


class CustomerTeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerTeamMember

    customer = factory.SubFactory(CustomerFactory)
    user = factory.SubFactory(UserFactory)
    role = "AR"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
    title = "CTO"
    external_id = factory.Sequence(lambda n: f"CON-{n:06d}")


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    customer = factory.SubFactory(CustomerFactory)
    rep = factory.SubFactory(UserFactory)
    org_unit = factory.LazyAttribute(lambda o: o.rep.org_unit)
    visited_on = factory.LazyFunction(lambda: timezone.localdate())
    visit_type = Visit.Type.ROUTINE
    purpose = "日常拜访"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"P-{n:05d}")
    external_id = factory.Sequence(lambda n: f"PROD-{n:05d}")
    name = factory.Sequence(lambda n: f"产品{n}")
    product_line = "无线"
    list_price = Decimal("10000.00")


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    title = factory.Sequence(lambda n: f"线索{n}")
    customer = factory.SubFactory(CustomerFactory)
    owner = factory.SubFactory(UserFactory)
    org_unit = factory.LazyAttribute(lambda o: o.customer.account_dept if o.customer else o.owner.org_unit)
    need = "网络扩容"
    estimated_amount = Decimal("500000.00")


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    name = factory.Sequence(lambda n: f"机会点{n}")
    customer = factory.SubFactory(CustomerFactory)
    owner = factory.SubFactory(UserFactory)
    org_unit = factory.LazyAttribute(lambda o: o.customer.account_dept)
    amount = Decimal("800000.00")
    stage = Stage.VALIDATE
    probability = 10
    expected_sign_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=90))
    external_id = factory.Sequence(lambda n: f"OPP-{n:06d}")


class OpportunityTeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpportunityTeamMember

    opportunity = factory.SubFactory(OpportunityFactory)
    user = factory.SubFactory(UserFactory)
    role = "AR"


class GateDecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GateDecision

    opportunity = factory.SubFactory(OpportunityFactory)
    gate = GateDecision.Gate.ATI
    outcome = GateDecision.Outcome.GO
    decider = factory.SubFactory(UserFactory, job_role=User.JobRole.MANAGER)
    decided_on = factory.LazyFunction(timezone.localdate)
    amount_at_decision = factory.LazyAttribute(lambda o: o.opportunity.amount)


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    number = factory.Sequence(lambda n: f"HT-{n:06d}")
    external_id = factory.Sequence(lambda n: f"CTR-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    owner = factory.SubFactory(UserFactory)
    org_unit = factory.LazyAttribute(lambda o: o.customer.account_dept)
    amount = Decimal("1000000.00")
    signed_on = factory.LazyFunction(timezone.localdate)


class PaymentMilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentMilestone

    contract = factory.SubFactory(ContractFactory)
    sequence = factory.Sequence(lambda n: n + 1)
    kind = PaymentMilestone.Kind.ADVANCE
    percent = Decimal("30.00")
    amount = factory.LazyAttribute(lambda o: (o.contract.amount * o.percent / 100).quantize(Decimal("0.01")))
    planned_on = factory.LazyFunction(timezone.localdate)


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    contract = factory.SubFactory(ContractFactory)
    number = factory.Sequence(lambda n: f"INV-{n:07d}")
    external_id = factory.Sequence(lambda n: f"ERP-INV-{n:07d}")
    amount = Decimal("100000.00")
    issued_on = factory.LazyFunction(timezone.localdate)
    due_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=30))


class ReceiptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Receipt

    invoice = factory.SubFactory(InvoiceFactory)
    contract = factory.LazyAttribute(lambda o: o.invoice.contract)
    amount = Decimal("50000.00")
    received_on = factory.LazyFunction(timezone.localdate)
    external_id = factory.Sequence(lambda n: f"ERP-RCP-{n:07d}")


# --- Opportunity workflow helpers (pipeline) ------------------------------------------------------


def opportunity_deal(tree: dict[str, OrgUnit], *, amount: Decimal = Decimal("800000.00"), **kwargs):
    """A deal in tree["dept1"] at VALIDATE with its complete iron triangle and the managers above it.

    Returns a namespace: opp, customer, rep (owner and AR), sr, fr, dept_manager (dept1), office_manager
    (office), region_exec (region), other_manager (office2, another branch).
    """
    from types import SimpleNamespace

    dept = tree["dept1"]
    ns = SimpleNamespace(
        rep=UserFactory(org_unit=dept),
        sr=UserFactory(org_unit=dept, job_role=User.JobRole.SOLUTION_EXPERT),
        fr=UserFactory(org_unit=dept, job_role=User.JobRole.DELIVERY_EXPERT),
        dept_manager=UserFactory(org_unit=dept, job_role=User.JobRole.MANAGER),
        office_manager=UserFactory(org_unit=tree["office"], job_role=User.JobRole.MANAGER),
        region_exec=UserFactory(org_unit=tree["region"], job_role=User.JobRole.EXECUTIVE),
        other_manager=UserFactory(org_unit=tree["office2"], job_role=User.JobRole.MANAGER),
    )
    ns.customer = CustomerFactory(account_dept=dept)
    kwargs.setdefault("stage_changed_at", timezone.now())
    ns.opp = OpportunityFactory(customer=ns.customer, owner=ns.rep, amount=amount, **kwargs)
    for user, role in ((ns.rep, "AR"), (ns.sr, "SR"), (ns.fr, "FR")):
        OpportunityTeamMemberFactory(opportunity=ns.opp, user=user, role=role)
    return ns


def opportunity_drive_to(deal, stage: str) -> Opportunity:
    """Walk `deal.opp` forward from VALIDATE to `stage` through the services, taking each gate's GO on the way
    (decided by the account department's manager, so the amount must be within that level's authority).
    """
    from pipeline.services.opportunities import gate_decide, opportunity_move_stage

    path = [Stage.GUIDE, Stage.BID, Stage.NEGOTIATE]
    gates = {Stage.GUIDE: GateDecision.Gate.ATI, Stage.NEGOTIATE: GateDecision.Gate.ATB}
    opp = deal.opp
    for step in path[: path.index(stage) + 1]:
        if step in gates:
            gate_decide(opportunity=opp, actor=deal.dept_manager, gate=gates[step], outcome="GO")
        opp = opportunity_move_stage(opportunity=opp, actor=deal.rep, to_stage=step)
    deal.opp = opp
    return opp
