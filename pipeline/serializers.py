"""REST representations of products, leads and opportunities."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from rest_framework import serializers

from accounts.selectors import user_visible_to
from ltc.api.serializers import OutputSerializer, VisibleIdField
from pipeline.models import (
    GateDecision,
    Lead,
    LeadReview,
    Opportunity,
    OpportunityLine,
    OpportunityTeamMember,
    Product,
    Stage,
    SupportRequest,
)
from pipeline.selectors import product_visible_to
from relationships.models import TriangleRole
from relationships.selectors import customer_visible_to, visit_visible_to

MONEY = {"max_digits": 18, "decimal_places": 2}


class ProductOutputSerializer(OutputSerializer):
    class Meta:
        model = Product
        fields = [
            "id",
            "external_id",
            "code",
            "name",
            "product_line",
            "series",
            "list_price",
            "currency",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProductUpdateInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    product_line = serializers.CharField(max_length=64)
    series = serializers.CharField(max_length=64, required=False, allow_blank=True)
    list_price = serializers.DecimalField(**MONEY, min_value=0, required=False)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)
    is_active = serializers.BooleanField(required=False)
    external_id = serializers.CharField(max_length=64, required=False, allow_null=True)


class ProductCreateInputSerializer(ProductUpdateInputSerializer):
    pass


class LeadOutputSerializer(OutputSerializer):
    class Meta:
        model = Lead
        fields = [
            "id",
            "external_id",
            "title",
            "customer",
            "prospect_name",
            "source",
            "source_visit",
            "need",
            "budget_known",
            "maturity",
            "estimated_amount",
            "currency",
            "owner",
            "nurturer",
            "org_unit",
            "status",
            "grade",
            "qualification_score",
            "next_review_on",
            "close_reason",
            "converted_at",
            "closed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OpportunityOutputSerializer(OutputSerializer):
    class Meta:
        model = Opportunity
        fields = [
            "id",
            "external_id",
            "name",
            "customer",
            "lead",
            "amount",
            "currency",
            "margin_pct",
            "expected_sign_on",
            "stage",
            "probability",
            "competitors",
            "owner",
            "org_unit",
            "stage_changed_at",
            "close_reason",
            "closed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# --- Inputs of the lead and opportunity actions ----------------------------------------------------------


class StrictInputSerializer(serializers.Serializer):
    """An input that refuses fields it does not know (e.g. `stage` in a PATCH): a 400 naming each one,
    instead of silently ignoring what the client believed it changed."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [_("Unknown or read-only field. 未知或只读字段。")] for name in unknown}
                )
        return super().to_internal_value(data)


def _people(user):
    # Service users of API clients are not people: they cannot be nurturers, team members or owners.
    return user_visible_to(user).filter(is_active=True, api_client__isnull=True)


TEXT = {"max_length": 20000}


class LeadCreateInputSerializer(StrictInputSerializer):
    title = serializers.CharField(max_length=200)
    customer = VisibleIdField(customer_visible_to, required=False, allow_null=True)
    prospect_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    source = serializers.ChoiceField(choices=Lead.Source.choices)
    need = serializers.CharField(required=False, allow_blank=True, **TEXT)
    budget_known = serializers.BooleanField(required=False)
    estimated_amount = serializers.DecimalField(**MONEY, min_value=0, required=False)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)
    source_visit = VisibleIdField(visit_visible_to, required=False, allow_null=True)
    nurturer = VisibleIdField(_people, required=False, allow_null=True)
    next_review_on = serializers.DateField(required=False, allow_null=True)
    external_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    allow_duplicate = serializers.BooleanField(
        required=False,
        help_text="Create even when a similar open lead exists (otherwise 400 code duplicate).",
    )


class LeadQualifyInputSerializer(StrictInputSerializer):
    is_lead_answer = serializers.CharField(**TEXT)
    is_lead_score = serializers.IntegerField(min_value=0, max_value=10)
    how_far_answer = serializers.CharField(**TEXT)
    how_far_score = serializers.IntegerField(min_value=0, max_value=10)
    can_win_answer = serializers.CharField(**TEXT)
    can_win_score = serializers.IntegerField(min_value=0, max_value=10)


class LeadAssignNurturerInputSerializer(StrictInputSerializer):
    nurturer = VisibleIdField(_people)


