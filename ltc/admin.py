"""Back-office admin for KPI targets, the funnel rollup (read-only: the rollup job owns it), API clients and the
API's audit tables (administrators only)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.admin import CappedCountPaginator, VisibleAdminMixin
from accounts.selectors import Scope, scope_for, users_below
from ltc.api.scopes import unknown_scopes
from ltc.api.services import api_client_create, api_client_rotate_key, api_client_set_active
from ltc.errors import ApplicationError
from ltc.models import (
    ApiClient,
    BulkUpsertAudit,
    FunnelRollup,
    IdempotencyRecord,
    KpiTarget,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEvent,
    WebhookEventType,
    WebhookSubscription,
)
from ltc.webhooks.services import subscription_create, subscription_set_active, webhook_delivery_replay
from relationships.selectors import customer_visible_to


@admin.register(KpiTarget)
class KpiTargetAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = (
        "metric",
        "period_start",
        "period_end",
        "org_unit",
        "user",
        "customer",
        "target_amount",
        "currency",
    )
    list_filter = ("metric", "currency")
    list_select_related = ("org_unit", "user", "customer")
    search_fields = ("org_unit__name", "user__username", "user__full_name", "customer__name")
    autocomplete_fields = ("org_unit", "user", "customer")
    date_hierarchy = "period_start"
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        qs = KpiTarget.objects.all()
        if scope.everything:
            return qs
        # A target is visible when its subject is: a unit in the user's subtrees, a person at or below the
        # user, or a customer the user sees.
        return qs.filter(
            scope.units_q("org_unit")
            | Q(user_id__in=users_below(scope).values("id"))
            | Q(customer_id__in=customer_visible_to(request.user, scope=scope).values("id"))
        )


@admin.register(FunnelRollup)
class FunnelRollupAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ("month", "org_unit", "owner", "customer_tier", "stage", "count", "amount", "refreshed_at")
    list_filter = ("stage", "customer_tier")
    list_select_related = ("org_unit", "owner")
    date_hierarchy = "month"
    show_full_result_count = False

    def visible_queryset(self, request: HttpRequest, scope: Scope) -> QuerySet:
        qs = FunnelRollup.objects.all()
        if scope.everything:
            return qs
        query = scope.units_q("org_unit")
        if scope.user_id is not None:
            query |= Q(owner_id=scope.user_id)
        return qs.filter(query)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- API clients and the API's audit tables: administrators only --------------------------------------


class AdministratorsOnlyMixin:
    def _is_administrator(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and scope_for(request.user).everything

    def has_module_permission(self, request):
        return self._is_administrator(request)

    def has_view_permission(self, request, obj=None):
        return self._is_administrator(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ApiClientAddForm(forms.ModelForm):
    class Meta:
        model = ApiClient
        fields = ("name", "scopes", "org_unit")

    def clean_scopes(self) -> list[str]:
        scopes = self.cleaned_data.get("scopes") or []
        if not isinstance(scopes, list) or not all(isinstance(item, str) for item in scopes):
            raise ValidationError(_('A JSON list of scopes, e.g. ["customers:read"]. 权限范围列表。'))
        unknown = unknown_scopes(scopes)
        if unknown:
            raise ValidationError(_("Unknown scopes: %(s)s. 未知权限范围。") % {"s": ", ".join(unknown)})
        return scopes


@admin.register(ApiClient)
class ApiClientAdmin(AdministratorsOnlyMixin, admin.ModelAdmin):
    """Clients are created through api_client_create: the token is shown once, in the confirmation message."""

    list_display = ("name", "key_prefix", "org_unit", "is_active", "last_used_at", "created_at", "created_by")
    list_filter = ("is_active",)
    list_select_related = ("org_unit", "created_by")
    search_fields = ("name", "=key_prefix")
    autocomplete_fields = ("org_unit",)
    readonly_fields = (
        "name",
        "key_prefix",
        "scopes",
        "org_unit",
        "acting_user",
        "is_active",
        "created_by",
        "last_used_at",
        "created_at",
        "updated_at",
    )
    actions = ("deactivate_clients", "activate_clients", "rotate_keys")

    def has_add_permission(self, request):
        return self._is_administrator(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiClientAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        return ("name", "scopes", "org_unit") if obj is None else self.readonly_fields

    def save_model(self, request, obj: ApiClient, form, change: bool) -> None:
        data = form.cleaned_data
        client, raw = api_client_create(
            name=data["name"], scopes=data["scopes"], org_unit=data.get("org_unit"), acting_user=request.user
        )
        obj.pk, obj.key_prefix, obj.acting_user = client.pk, client.key_prefix, client.acting_user
        obj._state.adding, obj._state.db = False, client._state.db
        self.message_user(
            request,
            gettext("Token (shown once, copy it now) 令牌仅显示一次，请立即复制: %(token)s") % {"token": raw},
            level=messages.WARNING,
        )

    def _each(self, request, queryset, apply, done_message: str) -> None:
        done = 0
        for client in queryset:
            try:
                apply(client)
            except ApplicationError as exc:
                self.message_user(request, f"{client}: {exc.message}", level=messages.ERROR)
            else:
                done += 1
        self.message_user(request, done_message % {"n": done}, level=messages.SUCCESS)

    @admin.action(description=_("Deactivate 停用"))
    def deactivate_clients(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda c: api_client_set_active(client=c, is_active=False),
            gettext("%(n)d client(s) deactivated. 已停用 %(n)d 个客户端。"),
        )

    @admin.action(description=_("Activate 启用"))
    def activate_clients(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda c: api_client_set_active(client=c, is_active=True),
            gettext("%(n)d client(s) activated. 已启用 %(n)d 个客户端。"),
        )

    @admin.action(description=_("Rotate key 更换密钥"))
    def rotate_keys(self, request, queryset):
        def rotate(client: ApiClient) -> None:
            rotated, raw = api_client_rotate_key(client=client)
            self.message_user(
                request,
                gettext("%(client)s new token (shown once) 新令牌仅显示一次: %(token)s")
                % {"client": rotated, "token": raw},
                level=messages.WARNING,
            )

        self._each(request, queryset, rotate, gettext("%(n)d key(s) rotated. 已更换 %(n)d 个密钥。"))


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(AdministratorsOnlyMixin, admin.ModelAdmin):
    list_display = ("principal", "key", "method", "path", "status_code", "created_at")
    paginator = CappedCountPaginator
    list_filter = (("created_at", admin.DateFieldListFilter),)
    search_fields = ("=principal", "=key")
    show_full_result_count = False

    def has_delete_permission(self, request, obj=None):
        return self._is_administrator(request)  # old keys may be purged


@admin.register(BulkUpsertAudit)
class BulkUpsertAuditAdmin(AdministratorsOnlyMixin, admin.ModelAdmin):
    list_display = ("resource", "at", "actor", "api_client", "rows", "created", "updated", "unchanged")
    list_filter = ("resource",)
    list_select_related = ("actor", "api_client")
    date_hierarchy = "at"
    show_full_result_count = False


# --- Webhooks: subscriptions, the outbox and the delivery log (administrators only) ---------------------


class WebhookSubscriptionAddForm(forms.ModelForm):
    target_url = forms.URLField(label=_("target URL 目标地址"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("event types 事件类型"),
        choices=[(WebhookSubscription.ALL_EVENTS, _("Every event 全部事件")), *WebhookEventType.choices],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookSubscription
        fields = ("name", "target_url", "event_types", "api_client", "org_unit")


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(AdministratorsOnlyMixin, admin.ModelAdmin):
    """Created through subscription_create: the signing secret is shown once, in the confirmation message."""

    list_display = ("name", "target_url", "event_types", "is_active", "api_client", "org_unit", "created_at")
    list_filter = ("is_active",)
    list_select_related = ("api_client", "org_unit")
    search_fields = ("name", "target_url")
    autocomplete_fields = ("org_unit",)
    readonly_fields = (
        "name",
        "target_url",
        "event_types",
        "is_active",
        "api_client",
        "org_unit",
        "created_by",
        "created_at",
        "updated_at",
    )
    actions = ("deactivate_subscriptions", "activate_subscriptions")

    def has_add_permission(self, request):
        return self._is_administrator(request)

    def has_delete_permission(self, request, obj=None):
        return self._is_administrator(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = WebhookSubscriptionAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        return (
            ("name", "target_url", "event_types", "api_client", "org_unit")
            if obj is None
            else self.readonly_fields
        )

    def save_model(self, request, obj: WebhookSubscription, form, change: bool) -> None:
        data = form.cleaned_data
        try:
            subscription, secret = subscription_create(
                name=data["name"],
                target_url=data["target_url"],
                event_types=list(data["event_types"]),
                api_client=data.get("api_client"),
                org_unit=data.get("org_unit"),
                actor=request.user,
            )
        except ApplicationError as exc:
            # The form was valid; a service rule (e.g. the client's read scopes) refused it.
            raise ValidationError(f"{exc.message} {exc.extra}") from exc
        obj.pk, obj.secret, obj.created_at = subscription.pk, "", subscription.created_at
        obj._state.adding, obj._state.db = False, subscription._state.db
        self.message_user(
            request,
            gettext("Signing secret (shown once, copy it now) 签名密钥仅显示一次，请立即复制: %(secret)s")
            % {"secret": secret},
            level=messages.WARNING,
        )

    def _set_active(self, request, queryset, is_active: bool, done_message: str) -> None:
        done = 0
        for subscription in queryset:
            subscription_set_active(subscription=subscription, is_active=is_active)
            done += 1
        self.message_user(request, done_message % {"n": done}, level=messages.SUCCESS)

    @admin.action(description=_("Deactivate 停用"))
    def deactivate_subscriptions(self, request, queryset):
        self._set_active(
            request, queryset, False, gettext("%(n)d subscription(s) deactivated. 已停用 %(n)d 个订阅。")
        )

    @admin.action(description=_("Activate 启用"))
    def activate_subscriptions(self, request, queryset):
        self._set_active(
            request, queryset, True, gettext("%(n)d subscription(s) activated. 已启用 %(n)d 个订阅。")
        )


@admin.register(WebhookEvent)
class WebhookEventAdmin(AdministratorsOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "event_type", "obj_type", "obj_id", "actor", "created_at", "fanned_out_at")
    list_filter = ("event_type", "obj_type")
    list_select_related = ("actor",)
    search_fields = ("=id", "=obj_id")
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = ("event_type", "obj_type", "obj_id", "payload", "actor", "created_at", "fanned_out_at")


class WebhookDeliveryAttemptInline(admin.TabularInline):
    model = WebhookDeliveryAttempt
    extra = 0
    can_delete = False
    fields = (
        "number",
        "trigger",
        "requested_by",
        "started_at",
        "duration_ms",
        "status_code",
        "succeeded",
        "error",
        "response_body",
    )
    readonly_fields = fields
    ordering = ("number",)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff and scope_for(request.user).everything

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AdministratorsOnlyMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "event_type",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    )
    list_filter = ("status", "event__event_type", "subscription")
    list_select_related = ("event", "subscription")
    search_fields = ("=id", "=event__id", "subscription__name", "last_error")
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = (
        "event",
        "subscription",
        "status",
        "attempts",
        "failures",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
        "updated_at",
    )
    inlines = (WebhookDeliveryAttemptInline,)
    actions = ("replay_deliveries",)

    @admin.display(description=_("event 事件"), ordering="event__event_type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.event_type

    @admin.action(description=_("Replay delivery 重新投递"))
    def replay_deliveries(self, request, queryset):
        done = 0
        for delivery in queryset:
            try:
                webhook_delivery_replay(delivery=delivery, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{delivery}: {exc.message}", level=messages.ERROR)
            else:
                done += 1
        self.message_user(
            request,
            gettext("%(n)d delivery(ies) queued again. 已重新排队投递 %(n)d 条。") % {"n": done},
            level=messages.SUCCESS,
        )


@admin.register(WebhookDeliveryAttempt)
class WebhookDeliveryAttemptAdmin(AdministratorsOnlyMixin, admin.ModelAdmin):
    list_display = ("delivery", "number", "trigger", "started_at", "duration_ms", "status_code", "succeeded")
    list_filter = ("trigger", "succeeded")
    raw_id_fields = ("delivery", "requested_by")
    date_hierarchy = "started_at"
    show_full_result_count = False
