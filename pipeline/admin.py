"""Back-office admin for leads, opportunities, gates, support requests, products and the BOQ.

Leads, opportunities and gate decisions read through pipeline.selectors; the records that hang off a lead or
an opportunity are shown when their parent is visible.
"""

from __future__ import annotations

from django.contrib import admin
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
from accounts.selectors import Scope, users_below
from ltc.errors import ApplicationError
from pipeline.models import (
    OPEN_STAGES,
    GateDecision,
    Lead,
    LeadQualification,
    LeadReview,
    LeadReviewReminder,
    LeadTransition,
    Opportunity,
    OpportunityLine,
    OpportunityTeamMember,
    Product,
    Stage,
    StageTransition,
    SupportRequest,
)
from pipeline.selectors import gate_decision_visible_to, lead_visible_to, opportunity_visible_to
from pipeline.services.leads import lead_close, lead_convert
from pipeline.services.opportunities import (
    opportunity_abandon,
    opportunity_lose,
    opportunity_move_stage,
)


def under_visible_leads(qs: QuerySet, request: HttpRequest, scope: Scope) -> QuerySet:
    if scope.everything:
        return qs
    return qs.filter(lead_id__in=lead_visible_to(request.user, scope=scope).values("id"))


def under_visible_opportunities(qs: QuerySet, request: HttpRequest, scope: Scope) -> QuerySet:
    if scope.everything:
        return qs
    return qs.filter(opportunity_id__in=opportunity_visible_to(request.user, scope=scope).values("id"))


