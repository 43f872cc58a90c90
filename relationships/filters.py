"""List filters of the customers, contacts and visits APIs."""

from __future__ import annotations

import django_filters

from accounts.models import MarketType
from ltc.api.filters import ApiFilterSet, OrgUnitSubtreeFilter, id_filter
from relationships.models import Contact, Customer, Industry, Visit


class CustomerFilter(ApiFilterSet):
    external_id = django_filters.CharFilter()
    status = django_filters.MultipleChoiceFilter(choices=Customer.Status.choices)
    tier = django_filters.MultipleChoiceFilter(choices=Customer.Tier.choices)
    industry = django_filters.MultipleChoiceFilter(choices=Industry.choices)
    market_type = django_filters.MultipleChoiceFilter(choices=MarketType.choices)
    owner = id_filter("owner_id", "The AR's user id.")
    org_unit = OrgUnitSubtreeFilter(field_name="account_dept")
    annual_purchase = django_filters.RangeFilter(help_text="annual_purchase_min / annual_purchase_max")
    name = django_filters.CharFilter(lookup_expr="icontains", help_text="Part of the name.")

    class Meta:
        model = Customer
        fields: list[str] = []


class ContactFilter(ApiFilterSet):
    external_id = django_filters.CharFilter()
    customer = id_filter("customer_id", "The customer's id.")
    customer_external_id = django_filters.CharFilter(field_name="customer__external_id")
    owner = id_filter("owner_id", "The owner's user id.")
    org_unit = OrgUnitSubtreeFilter(field_name="customer__account_dept")
    level = django_filters.MultipleChoiceFilter(choices=Contact.Level.choices)
    decision_role = django_filters.MultipleChoiceFilter(choices=Contact.DecisionRole.choices)
    stance = django_filters.MultipleChoiceFilter(choices=Contact.Stance.choices)

    class Meta:
        model = Contact
        fields: list[str] = []


class VisitFilter(ApiFilterSet):
    external_id = django_filters.CharFilter()
    customer = id_filter("customer_id", "The customer's id.")
    rep = id_filter("rep_id", "The rep's user id.")
    org_unit = OrgUnitSubtreeFilter(field_name="org_unit")
    visit_type = django_filters.MultipleChoiceFilter(choices=Visit.Type.choices)
    visited_on = django_filters.DateFromToRangeFilter(help_text="visited_on_after / visited_on_before")

    class Meta:
        model = Visit
        fields: list[str] = []
