"""Back-office admin for customers, contacts, relationship work, visits and issues.

Every changelist reads through the visibility selectors of relationships.selectors; records that hang off a
customer (team, events, budgets) or a plan (action items) are shown when their parent is visible.
"""

from __future__ import annotations

from itertools import pairwise

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin
from simple_history.manager import SIMPLE_HISTORY_REVERSE_ATTR_NAME

from accounts.admin import ScopedChoicesMixin, VisibleAdminMixin
from accounts.selectors import Scope
from relationships.models import (
    Contact,
    Customer,
    CustomerBudget,
    CustomerBudgetLine,
    CustomerEvent,
    CustomerIssue,
    CustomerTeamMember,
    RelationshipActionItem,
    RelationshipAssessment,
    RelationshipPlan,
    Visit,
)
from relationships.selectors import (
    contact_visible_to,
    customer_issue_visible_to,
    customer_visible_to,
    private_notes_visible,
    relationship_assessment_visible_to,
    relationship_plan_visible_to,
    visit_visible_to,
)


def under_visible_customers(
    qs: QuerySet, request: HttpRequest, scope: Scope, field: str = "customer"
) -> QuerySet:
    """Rows of `qs` whose customer the user may see."""
    if scope.everything:
        return qs
    visible = customer_visible_to(request.user, scope=scope).values("id")
    return qs.filter(**{f"{field}_id__in": visible})


# --- Inlines --------------------------------------------------------------------------------------------


class ContactInline(ScopedChoicesMixin, admin.TabularInline):
    model = Contact
    extra = 0
    show_change_link = True
    # The private relationship card is edited on the contact's own page, where its visibility is checked.
    fields = (
        "name",
        "title",
        "department",
        "level",
        "decision_role",
        "stance",
        "intimacy",
        "support_level",
        "is_coach",
        "owner",
    )
    autocomplete_fields = ("owner",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # What private_notes_visible reads for each row.
        return super().get_queryset(request).select_related("customer__account_dept", "owner__org_unit")

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        user = request.user

        class ContactRowForm(formset.form):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, **kwargs)
                contact = self.instance
                if (
                    contact.pk is not None
                    and "owner" in self.fields
                    and not private_notes_visible(user, contact)
                ):
                    # Who may read the card follows the owner: those who may not read it may not move it
                    # (as in contact_update). A disabled field keeps its value whatever is posted.
                    self.fields["owner"].disabled = True

        formset.form = ContactRowForm
        return formset


class CustomerTeamMemberInline(ScopedChoicesMixin, admin.TabularInline):
    model = CustomerTeamMember
    extra = 0
    autocomplete_fields = ("user",)


class CustomerEventInline(admin.TabularInline):
    model = CustomerEvent
    extra = 0


class CustomerBudgetLineInline(admin.TabularInline):
    model = CustomerBudgetLine
    extra = 0


class RelationshipActionItemInline(ScopedChoicesMixin, admin.TabularInline):
    model = RelationshipActionItem
    extra = 0
    autocomplete_fields = ("owner",)


# --- Customers ------------------------------------------------------------------------------------------


@admin.register(Customer)
class CustomerAdmin(VisibleAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "name",
        "external_id",
        "tier",
        "status",
        "industry",
        "market_type",
        "account_dept",
        "owner",
        "annual_purchase",
        "archive_completeness",
        "updated_at",
    )
    list_filter = ("tier", "status", "industry", "market_type", "named_top_account", "repeat_purchase")
    list_select_related = ("account_dept", "owner")
    search_fields = ("name", "name_en", "=external_id", "=tax_id")
    autocomplete_fields = ("account_dept", "owner", "tier_overridden_by")
    readonly_fields = ("archive_completeness", "created_at", "updated_at")
    ordering = ("-updated_at", "-id")
    show_full_result_count = False
    inlines = (CustomerTeamMemberInline, ContactInline, CustomerEventInline)

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return customer_visible_to(request.user, scope=scope)


@admin.register(CustomerTeamMember)
class CustomerTeamMemberAdmin(VisibleAdminMixin, SimpleHistoryAdmin):
    list_display = ("customer", "user", "role", "created_at")
    list_filter = ("role",)
    list_select_related = ("customer", "user")
    search_fields = ("customer__name", "user__username", "user__full_name")
    autocomplete_fields = ("customer", "user")
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return under_visible_customers(CustomerTeamMember.objects.all(), request, scope)


@admin.register(CustomerEvent)
class CustomerEventAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ("title", "customer", "happens_on")
    list_select_related = ("customer",)
    search_fields = ("title", "customer__name")
    autocomplete_fields = ("customer",)
    date_hierarchy = "happens_on"
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return under_visible_customers(CustomerEvent.objects.all(), request, scope)


@admin.register(CustomerBudget)
class CustomerBudgetAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ("customer", "year", "total_amount", "currency", "obtained_on", "obtained_by")
    list_filter = ("year",)
    list_select_related = ("customer", "obtained_by")
    search_fields = ("customer__name", "=customer__external_id")
    autocomplete_fields = ("customer", "obtained_by")
    show_full_result_count = False
    inlines = (CustomerBudgetLineInline,)

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return under_visible_customers(CustomerBudget.objects.all(), request, scope)


