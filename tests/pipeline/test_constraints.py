"""Database constraints of leads, opportunities, gates, support requests, products and the BOQ
(harness: tests/ltc/test_constraints.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from pipeline.models import (
    Lead,
    LeadQualification,
    LeadReview,
    LeadReviewReminder,
    Opportunity,
    OpportunityLine,
    Product,
    StageTransition,
    SupportRequest,
)
from tests.factories import (
    GateDecisionFactory,
    LeadFactory,
    OpportunityFactory,
    OpportunityTeamMemberFactory,
    ProductFactory,
    UserFactory,
)
from tests.ltc.test_constraints import (
    Check,
    Unique,
    assert_names_constraint,
    covered_names,
    run_check,
    run_unique,
)

MONDAY = dt.date(2026, 11, 23)


def build_qualification(**kwargs) -> LeadQualification:
    values = {
        "is_lead_answer": "符合战略",
        "is_lead_score": 8,
        "how_far_answer": "预算明确",
        "how_far_score": 6,
        "can_win_answer": "关系良好",
        "can_win_score": 7,
        "total_score": 21,
        "grade": "B",
    }
    values.update(kwargs)
    values.setdefault("lead", LeadFactory())
    values.setdefault("qualified_by", UserFactory())
    return LeadQualification.objects.create(**values)


def build_review(**kwargs) -> LeadReview:
    values = {"week": MONDAY, "decision": "NURTURE", "reason": "客户预算未批"}
    values.update(kwargs)
    values.setdefault("lead", LeadFactory())
    values.setdefault("decided_by", UserFactory())
    return LeadReview.objects.create(**values)


def build_reminder(**kwargs) -> LeadReviewReminder:
    values = {"week": MONDAY, "lead_count": 4}
    values.update(kwargs)
    values.setdefault("user", UserFactory())
    return LeadReviewReminder.objects.create(**values)


def build_stage_transition() -> StageTransition:
    return StageTransition.objects.create(
        opportunity=OpportunityFactory(), from_stage="VALIDATE", to_stage="GUIDE", actor=UserFactory()
    )


def build_support_request() -> SupportRequest:
    opportunity = OpportunityFactory()
    return SupportRequest.objects.create(
        opportunity=opportunity,
        requested_by=opportunity.owner,
        expertise="SOLUTION",
        need="核心网方案专家",
        needed_by=MONDAY,
    )


def build_line(**kwargs) -> OpportunityLine:
    values = {
        "quantity": Decimal("2"),
        "unit_price": Decimal("10000.00"),
        "discount_pct": Decimal("10"),
        "line_amount": Decimal("18000.00"),
    }
    values.update(kwargs)
    values.setdefault("opportunity", OpportunityFactory())
    values.setdefault("product", ProductFactory())
    return OpportunityLine.objects.create(**values)


def choices(name: str, build, field: str, good: str) -> Check:
    return Check(name, build, bad={field: "Z"}, good={field: good})


NOW = timezone.now()

CHECKS = [
    Check(
        "product_price_nonneg",
        ProductFactory,
        bad={"list_price": Decimal("-0.01")},
        good={"list_price": Decimal("0")},
    ),
    choices("lead_status_valid", LeadFactory, "status", "NURTURING"),
    choices("lead_source_valid", LeadFactory, "source", "PARTNER"),
    choices("lead_maturity_valid", LeadFactory, "maturity", "MATURE"),
    Check("lead_grade_valid", LeadFactory, bad={"grade": "E"}, good={"grade": "A"}),
    Check(
        "lead_amount_nonneg",
        LeadFactory,
        bad={"estimated_amount": Decimal("-1")},
        good={"estimated_amount": Decimal("0")},
    ),
    # A lead names a customer or a prospect: a prospect name alone is enough, neither is refused.
    Check("lead_has_customer_or_prospect", lambda: LeadFactory(prospect_name=""), bad={"customer": None}),
    Check(
        "lead_has_customer_or_prospect",
        lambda: LeadFactory(customer=None, prospect_name="某新客户"),
        bad={"prospect_name": ""},
        good={"prospect_name": "另一新客户"},
    ),
    Check(
        "lead_closed_has_reason",
        LeadFactory,
        bad={"status": "CLOSED", "close_reason": ""},
        good={"status": "CLOSED", "close_reason": "客户取消项目", "closed_at": NOW},
    ),
    # Only a closed lead may point at the lead it duplicates.
    Check(
        "lead_merged_is_closed",
        lambda: LeadFactory(
            status="CLOSED", close_reason="重复线索", closed_at=NOW, merged_into=LeadFactory()
        ),
        bad={"status": "NURTURING"},
        good={"close_reason": "与另一线索重复"},
    ),
    Check(
        "lead_converted_has_time",
        LeadFactory,
        bad={"status": "CONVERTED", "converted_at": None},
        good={"status": "CONVERTED", "converted_at": NOW},
    ),
    choices("leadqual_grade_valid", build_qualification, "grade", "A"),
    *[
        Check(
            f"leadqual_{score}_0_10",
            build_qualification,
            bad={score: 11, "total_score": F("total_score") - F(score) + 11},
            good={score: 10, "total_score": F("total_score") - F(score) + 10},
        )
        for score in ("is_lead_score", "how_far_score", "can_win_score")
    ],
    Check("leadqual_total_is_sum", build_qualification, bad={"total_score": 22}, good={"total_score": 21}),
    choices("leadreview_decision_valid", build_review, "decision", "CONVERT"),
    Check(
        "leadreview_reassign_has_user",
        build_review,
        bad={"decision": "REASSIGN", "reassigned_to": None},
        good={"decision": "CLOSE"},
    ),
    Check("leadreview_has_reason", build_review, bad={"reason": ""}, good={"reason": "换人跟进"}),
    choices("opportunity_stage_valid", OpportunityFactory, "stage", "NEGOTIATE"),
    Check(
        "opportunity_amount_nonneg",
        OpportunityFactory,
        bad={"amount": Decimal("-0.01")},
        good={"amount": Decimal("0")},
    ),
    Check(
        "opportunity_probability_pct", OpportunityFactory, bad={"probability": 101}, good={"probability": 100}
    ),
    *[
        Check(
            "opportunity_lost_has_reason",
            OpportunityFactory,
            bad={"stage": stage, "closed_at": NOW, "close_reason": ""},
            good={"stage": stage, "closed_at": NOW, "close_reason": "价格劣势"},
        )
        for stage in ("LOST", "ABANDONED")
    ],
    *[
        Check(
            "opportunity_closed_has_time",
            OpportunityFactory,
            bad={"stage": stage, "close_reason": "结束", "closed_at": None},
            good={"stage": stage, "close_reason": "结束", "closed_at": NOW},
        )
        for stage in ("WON", "LOST", "ABANDONED")
    ],
    choices("oppteam_role_valid", OpportunityTeamMemberFactory, "role", "FR"),
    Check(
        "oppteam_share_pct",
        OpportunityTeamMemberFactory,
        bad={"credit_share": Decimal("100.01")},
        good={"credit_share": Decimal("100")},
    ),
    Check(
        "oppteam_share_pct",
        OpportunityTeamMemberFactory,
        bad={"credit_share": Decimal("-0.01")},
        good={"credit_share": Decimal("0")},
    ),
    choices("stagetransition_from_valid", build_stage_transition, "from_stage", "BID"),
    choices("stagetransition_to_valid", build_stage_transition, "to_stage", "LOST"),
    choices("gatedecision_gate_valid", GateDecisionFactory, "gate", "ATC"),
    choices("gatedecision_outcome_valid", GateDecisionFactory, "outcome", "HOLD"),
    Check(
        "gatedecision_amount_nonneg",
        GateDecisionFactory,
        bad={"amount_at_decision": Decimal("-1")},
        good={"amount_at_decision": Decimal("0")},
    ),
    choices("supportrequest_status_valid", build_support_request, "status", "CANCELLED"),
    choices("supportrequest_expertise_valid", build_support_request, "expertise", "RND"),
    Check(
        "supportrequest_assigned_has_expert",
        build_support_request,
        bad={"status": "ASSIGNED", "assigned_at": NOW},
        good={"status": "DONE"},
    ),
    Check(
        "oppline_quantity_pos", build_line, bad={"quantity": Decimal("0")}, good={"quantity": Decimal("0.01")}
    ),
    Check(
        "oppline_price_nonneg",
        build_line,
        bad={"unit_price": Decimal("-0.01")},
        good={"unit_price": Decimal("0")},
    ),
    Check(
        "oppline_discount_pct",
        build_line,
        bad={"discount_pct": Decimal("100.01")},
        good={"discount_pct": Decimal("100")},
    ),
    Check(
        "oppline_discount_pct",
        build_line,
        bad={"discount_pct": Decimal("-0.01")},
        good={"discount_pct": Decimal("0")},
    ),
    Check(
        "oppline_amount_nonneg",
        build_line,
        bad={"line_amount": Decimal("-0.01")},
        good={"line_amount": Decimal("0")},
    ),
]


def _two_leads_same_customer(lead: Lead) -> Lead:
    return LeadFactory(customer=lead.customer, owner=lead.owner)


UNIQUES = [
    Unique(
        "product_code_unique",
        ProductFactory,
        lambda a: ProductFactory(code=a.code),
        lambda a: ProductFactory(code=a.code + "-B"),
    ),
    Unique(
        "product_external_id_unique",
        ProductFactory,
        lambda a: ProductFactory(external_id=a.external_id),
        lambda a: ProductFactory(external_id=a.external_id + "-B"),
    ),
    Unique(
        "lead_external_id_unique",
        lambda: LeadFactory(external_id="ERP-L-1"),
        lambda a: LeadFactory(external_id=a.external_id),
        lambda a: LeadFactory(external_id="ERP-L-2"),
    ),
    Unique(
        "leadreview_unique_week",
        build_review,
        lambda a: build_review(lead=a.lead, week=a.week),
        lambda a: build_review(lead=a.lead, week=a.week + dt.timedelta(days=7)),
    ),
    Unique(
        "leadreminder_unique_week",
        build_reminder,
        lambda a: build_reminder(user=a.user, week=a.week),
        lambda a: build_reminder(user=a.user, week=a.week + dt.timedelta(days=7)),
    ),
    Unique(
        "opportunity_external_id_unique",
        OpportunityFactory,
        lambda a: OpportunityFactory(external_id=a.external_id),
        lambda a: OpportunityFactory(external_id=a.external_id + "-B"),
    ),
    Unique(
        "oppteam_unique_user",
        lambda: OpportunityTeamMemberFactory(role="SUPPORT"),
        lambda a: OpportunityTeamMemberFactory(opportunity=a.opportunity, user=a.user, role="SUPPORT"),
        lambda a: OpportunityTeamMemberFactory(opportunity=a.opportunity, role="SUPPORT"),
    ),
    *[
        Unique(
            "oppteam_one_per_role",
            lambda role=role: OpportunityTeamMemberFactory(role=role),
            lambda a: OpportunityTeamMemberFactory(opportunity=a.opportunity, role=a.role),
            lambda a: OpportunityTeamMemberFactory(opportunity=a.opportunity, role="SUPPORT"),
        )
        for role in ("AR", "SR", "FR", "SPONSOR")
    ],
    Unique(
        "oppline_unique_product",
        build_line,
        lambda a: build_line(opportunity=a.opportunity, product=a.product),
        lambda a: build_line(opportunity=a.opportunity),
    ),
]

COVERED = covered_names(CHECKS) | covered_names(UNIQUES)


def _case_id(case) -> str:
    bad = ",".join(f"{k}={v}" for k, v in case.bad.items() if not hasattr(v, "resolve_expression"))
    return f"{case.name}[{bad}]"


@pytest.mark.django_db
@pytest.mark.parametrize("case", CHECKS, ids=[f"{_case_id(c)}-{i}" for i, c in enumerate(CHECKS)])
def test_check_constraint(case):
    run_check(case)


@pytest.mark.django_db
@pytest.mark.parametrize("case", UNIQUES, ids=[f"{c.name}-{i}" for i, c in enumerate(UNIQUES)])
def test_unique_constraint(case):
    run_unique(case)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "build"),
    [
        pytest.param(Product, lambda: ProductFactory(external_id=None), id="product"),
        pytest.param(Lead, lambda: LeadFactory(external_id=None), id="lead"),
        pytest.param(Opportunity, lambda: OpportunityFactory(external_id=None), id="opportunity"),
    ],
)
def test_many_rows_without_external_id(model, build):
    first, second = build(), build()
    assert model.objects.filter(pk__in=[first.pk, second.pk], external_id__isnull=True).count() == 2


@pytest.mark.django_db
def test_opportunity_lost_on_create_needs_reason():
    """The same rule through create(): a LOST opportunity without a reason never reaches the table."""
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        OpportunityFactory(stage="LOST", closed_at=NOW, close_reason="")
    assert_names_constraint(caught.value, Opportunity, "opportunity_lost_has_reason")
    assert OpportunityFactory(stage="LOST", closed_at=NOW, close_reason="预算取消").pk
