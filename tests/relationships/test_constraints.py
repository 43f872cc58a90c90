"""Database constraints of customers, contacts, relationship work, visits and issues
(harness: tests/ltc/test_constraints.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from relationships.models import (
    ASSESSMENT_SCORE_FIELDS,
    Contact,
    Customer,
    CustomerBudget,
    CustomerBudgetLine,
    CustomerIssue,
    RelationshipAssessment,
    RelationshipPlan,
    Visit,
)
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    CustomerTeamMemberFactory,
    UserFactory,
    VisitFactory,
)
from tests.ltc.test_constraints import Check, Unique, covered_names, run_check, run_unique


def build_budget(**kwargs) -> CustomerBudget:
    values = {"year": 2027, "total_amount": Decimal("5000000.00")}
    values.update(kwargs)
    values.setdefault("customer", CustomerFactory())
    return CustomerBudget.objects.create(**values)


def build_budget_line(**kwargs) -> CustomerBudgetLine:
    values = {"area": "5G core", "amount": Decimal("100000.00")}
    values.update(kwargs)
    values.setdefault("budget", build_budget())
    return CustomerBudgetLine.objects.create(**values)


def build_assessment(**kwargs) -> RelationshipAssessment:
    values = {"period": "2026Q4", **dict.fromkeys(ASSESSMENT_SCORE_FIELDS, 3)}
    values.update(kwargs)
    values.setdefault("contact", ContactFactory())
    values.setdefault("assessor", UserFactory())
    return RelationshipAssessment.objects.create(**values)


def build_plan() -> RelationshipPlan:
    return RelationshipPlan.objects.create(
        customer=CustomerFactory(),
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        objective="提升高层关系",
        owner=UserFactory(),
    )


def build_issue() -> CustomerIssue:
    return CustomerIssue.objects.create(customer=CustomerFactory(), title="网络故障", owner=UserFactory())


def choices(name: str, build, field: str, good: str) -> Check:
    return Check(name, build, bad={field: "Z"}, good={field: good})


CHECKS = [
    choices("customer_tier_valid", CustomerFactory, "tier", "S"),
    choices("customer_status_valid", CustomerFactory, "status", "DORMANT"),
    choices("customer_industry_valid", CustomerFactory, "industry", "FINANCE"),
    choices("customer_market_type_valid", CustomerFactory, "market_type", "BREAKTHROUGH"),
    Check(
        "customer_purchase_nonneg",
        CustomerFactory,
        bad={"annual_purchase": Decimal("-1")},
        good={"annual_purchase": Decimal("0")},
    ),
    Check(
        "customer_completeness_pct",
        CustomerFactory,
        bad={"archive_completeness": 101},
        good={"archive_completeness": 100},
    ),
    Check(
        "customerbudget_nonneg",
        build_budget,
        bad={"total_amount": Decimal("-0.01")},
        good={"total_amount": Decimal("0")},
    ),
    Check(
        "customerbudgetline_nonneg",
        build_budget_line,
        bad={"amount": Decimal("-0.01")},
        good={"amount": Decimal("0")},
    ),
    choices("customerteam_role_valid", CustomerTeamMemberFactory, "role", "SPONSOR"),
    choices("contact_level_valid", ContactFactory, "level", "TOP"),
    choices("contact_decision_role_valid", ContactFactory, "decision_role", "DECIDER"),
    choices("contact_stance_valid", ContactFactory, "stance", "OPPOSE"),
    Check("contact_intimacy_1_5", ContactFactory, bad={"intimacy": 6}, good={"intimacy": 5}),
    Check("contact_intimacy_1_5", ContactFactory, bad={"intimacy": 0}, good={"intimacy": 1}),
    Check("contact_support_1_5", ContactFactory, bad={"support_level": 6}, good={"support_level": 5}),
    Check("contact_support_1_5", ContactFactory, bad={"support_level": 0}, good={"support_level": 1}),
    choices("assessment_layer_valid", build_assessment, "layer", "ORGANISATIONAL"),
    *[
        Check(f"assessment_{score}_1_5", build_assessment, bad={score: bad}, good={score: good})
        for score in ASSESSMENT_SCORE_FIELDS
        for bad, good in ((0, 1), (6, 5))
    ],
    choices("relplan_layer_valid", build_plan, "layer", "GENERAL"),
    Check(
        "relplan_period_order",
        build_plan,
        bad={"period_end": dt.date(2025, 12, 31)},
        good={"period_end": dt.date(2026, 1, 1)},
    ),
    choices("visit_type_valid", VisitFactory, "visit_type", "EXECUTIVE_SUMMIT"),
    choices("customerissue_status_valid", build_issue, "status", "ESCALATED"),
    Check("customerissue_satisfaction_1_5", build_issue, bad={"satisfaction": 6}, good={"satisfaction": 5}),
    Check("customerissue_satisfaction_1_5", build_issue, bad={"satisfaction": 0}, good={"satisfaction": 1}),
    # Closing needs a satisfaction score and a closing time: both set passes, either missing is refused.
    Check(
        "customerissue_closed_is_evaluated",
        build_issue,
        bad={"status": "CLOSED", "satisfaction": None},
        good={"status": "CLOSED", "satisfaction": 4, "closed_at": timezone.now()},
    ),
    Check(
        "customerissue_closed_is_evaluated",
        build_issue,
        bad={"status": "CLOSED", "closed_at": None},
        good={"status": "CLOSED", "satisfaction": 4, "closed_at": timezone.now()},
    ),
]


def _customer_with_tax_id():
    return CustomerFactory(tax_id="91310000MA1FL0000X")


def _team_member(role: str):
    return lambda: CustomerTeamMemberFactory(role=role)


UNIQUES = [
    Unique(
        "customer_external_id_unique",
        CustomerFactory,
        lambda a: CustomerFactory(external_id=a.external_id),
        lambda a: CustomerFactory(external_id=a.external_id + "-B"),
    ),
    Unique(
        "customer_tax_id_unique",
        _customer_with_tax_id,
        lambda a: CustomerFactory(tax_id=a.tax_id),
        lambda a: CustomerFactory(tax_id=a.tax_id[:-1] + "Y"),
    ),
    Unique(
        "customerbudget_unique_year",
        build_budget,
        lambda a: build_budget(customer=a.customer, year=a.year),
        lambda a: build_budget(customer=a.customer, year=a.year + 1),
    ),
    Unique(
        "customerbudgetline_unique_area",
        build_budget_line,
        lambda a: build_budget_line(budget=a.budget, area=a.area),
        lambda a: build_budget_line(budget=a.budget, area=a.area + " edge"),
    ),
    # The same person twice in the same role (a SUPPORT member, so only this constraint applies).
    Unique(
        "customerteam_unique_member",
        _team_member("SUPPORT"),
        lambda a: CustomerTeamMemberFactory(customer=a.customer, user=a.user, role="SUPPORT"),
        lambda a: CustomerTeamMemberFactory(customer=a.customer, user=a.user, role="AR"),
    ),
    # One AR (SR, FR, sponsor) per customer; supporting members are many.
    *[
        Unique(
            "customerteam_one_per_role",
            _team_member(role),
            lambda a: CustomerTeamMemberFactory(customer=a.customer, role=a.role),
            lambda a: CustomerTeamMemberFactory(customer=a.customer, role="SUPPORT"),
        )
        for role in ("AR", "SR", "FR", "SPONSOR")
    ],
    Unique(
        "contact_external_id_unique",
        ContactFactory,
        lambda a: ContactFactory(external_id=a.external_id),
        lambda a: ContactFactory(external_id=a.external_id + "-B"),
    ),
    Unique(
        "assessment_unique_period",
        build_assessment,
        lambda a: build_assessment(contact=a.contact, period=a.period),
        lambda a: build_assessment(contact=a.contact, period="2027Q1"),
    ),
    Unique(
        "visit_external_id_unique",
        lambda: VisitFactory(external_id="CRM-V-1"),
        lambda a: VisitFactory(external_id=a.external_id),
        lambda a: VisitFactory(external_id="CRM-V-2"),
    ),
]

COVERED = covered_names(CHECKS) | covered_names(UNIQUES)


def _case_id(case) -> str:
    bad = ",".join(f"{k}={v}" for k, v in getattr(case, "bad", {}).items())
    return f"{case.name}[{bad}]" if bad else case.name


@pytest.mark.django_db
@pytest.mark.parametrize("case", CHECKS, ids=_case_id)
def test_check_constraint(case):
    run_check(case)


@pytest.mark.django_db
@pytest.mark.parametrize("case", UNIQUES, ids=[f"{c.name}-{i}" for i, c in enumerate(UNIQUES)])
def test_unique_constraint(case):
    run_unique(case)


@pytest.mark.django_db
def test_many_supporting_members_per_customer():
    first = CustomerTeamMemberFactory(role="SUPPORT")
    CustomerTeamMemberFactory(customer=first.customer, role="SUPPORT")
    CustomerTeamMemberFactory(customer=first.customer, role="SUPPORT")
    assert first.customer.team.filter(role="SUPPORT").count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "build"),
    [
        pytest.param(Customer, lambda: CustomerFactory(external_id=None, tax_id=None), id="customer"),
        pytest.param(Contact, lambda: ContactFactory(external_id=None), id="contact"),
        pytest.param(Visit, lambda: VisitFactory(external_id=None), id="visit"),
    ],
)
def test_many_rows_without_external_id(model, build):
    first, second = build(), build()
    assert model.objects.filter(pk__in=[first.pk, second.pk], external_id__isnull=True).count() == 2
