"""List filters of the products, leads and opportunities APIs."""

from __future__ import annotations

import django_filters

from ltc.api.filters import ApiFilterSet, OrgUnitSubtreeFilter, id_filter
from pipeline.models import Lead, Opportunity, Product, Stage


class ProductFilter(ApiFilterSet):
    external_id = django_filters.CharFilter()
    code = django_filters.CharFilter()
    product_line = django_filters.CharFilter()
    is_active = django_filters.BooleanFilter()
    list_price = django_filters.RangeFilter(help_text="list_price_min / list_price_max")

    class Meta:
        model = Product
        fields: list[str] = []


class LeadFilter(ApiFilterSet):
    external_id = django_filters.CharFilter()
    status = django_filters.MultipleChoiceFilter(choices=Lead.Status.choices)
    grade = django_filters.MultipleChoiceFilter(choices=Lead.Grade.choices)
    source = django_filters.MultipleChoiceFilter(choices=Lead.Source.choices)
    owner = id_filter("owner_id", "The finder's user id.")
    nurturer = id_filter("nurturer_id", "The nurturer's user id.")
    customer = id_filter("customer_id", "The customer's id.")
    org_unit = OrgUnitSubtreeFilter(field_name="org_unit")
    estimated_amount = django_filters.RangeFilter(help_text="estimated_amount_min / estimated_amount_max")
    created = django_filters.IsoDateTimeFromToRangeFilter(
        field_name="created_at", help_text="created_after / created_before"
    )

    class Meta:
        model = Lead
        fields: list[str] = []


class OpportunityFilter(ApiFilterSet):
    external_id = django_filters.CharFilter()
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices)
    owner = id_filter("owner_id", "The owner's user id.")
    customer = id_filter("customer_id", "The customer's id.")
    customer_tier = django_filters.CharFilter(field_name="customer__tier")
    org_unit = OrgUnitSubtreeFilter(field_name="org_unit")
    amount = django_filters.RangeFilter(help_text="amount_min / amount_max")
    expected_sign_on = django_filters.DateFromToRangeFilter(
        help_text="expected_sign_on_after / expected_sign_on_before"
    )
    closed = django_filters.IsoDateTimeFromToRangeFilter(
        field_name="closed_at", help_text="closed_after / closed_before"
    )

    class Meta:
        model = Opportunity
        fields: list[str] = []