class LeadReviewInputSerializer(StrictInputSerializer):
    decision = serializers.ChoiceField(choices=LeadReview.Decision.choices)
    reason = serializers.CharField(**TEXT)
    reassign_to = VisibleIdField(_people, required=False, allow_null=True)
    week = serializers.DateField(
        required=False, allow_null=True, help_text="Any day of the week (default: now)."
    )


class LeadConvertInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_null=True)
    amount = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)
    expected_sign_on = serializers.DateField(required=False, allow_null=True)


class ReasonInputSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=255)


class LeadReviewOutputSerializer(OutputSerializer):
    lead = LeadOutputSerializer(read_only=True)

    class Meta:
        model = LeadReview
        fields = ["id", "lead", "week", "decision", "reason", "decided_by", "reassigned_to", "created_at"]
        read_only_fields = fields


class OpportunityCreateInputSerializer(StrictInputSerializer):
    customer = VisibleIdField(customer_visible_to)
    name = serializers.CharField(max_length=200)
    amount = serializers.DecimalField(**MONEY, min_value=0, required=False)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)
    owner = VisibleIdField(_people, required=False, allow_null=True)
    expected_sign_on = serializers.DateField(required=False, allow_null=True)
    competitors = serializers.CharField(max_length=255, required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=64, required=False, allow_null=True)


class OpportunityUpdateInputSerializer(StrictInputSerializer):
    """Plain fields only: the stage moves through the action endpoints."""

    name = serializers.CharField(max_length=200)
    amount = serializers.DecimalField(**MONEY, min_value=0)
    expected_sign_on = serializers.DateField(allow_null=True)
    competitors = serializers.CharField(max_length=255, allow_blank=True)
    margin_pct = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=-100, max_value=100, allow_null=True
    )


class MoveStageInputSerializer(StrictInputSerializer):
    to_stage = serializers.ChoiceField(choices=Stage.choices)
    reason = serializers.CharField(required=False, allow_blank=True, **TEXT)


class ProbabilityInputSerializer(StrictInputSerializer):
    probability = serializers.IntegerField(
        min_value=0, max_value=100, allow_null=True, help_text="0–100; null: follow the stage again."
    )


class GateDecideInputSerializer(StrictInputSerializer):
    gate = serializers.ChoiceField(choices=GateDecision.Gate.choices)
    outcome = serializers.ChoiceField(choices=GateDecision.Outcome.choices)
    conditions = serializers.CharField(required=False, allow_blank=True, **TEXT)
    decided_on = serializers.DateField(required=False, allow_null=True)
    margin_pct = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=-100, max_value=100, required=False, allow_null=True
    )


class GateDecisionOutputSerializer(OutputSerializer):
    class Meta:
        model = GateDecision
        fields = [
            "id",
            "opportunity",
            "gate",
            "outcome",
            "decider",
            "decided_on",
            "conditions",
            "amount_at_decision",
            "margin_at_decision",
            "escalated_to",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TeamSetInputSerializer(StrictInputSerializer):
    user = VisibleIdField(_people)
    role = serializers.ChoiceField(choices=TriangleRole.choices)
    credit_share = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False, allow_null=True
    )


class TeamMemberOutputSerializer(OutputSerializer):
    class Meta:
        model = OpportunityTeamMember
        fields = ["id", "opportunity", "user", "role", "credit_share", "created_at", "updated_at"]
        read_only_fields = fields


class LineSetInputSerializer(StrictInputSerializer):
    product = VisibleIdField(product_visible_to)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    unit_price = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)
    discount_pct = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )


class LineOutputSerializer(OutputSerializer):
    class Meta:
        model = OpportunityLine
        fields = ["id", "opportunity", "product", "quantity", "unit_price", "discount_pct", "line_amount"]
        read_only_fields = fields


class SupportRequestCreateInputSerializer(StrictInputSerializer):
    expertise = serializers.ChoiceField(choices=SupportRequest.Expertise.choices)
    need = serializers.CharField(**TEXT)
    needed_by = serializers.DateField()


class SupportRequestOutputSerializer(OutputSerializer):
    class Meta:
        model = SupportRequest
        fields = [
            "id",
            "opportunity",
            "requested_by",
            "expertise",
            "need",
            "needed_by",
            "status",
            "expert",
            "assigned_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EmptyInputSerializer(StrictInputSerializer):
    """No body (or an empty object)."""
