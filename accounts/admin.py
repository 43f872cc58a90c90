"""Back-office admin for people and the org tree, and the visibility mixin every record admin uses.

`VisibleAdminMixin` makes an admin read its rows through the app's visibility selector, so a staff user
sees in the admin exactly what the browser and the API show them (R1): the changelist, the change and
delete pages, search, autocomplete (which asks the target admin's `get_queryset`), the history pages and
the choices a foreign-key field accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import LoginFailure, OrgUnit, User
from accounts.selectors import scope_for
from accounts.services import _check_parent, org_unit_create, org_unit_move
from ltc.errors import ApplicationError


def _scoped_related_queryset(admin_obj: Any, request: HttpRequest, model: type) -> QuerySet | None:
    """The queryset the admin registered for `model` shows this user, if that admin is visibility-scoped."""
    related_admin = admin_obj.admin_site._registry.get(model)
    if isinstance(related_admin, VisibleAdminMixin):
        return related_admin.get_queryset(request)
    return None


class ScopedChoicesMixin:
    """Foreign keys and many-to-many fields accept only the records the user may see.

    For ModelAdmins and inlines alike: a raw id or a forged autocomplete value outside the user's scope is
    refused by form validation, like any unknown id.
    """

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = _scoped_related_queryset(self, request, db_field.remote_field.model)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = _scoped_related_queryset(self, request, db_field.remote_field.model)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class CappedCountPaginator(Paginator):
    """Counts at most `cap` rows (COUNT over a LIMIT subquery), so a changelist over millions of rows never
    runs a full-table COUNT; past the cap the page links stop there, and filters or search narrow the list."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.cap].count()