@admin.register(CustomerBudgetLine)
class CustomerBudgetLineAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ("area", "amount", "budget")
    list_select_related = ("budget", "budget__customer")
    search_fields = ("area", "budget__customer__name")
    autocomplete_fields = ("budget",)
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return under_visible_customers(CustomerBudgetLine.objects.all(), request, scope, "budget__customer")


# --- Contacts and relationship work ---------------------------------------------------------------------


@admin.register(Contact)
class ContactAdmin(VisibleAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "name",
        "customer",
        "title",
        "department",
        "level",
        "decision_role",
        "stance",
        "intimacy",
        "support_level",
        "is_coach",
        "owner",
    )
    list_filter = ("level", "decision_role", "stance", "is_coach")
    list_select_related = ("customer", "owner")
    search_fields = ("name", "=external_id", "customer__name", "title", "department")
    autocomplete_fields = ("customer", "owner", "reports_to")
    readonly_fields = ("created_at", "updated_at")
    ordering = ("-updated_at", "-id")
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return contact_visible_to(request.user, scope=scope)

    def private_notes_shown(self, request: HttpRequest, contact: Contact) -> bool:
        """private_notes_visible on the contact as it is now: a history page passes an old version, whose
        owner then need not be its owner now."""
        if getattr(contact, SIMPLE_HISTORY_REVERSE_ATTR_NAME, None) is not None:
            current = Contact.objects.select_related("customer__account_dept", "owner__org_unit")
            contact = current.filter(pk=contact.pk).first() or contact
        return private_notes_visible(request.user, contact)

    def get_exclude(self, request, obj=None):
        # Peers may see the contact but never the private relationship card (DOMAIN.md §1).
        exclude = list(super().get_exclude(request, obj) or ())
        if obj is not None and not self.private_notes_shown(request, obj):
            exclude.append("private_notes")
        return exclude

    def get_readonly_fields(self, request, obj=None):
        # Who may read the card follows the owner (or, with no owner, the customer's department): those who
        # may not read it may not move the contact to themselves either (as in contact_update).
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not self.private_notes_shown(request, obj):
            readonly += ["owner", "customer"]
        return readonly

    def lookup_allowed(self, lookup, value, request=None):
        # Django allows a query-string filter on any plain field: ?private_notes__contains=… would tell a
        # peer, row by row, what the card says.
        if lookup.split("__")[0] == "private_notes":
            return False
        return super().lookup_allowed(lookup, value, request)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        records = list(historical_records)
        if not records or self.private_notes_shown(request, records[0].instance):
            super().set_history_delta_changes(request, historical_records, foreign_keys_are_objs)
            return
        # The history page lists what each version changed, old → new: here without the private card.
        for newer, older in pairwise(records):
            delta = newer.diff_against(
                older, excluded_fields=["private_notes"], foreign_keys_are_objs=foreign_keys_are_objs
            )
            helper = self.get_historical_record_context_helper(request, newer)
            newer.history_delta_changes = helper.context_for_delta_changes(delta)


@admin.register(RelationshipAssessment)
class RelationshipAssessmentAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = (
        "contact",
        "period",
        "layer",
        "assessor",
        "acceptance",
        "participation",
        "information_sharing",
        "guidance",
        "project_support",
        "competitor_attitude",
    )
    list_filter = ("layer",)
    list_select_related = ("contact", "contact__customer", "assessor")
    search_fields = ("contact__name", "contact__customer__name", "period")
    autocomplete_fields = ("contact", "assessor")
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return relationship_assessment_visible_to(request.user, scope=scope)


@admin.register(RelationshipPlan)
class RelationshipPlanAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ("customer", "layer", "period_start", "period_end", "owner")
    list_filter = ("layer",)
    list_select_related = ("customer", "owner")
    search_fields = ("customer__name", "objective")
    autocomplete_fields = ("customer", "owner")
    date_hierarchy = "period_start"
    show_full_result_count = False
    inlines = (RelationshipActionItemInline,)

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return relationship_plan_visible_to(request.user, scope=scope)


@admin.register(RelationshipActionItem)
class RelationshipActionItemAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ("title", "plan", "owner", "due_on", "done_on")
    list_select_related = ("plan", "plan__customer", "owner")
    search_fields = ("title", "plan__customer__name")
    autocomplete_fields = ("plan", "owner")
    date_hierarchy = "due_on"
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        qs = RelationshipActionItem.objects.all()
        if scope.everything:
            return qs
        return qs.filter(plan_id__in=relationship_plan_visible_to(request.user, scope=scope).values("id"))


# --- Visits and issues ----------------------------------------------------------------------------------


@admin.register(Visit)
class VisitAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ("visited_on", "visit_type", "customer", "rep", "org_unit", "purpose", "next_step_on")
    list_filter = ("visit_type", ("visited_on", admin.DateFieldListFilter))
    list_select_related = ("customer", "rep", "org_unit")
    search_fields = ("customer__name", "purpose", "=external_id")
    autocomplete_fields = ("customer", "rep", "org_unit", "contacts")
    ordering = ("-visited_on", "-id")
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return visit_visible_to(request.user, scope=scope)


@admin.register(CustomerIssue)
class CustomerIssueAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ("title", "customer", "status", "owner", "satisfaction", "created_at", "closed_at")
    list_filter = ("status", "satisfaction", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("customer", "owner")
    search_fields = ("title", "customer__name")
    autocomplete_fields = ("customer", "raised_by", "owner")
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        return customer_issue_visible_to(request.user, scope=scope)
