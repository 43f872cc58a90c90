"""Back-office admin for contracts, payment milestones, changes, invoices and receipts.

Rows read through contracts.selectors. The running totals (invoiced, collected, paid) are kept by the
services that record money, so the admin shows them read-only.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import ScopedChoicesMixin, VisibleAdminMixin
from accounts.selectors import Scope, scope_for
from contracts.models import (
    Contract,
    ContractChange,
    ContractNumberSequence,
    Invoice,
    PaymentMilestone,
    Receipt,
)
from contracts.selectors import (
    contract_visible_to,
    invoice_visible_to,
    milestone_visible_to,
    receipt_visible_to,
)


class PaymentMilestoneInline(admin.TabularInline):
    model = PaymentMilestone
    extra = 0
    fields = ("sequence", "kind", "percent", "amount", "planned_on", "achieved_on", "invoiced_amount")
    readonly_fields = ("invoiced_amount",)


class ContractChangeInline(ScopedChoicesMixin, admin.TabularInline):
    model = ContractChange
    extra = 0
    fields = (
        "description",
        "new_amount",
        "new_signed_on",
        "requested_by",
        "status",
        "decider",
        "decided_at",
        "applied_at",
    )
    readonly_fields = ("decided_at", "applied_at")
    autocomplete_fields = ("requested_by", "decider")


@admin.register(Contract)
class ContractAdmin(VisibleAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "number",
        "title",
        "customer",
        "status",
        "amount",
        "currency",
        "invoiced_amount",
        "collected_amount",
        "signed_on",
        "payment_terms",
        "owner",
        "org_unit",
    )
    list_filter = ("status", "payment_terms", "currency")
    list_select_related = ("customer", "owner", "org_unit")
    search_fields = ("=number", "=external_id", "title", "customer__name")
    autocomplete_fields = ("opportunity", "customer", "owner", "org_unit")
    readonly_fields = (
        "invoiced_amount",
        "collected_amount",
        "confirmed_at",
        "closed_at",
        "created_at",
        "updated_at",
    )
    date_hierarchy = "signed_on"
    ordering = ("-signed_on", "-id")
    show_full_result_count = False
    inlines = (PaymentMilestoneInline, ContractChangeInline)

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return contract_visible_to(request.user, scope=scope)


@admin.register(PaymentMilestone)
class PaymentMilestoneAdmin(VisibleAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "contract",
        "sequence",
        "kind",
        "percent",
        "amount",
        "invoiced_amount",
        "planned_on",
        "achieved_on",
    )
    list_filter = ("kind",)
    list_select_related = ("contract",)
    search_fields = ("=contract__number", "contract__customer__name")
    autocomplete_fields = ("contract",)
    readonly_fields = ("invoiced_amount",)
    date_hierarchy = "planned_on"
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return milestone_visible_to(request.user, scope=scope)


@admin.register(ContractChange)
class ContractChangeAdmin(VisibleAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "contract",
        "status",
        "new_amount",
        "new_signed_on",
        "requested_by",
        "decider",
        "decided_at",
        "applied_at",
    )
    list_filter = ("status",)
    list_select_related = ("contract", "requested_by", "decider")
    search_fields = ("=contract__number", "description")
    autocomplete_fields = ("contract", "requested_by", "decider")
    readonly_fields = ("decided_at", "applied_at")
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        qs = ContractChange.objects.all()
        if scope.everything:
            return qs
        return qs.filter(contract_id__in=contract_visible_to(request.user, scope=scope).values("id"))


@admin.register(Invoice)
class InvoiceAdmin(VisibleAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "number",
        "contract",
        "milestone",
        "status",
        "amount",
        "paid_amount",
        "currency",
        "issued_on",
        "due_on",
    )
    list_filter = ("status", "currency")
    list_select_related = ("contract", "milestone", "milestone__contract")
    search_fields = ("=number", "=external_id", "=contract__number")
    autocomplete_fields = ("contract", "milestone")
    readonly_fields = ("paid_amount", "overdue_notified_on", "created_at", "updated_at")
    date_hierarchy = "issued_on"
    ordering = ("-issued_on", "-id")
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return invoice_visible_to(request.user, scope=scope)


@admin.register(Receipt)
class ReceiptAdmin(VisibleAdminMixin, SimpleHistoryAdmin):
    list_display = ("received_on", "amount", "currency", "contract", "invoice", "reference", "recorded_by")
    list_filter = ("currency",)
    list_select_related = ("contract", "invoice", "recorded_by")
    search_fields = ("=reference", "=external_id", "=contract__number", "=invoice__number")
    autocomplete_fields = ("contract", "invoice", "recorded_by")
    date_hierarchy = "received_on"
    ordering = ("-received_on", "-id")
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return receipt_visible_to(request.user, scope=scope)


@admin.register(ContractNumberSequence)
class ContractNumberSequenceAdmin(admin.ModelAdmin):
    """The numbering counter is advanced under a row lock by the contract services; administrators may look."""

    list_display = ("year", "last_value")
    ordering = ("-year",)

    def has_module_permission(self, request):
        return scope_for(request.user).everything

    def has_view_permission(self, request, obj=None):
        return scope_for(request.user).everything

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
