"""List filters of the contracts, invoices and receipts APIs."""

from __future__ import annotations

import django_filters

from contracts.models import Contract, Invoice, Receipt
from ltc.api.filters import ApiFilterSet, OrgUnitSubtreeFilter, id_filter


class ContractFilter(ApiFilterSet):
    external_id = django_filters.CharFilter()
    number = django_filters.CharFilter()
    status = django_filters.MultipleChoiceFilter(choices=Contract.Status.choices)
    owner = id_filter("owner_id", "The owner's user id.")
    customer = id_filter("customer_id", "The customer's id.")
    customer_external_id = django_filters.CharFilter(field_name="customer__external_id")
    org_unit = OrgUnitSubtreeFilter(field_name="org_unit")
    amount = django_filters.RangeFilter(help_text="amount_min / amount_max")
    signed_on = django_filters.DateFromToRangeFilter(help_text="signed_on_after / signed_on_before")

    class Meta:
        model = Contract
        fields: list[str] = []


class InvoiceFilter(ApiFilterSet):
    external_id = django_filters.CharFilter()
    number = django_filters.CharFilter()
    status = django_filters.MultipleChoiceFilter(choices=Invoice.Status.choices)
    contract = id_filter("contract_id", "The contract's id.")
    contract_external_id = django_filters.CharFilter(field_name="contract__external_id")
    customer = id_filter("contract__customer_id", "The customer's id.")
    owner = id_filter("contract__owner_id", "The contract owner's user id.")
    org_unit = OrgUnitSubtreeFilter(field_name="contract__org_unit")
    amount = django_filters.RangeFilter(help_text="amount_min / amount_max")
    issued_on = django_filters.DateFromToRangeFilter(help_text="issued_on_after / issued_on_before")
    due_on = django_filters.DateFromToRangeFilter(help_text="due_on_after / due_on_before")

    class Meta:
        model = Invoice
        fields: list[str] = []


class ReceiptFilter(ApiFilterSet):
    external_id = django_filters.CharFilter()
    contract = id_filter("contract_id", "The contract's id.")
    invoice = id_filter("invoice_id", "The invoice's id.")
    customer = id_filter("contract__customer_id", "The customer's id.")
    owner = id_filter("contract__owner_id", "The contract owner's user id.")
    org_unit = OrgUnitSubtreeFilter(field_name="contract__org_unit")
    amount = django_filters.RangeFilter(help_text="amount_min / amount_max")
    received_on = django_filters.DateFromToRangeFilter(help_text="received_on_after / received_on_before")

    class Meta:
        model = Receipt
        fields: list[str] = []
