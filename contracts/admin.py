"""Back-office admin for contracts, payment milestones, changes, invoices and receipts.

Rows read through contracts.selectors. The running totals (invoiced, collected, paid) are kept by the
services that record money, so the admin shows them read-only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import (
    ReasonActionForm,
    ScopedChoicesMixin,
    VisibleAdminMixin,
    action_reason,
    service_action,
)
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
from contracts.services import contract_close, contract_confirm, invoice_cancel, opportunity_win
from pipeline.admin import OpportunityAdmin
from pipeline.models import Opportunity


class ContractActionForm(ActionForm):
    """The action bar of contracts: closing needs an evaluation and a 1–5 score."""

    evaluation = forms.CharField(label=_("Evaluation 评价"), required=False, max_length=500)
    evaluation_score = forms.CharField(label=_("Score 1–5 评分"), required=False, max_length=1)


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


def _contract_close(request: HttpRequest, contract: Contract) -> Contract:
    raw_score = (request.POST.get("evaluation_score") or "").strip()
    score = int(raw_score) if raw_score.isdigit() else 0  # the service refuses anything but 1–5
    evaluation = (request.POST.get("evaluation") or "").strip()
    return contract_close(
        contract=contract, actor=request.user, evaluation=evaluation, evaluation_score=score
    )


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
    list_filter = ("status", "payment_terms", ("signed_on", admin.DateFieldListFilter))
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
    ordering = ("-signed_on", "-id")
    show_full_result_count = False
    inlines = (PaymentMilestoneInline, ContractChangeInline)
    action_form = ContractActionForm
    actions = ("confirm_contracts", "close_contracts")

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return contract_visible_to(request.user, scope=scope)

    def get_readonly_fields(self, request, obj=None):
        # The status moves through the contract services (the actions below).
        return (*super().get_readonly_fields(request, obj), "status", "evaluation", "evaluation_score")

    confirm_contracts = service_action(
        _("Confirm contract 确认合同"),
        _("Confirmed 已确认"),
        lambda request, contract: contract_confirm(contract=contract, actor=request.user),
    )
    close_contracts = service_action(_("Close and evaluate 关闭并评价"), _("Closed 已关闭"), _contract_close)


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
    list_filter = ("kind", ("planned_on", admin.DateFieldListFilter))
    list_select_related = ("contract",)
    search_fields = ("=contract__number", "contract__customer__name")
    autocomplete_fields = ("contract",)
    readonly_fields = ("invoiced_amount",)
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
    list_filter = ("status", ("issued_on", admin.DateFieldListFilter))
    list_select_related = ("contract", "milestone", "milestone__contract")
    search_fields = ("=number", "=external_id", "=contract__number")
    autocomplete_fields = ("contract", "milestone")
    readonly_fields = ("paid_amount", "overdue_notified_on", "created_at", "updated_at")
    ordering = ("-issued_on", "-id")
    show_full_result_count = False
    action_form = ReasonActionForm
    actions = ("cancel_invoices",)

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return invoice_visible_to(request.user, scope=scope)

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "status")

    cancel_invoices = service_action(
        _("Cancel unpaid invoice 作废未回款发票"),
        _("Cancelled 已作废"),
        lambda request, invoice: invoice_cancel(
            invoice=invoice, actor=request.user, reason=action_reason(request)
        ),
    )


@admin.register(Receipt)
class ReceiptAdmin(VisibleAdminMixin, SimpleHistoryAdmin):
    list_display = ("received_on", "amount", "currency", "contract", "invoice", "reference", "recorded_by")
    list_filter = (("received_on", admin.DateFieldListFilter),)
    list_select_related = ("contract", "invoice", "recorded_by")
    search_fields = ("=reference", "=external_id", "=contract__number", "=invoice__number")
    autocomplete_fields = ("contract", "invoice", "recorded_by")
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


# --- Winning opens the contract: the contracts layer adds that action to the opportunity admin ------------


class OpportunityWinAdmin(OpportunityAdmin):
    actions = (*OpportunityAdmin.actions, "win_and_open_contract")

    win_and_open_contract = service_action(
        _("Win and open contract 赢单并生成合同"),
        _("Won, contract opened 已赢单并生成合同"),
        lambda request, opp: opportunity_win(
            opportunity=opp, actor=request.user, reason=action_reason(request)
        ),
    )


admin.site.unregister(Opportunity)
admin.site.register(Opportunity, OpportunityWinAdmin)
