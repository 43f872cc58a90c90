"""REST representations of products, leads and opportunities."""

from __future__ import annotations

from rest_framework import serializers

from ltc.api.serializers import OutputSerializer
from pipeline.models import Lead, Opportunity, Product

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