class ReadOnlyAdminMixin:
    """Audit trails are written by the services only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Inlines --------------------------------------------------------------------------------------------


class LeadQualificationInline(ScopedChoicesMixin, admin.StackedInline):
    model = LeadQualification
    extra = 0
    autocomplete_fields = ("qualified_by",)


class LeadReviewInline(ScopedChoicesMixin, admin.TabularInline):
    model = LeadReview
    extra = 0
    autocomplete_fields = ("decided_by", "reassigned_to")


class OpportunityTeamMemberInline(ScopedChoicesMixin, admin.TabularInline):
    model = OpportunityTeamMember
    extra = 0
    autocomplete_fields = ("user",)


class OpportunityLineInline(ScopedChoicesMixin, admin.TabularInline):
    model = OpportunityLine
    extra = 0
    autocomplete_fields = ("product",)


class GateDecisionInline(ScopedChoicesMixin, admin.TabularInline):
    model = GateDecision
    extra = 0
    fields = (
        "gate",
        "outcome",
        "decider",
        "decided_on",
        "amount_at_decision",
        "margin_at_decision",
        "conditions",
        "escalated_to",
    )
    autocomplete_fields = ("decider", "escalated_to")


# --- Catalogue ------------------------------------------------------------------------------------------


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "product_line", "series", "list_price", "currency", "is_active")
    list_filter = ("product_line", "is_active", "currency")
    search_fields = ("code", "name", "=external_id", "product_line", "series")
    ordering = ("code",)


# --- Leads ----------------------------------------------------------------------------------------------


@admin.register(Lead)
class LeadAdmin(VisibleAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "title",
        "customer",
        "prospect_name",
        "status",
        "grade",
        "source",
        "maturity",
        "estimated_amount",
        "owner",
        "nurturer",
        "org_unit",
        "next_review_on",
        "created_at",
    )
    list_filter = (
        "status",
        "grade",
        "source",
        "maturity",
        "budget_known",
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("customer", "owner", "nurturer", "org_unit")
    search_fields = ("title", "prospect_name", "=external_id", "customer__name")
    autocomplete_fields = ("customer", "source_visit", "owner", "nurturer", "org_unit", "merged_into")
    readonly_fields = ("converted_at", "closed_at", "created_at", "updated_at")
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    inlines = (LeadQualificationInline, LeadReviewInline)
    action_form = ReasonActionForm
    actions = ("convert_leads", "close_leads")

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return lead_visible_to(request.user, scope=scope)

    def get_readonly_fields(self, request, obj=None):
        # The status moves through the lead services (the actions below), never by editing the field.
        return (*super().get_readonly_fields(request, obj), "status", "close_reason")

    convert_leads = service_action(
        _("Convert to opportunity 转化为机会点"),
        _("Converted 已转化"),
        lambda request, lead: lead_convert(lead=lead, actor=request.user),
    )
    close_leads = service_action(
        _("Close lead (reason required) 关闭线索（须填原因）"),
        _("Closed 已关闭"),
        lambda request, lead: lead_close(lead=lead, actor=request.user, reason=action_reason(request)),
    )


@admin.register(LeadQualification)
class LeadQualificationAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = (
        "lead",
        "grade",
        "total_score",
        "is_lead_score",
        "how_far_score",
        "can_win_score",
        "qualified_by",
        "created_at",
    )
    list_filter = ("grade",)
    list_select_related = ("lead", "qualified_by")
    search_fields = ("lead__title",)
    autocomplete_fields = ("lead", "qualified_by")
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return under_visible_leads(LeadQualification.objects.all(), request, scope)


@admin.register(LeadReview)
class LeadReviewAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ("lead", "week", "decision", "decided_by", "reassigned_to")
    list_filter = ("decision", ("week", admin.DateFieldListFilter))
    list_select_related = ("lead", "decided_by", "reassigned_to")
    search_fields = ("lead__title", "reason")
    autocomplete_fields = ("lead", "decided_by", "reassigned_to")
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return under_visible_leads(LeadReview.objects.all(), request, scope)


@admin.register(LeadReviewReminder)
class LeadReviewReminderAdmin(VisibleAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "week", "lead_count", "sent_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__full_name")
    date_hierarchy = "week"
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        qs = LeadReviewReminder.objects.all()
        return qs if scope.everything else qs.filter(user_id__in=users_below(scope).values("id"))


@admin.register(LeadTransition)
class LeadTransitionAdmin(VisibleAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("lead", "from_status", "to_status", "actor", "created_at")
    list_filter = ("to_status", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("lead", "actor")
    search_fields = ("lead__title",)
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return under_visible_leads(LeadTransition.objects.all(), request, scope)


# --- Opportunities --------------------------------------------------------------------------------------


def _opportunity_advance(request: HttpRequest, opp: Opportunity) -> None:
    if opp.stage not in OPEN_STAGES:
        raise ApplicationError(
            _("Only an open opportunity can advance. 只有进行中的机会点才能推进。"),
            {"stage": [opp.get_stage_display()]},
        )
    # From NEGOTIATE the next stage is WON, which the service refuses as a stage move: winning opens the
    # contract, so it is the "win and open contract" action of the contracts admin.
    stages = (*OPEN_STAGES, Stage.WON)
    to_stage = stages[stages.index(opp.stage) + 1]
    opportunity_move_stage(
        opportunity=opp, actor=request.user, to_stage=to_stage, reason=action_reason(request)
    )


@admin.register(Opportunity)
class OpportunityAdmin(VisibleAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "name",
        "customer",
        "stage",
        "amount",
        "currency",
        "probability",
        "expected_sign_on",
        "owner",
        "org_unit",
        "updated_at",
    )
    list_filter = ("stage", "probability_overridden", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("customer", "owner", "org_unit")
    search_fields = ("name", "=external_id", "customer__name")
    autocomplete_fields = ("customer", "lead", "owner", "org_unit", "visits")
    readonly_fields = ("stage_changed_at", "closed_at", "created_at", "updated_at")
    ordering = ("-updated_at", "-id")
    show_full_result_count = False
    inlines = (OpportunityTeamMemberInline, OpportunityLineInline, GateDecisionInline)
    action_form = ReasonActionForm
    actions = ("advance_stage", "mark_lost", "abandon")

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return opportunity_visible_to(request.user, scope=scope)

    def get_readonly_fields(self, request, obj=None):
        # The stage moves through the stage services (the actions below), which check gates and record who.
        return (*super().get_readonly_fields(request, obj), "stage", "close_reason")

    advance_stage = service_action(
        _("Advance to next stage 推进到下一阶段"), _("Advanced 已推进"), _opportunity_advance
    )
    mark_lost = service_action(
        _("Mark lost (reason required) 丢单（须填原因）"),
        _("Marked lost 已丢单"),
        lambda request, opp: opportunity_lose(
            opportunity=opp, actor=request.user, reason=action_reason(request)
        ),
    )
    abandon = service_action(
        _("Abandon (reason required) 放弃（须填原因）"),
        _("Abandoned 已放弃"),
        lambda request, opp: opportunity_abandon(
            opportunity=opp, actor=request.user, reason=action_reason(request)
        ),
    )


@admin.register(OpportunityTeamMember)
class OpportunityTeamMemberAdmin(VisibleAdminMixin, SimpleHistoryAdmin):
    list_display = ("opportunity", "user", "role", "credit_share")
    list_filter = ("role",)
    list_select_related = ("opportunity", "user")
    search_fields = ("opportunity__name", "user__username", "user__full_name")
    autocomplete_fields = ("opportunity", "user")
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return under_visible_opportunities(OpportunityTeamMember.objects.all(), request, scope)


@admin.register(StageTransition)
class StageTransitionAdmin(VisibleAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("opportunity", "from_stage", "to_stage", "actor", "created_at")
    list_filter = ("to_stage", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("opportunity", "actor")
    search_fields = ("opportunity__name",)
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return under_visible_opportunities(StageTransition.objects.all(), request, scope)


@admin.register(GateDecision)
class GateDecisionAdmin(VisibleAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "opportunity",
        "gate",
        "outcome",
        "decider",
        "decided_on",
        "amount_at_decision",
        "escalated_to",
    )
    list_filter = ("gate", "outcome", ("decided_on", admin.DateFieldListFilter))
    list_select_related = ("opportunity", "decider", "escalated_to")
    search_fields = ("opportunity__name", "=opportunity__external_id")
    autocomplete_fields = ("opportunity", "decider", "escalated_to")
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return gate_decision_visible_to(request.user, scope=scope)


@admin.register(SupportRequest)
class SupportRequestAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = (
        "opportunity",
        "expertise",
        "status",
        "needed_by",
        "requested_by",
        "expert",
        "assigned_at",
    )
    list_filter = ("status", "expertise")
    list_select_related = ("opportunity", "requested_by", "expert")
    search_fields = ("opportunity__name", "need")
    autocomplete_fields = ("opportunity", "requested_by", "expert")
    date_hierarchy = "needed_by"
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return under_visible_opportunities(SupportRequest.objects.all(), request, scope)


@admin.register(OpportunityLine)
class OpportunityLineAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ("opportunity", "product", "quantity", "unit_price", "discount_pct", "line_amount")
    list_select_related = ("opportunity", "product")
    search_fields = ("opportunity__name", "product__code", "product__name")
    autocomplete_fields = ("opportunity", "product")
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return under_visible_opportunities(OpportunityLine.objects.all(), request, scope)