class VisibleAdminMixin(ScopedChoicesMixin):
    """Rows come from `visible_queryset(request, scope)`, which each admin defines with its visibility selector."""

    paginator = CappedCountPaginator
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = self.visible_queryset(request, scope_for(request.user))  # type: ignore[attr-defined]
        # The changelist applies list_select_related only to a queryset without select_related, and the
        # selectors already set some: add the admin's own joins here, or list_display would cost a query a row.
        if isinstance(self.list_select_related, list | tuple) and self.list_select_related:
            qs = qs.select_related(*self.list_select_related)
        ordering = self.get_ordering(request)
        if ordering:
            qs = qs.order_by(*ordering)
        return qs

    def _require_visible(self, request: HttpRequest, object_id: str) -> None:
        """simple_history's history pages fall back to the last historical copy of a row the queryset
        does not hold; refuse that for anyone who does not see everything."""
        if scope_for(request.user).everything:
            return
        pk = self.model._meta.pk.to_python(unquote(object_id))
        if not self.get_queryset(request).filter(pk=pk).exists():
            raise Http404

    def history_view(self, request, object_id, extra_context=None):
        self._require_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._require_visible(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


# --- Admin actions that go through the services ------------------------------------------------------


class ReasonActionForm(ActionForm):
    """The action bar with a reason box, for the transitions that need one (close, lose, abandon…)."""

    reason = forms.CharField(label=_("Reason 原因"), required=False, max_length=255)


def action_reason(request: HttpRequest) -> str:
    return (request.POST.get("reason") or "").strip()


def run_service_action(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    call: Callable[[Any], Any],
    done: str,
) -> int:
    """Call a service once per selected row (each in its own transaction). A refusal (ApplicationError,
    NotAllowed) becomes an error message naming the row; the others go on. Reports how many succeeded."""
    succeeded = 0
    for obj in queryset:
        try:
            call(obj)
        except ApplicationError as exc:
            details = "; ".join(str(message) for messages_ in exc.extra.values() for message in messages_)
            text = f"{obj}: {exc.message}" + (f" ({details})" if details else "")
            model_admin.message_user(request, text, level=messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        model_admin.message_user(
            request,
            gettext("%(done)s: %(count)d succeeded. 成功 %(count)d 条。")
            % {"count": succeeded, "done": done},
            level=messages.SUCCESS,
        )
    return succeeded


def service_action(description: str, done: str, call: Callable[[HttpRequest, Any], Any]) -> Callable:
    """An admin action, for those with the change permission, that calls `call(request, row)` (a service) for
    each selected row through `run_service_action`; `done` says what succeeded ("Closed 已关闭")."""

    @admin.action(description=description, permissions=["change"])
    def action(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        run_service_action(model_admin, request, queryset, partial(call, request), str(done))

    return action


# --- Org tree ---------------------------------------------------------------------------------------


class OrgUnitAdminForm(forms.ModelForm):
    """Checks the parent's level the way accounts.services does, so a wrong parent is a form error."""

    class Meta:
        model = OrgUnit
        fields = (
            "code",
            "name",
            "name_en",
            "kind",
            "parent",
            "manager",
            "market_type",
            "is_active",
            "external_id",
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        kind = cleaned.get("kind") or self.instance.kind
        parent = cleaned.get("parent")
        if not kind:
            return cleaned
        try:
            _check_parent(kind, parent)
        except ApplicationError as exc:
            raise ValidationError({"parent": str(exc.message)}) from exc
        if (
            self.instance.pk
            and parent is not None
            and self.instance.path
            and parent.path.startswith(self.instance.path)
        ):
            raise ValidationError({"parent": _("A unit cannot move under itself. 组织不能移到自身之下。")})
        return cleaned


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    form = OrgUnitAdminForm
    list_display = (
        "code",
        "name",
        "name_en",
        "kind",
        "parent",
        "depth",
        "manager",
        "market_type",
        "is_active",
    )
    list_filter = ("kind", "market_type", "is_active")
    list_select_related = ("parent", "manager")
    search_fields = ("code", "name", "name_en", "external_id")
    autocomplete_fields = ("parent", "manager")
    readonly_fields = ("path", "depth", "created_at", "updated_at")
    ordering = ("path",)
    fields = (
        "code",
        "name",
        "name_en",
        "kind",
        "parent",
        "manager",
        "market_type",
        "is_active",
        "external_id",
        "path",
        "depth",
        "created_at",
        "updated_at",
    )

    def get_readonly_fields(self, request, obj=None):
        # A unit's level follows from its place in the tree: change it by moving, not by editing.
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, "kind") if obj is not None else readonly

    def save_model(self, request, obj: OrgUnit, form, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            unit = org_unit_create(
                code=data["code"],
                name=data["name"],
                kind=data["kind"],
                parent=data.get("parent"),
                name_en=data.get("name_en", ""),
                external_id=data.get("external_id") or None,
                market_type=data.get("market_type") or OrgUnit._meta.get_field("market_type").default,
                manager=data.get("manager"),
            )
            if data.get("is_active") is False:
                unit.is_active = False
                unit.save(update_fields=["is_active", "updated_at"])
            obj.pk, obj.path, obj.depth = unit.pk, unit.path, unit.depth
            obj.created_at, obj.updated_at = unit.created_at, unit.updated_at
            obj._state.adding, obj._state.db = False, unit._state.db
            return
        other_fields = [name for name in form.changed_data if name != "parent"]
        if "parent" in form.changed_data and obj.parent is not None:
            moved = org_unit_move(unit=obj, new_parent=obj.parent)
            obj.path, obj.depth = moved.path, moved.depth
        if other_fields:
            obj.save(update_fields=[*other_fields, "updated_at"])


# --- People -------------------------------------------------------------------------------------------

LTC_USER_FIELDS = (
    "full_name",
    "external_id",
    "phone",
    "org_unit",
    "manager",
    "job_role",
    "preferred_language",
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Organisation 组织"), {"fields": LTC_USER_FIELDS}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Organisation 组织"), {"fields": ("full_name", "org_unit", "manager", "job_role")}),
    )
    list_display = ("username", "full_name", "email", "org_unit", "job_role", "is_staff", "is_active")
    list_filter = (
        "job_role",
        "is_staff",
        "is_superuser",
        "is_active",
        "preferred_language",
        "org_unit__kind",
    )
    list_select_related = ("org_unit",)
    search_fields = ("username", "full_name", "email", "external_id", "phone")
    autocomplete_fields = ("org_unit", "manager")
    readonly_fields = ("last_login", "date_joined", "updated_at")
    show_full_result_count = False


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """The lock-out log: read-only, for admins only."""

    list_display = ("username", "ip_address", "failed_at")
    paginator = CappedCountPaginator
    list_filter = (("failed_at", admin.DateFieldListFilter),)
    search_fields = ("username", "ip_address")
    show_full_result_count = False

    def has_module_permission(self, request):
        return scope_for(request.user).everything

    def has_view_permission(self, request, obj=None):
        return scope_for(request.user).everything

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return scope_for(request.user).everything
