"""Shared base model and the cross-stage tables: KPI targets and funnel rollups."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def choices_check(name: str, field: str, choices: type[models.TextChoices]) -> models.CheckConstraint:
    """A database check that `field` holds one of `choices` (blank allowed only if a choice is blank)."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)


def money_field(verbose: str, **kwargs) -> models.DecimalField:
    kwargs.setdefault("default", 0)
    return models.DecimalField(verbose, max_digits=18, decimal_places=2, **kwargs)


def currency_field() -> models.CharField:
    return models.CharField(_("currency 币种"), max_length=3, default="CNY")


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at 创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at 更新时间"), auto_now=True)

    class Meta:
        abstract = True


class KpiTargetMetric(models.TextChoices):
    ORDERS = "ORDERS", _("Orders 订货")
    REVENUE = "REVENUE", _("Revenue 收入")
    COLLECTIONS = "COLLECTIONS", _("Collections 回款")
    PROFIT = "PROFIT", _("Profit 利润")
    VISITS = "VISITS", _("Customer visits 客户拜访")


class KpiTarget(TimeStampedModel):
    """A target for one metric and period, set for an org unit, a person or a customer (目标分解到客户)."""

    Metric = KpiTargetMetric

    metric = models.CharField(_("metric 指标"), max_length=16, choices=Metric.choices)
    period_start = models.DateField(_("period start 期间开始"))
    period_end = models.DateField(_("period end 期间结束"))
    org_unit = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("org unit 组织"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="kpi_targets",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person 人员"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="kpi_targets",
    )
    customer = models.ForeignKey(
        "relationships.Customer",
        verbose_name=_("customer 客户"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="kpi_targets",
    )
    target_amount = money_field(_("target 目标值"))
    currency = currency_field()

    class Meta:
        verbose_name = _("KPI target 绩效目标")
        verbose_name_plural = _("KPI targets 绩效目标")
        constraints = [
            choices_check("kpitarget_metric_valid", "metric", KpiTargetMetric),
            models.CheckConstraint(condition=models.Q(target_amount__gte=0), name="kpitarget_amount_nonneg"),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="kpitarget_period_order"
            ),
            # One target per subject, metric and period (the subject is exactly one of the three).
            models.CheckConstraint(
                condition=(
                    models.Q(org_unit__isnull=False, user__isnull=True, customer__isnull=True)
                    | models.Q(org_unit__isnull=True, user__isnull=False, customer__isnull=True)
                    | models.Q(org_unit__isnull=True, user__isnull=True, customer__isnull=False)
                ),
                name="kpitarget_one_subject",
            ),
            models.UniqueConstraint(
                fields=["metric", "period_start", "period_end", "org_unit"],
                condition=models.Q(org_unit__isnull=False),
                name="kpitarget_unique_unit_period",
            ),
            models.UniqueConstraint(
                fields=["metric", "period_start", "period_end", "user"],
                condition=models.Q(user__isnull=False),
                name="kpitarget_unique_user_period",
            ),
            models.UniqueConstraint(
                fields=["metric", "period_start", "period_end", "customer"],
                condition=models.Q(customer__isnull=False),
                name="kpitarget_unique_customer_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.period_start}–{self.period_end}: {self.target_amount}"


class FunnelRollup(models.Model):
    """Pre-aggregated funnel figures per month, org unit, owner, customer tier and stage.

    Recomputed and upserted by the rollup job (never incremented), so running it twice gives the same rows.
    """

    month = models.DateField(_("month 月份"))
    org_unit = models.ForeignKey("accounts.OrgUnit", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    customer_tier = models.CharField(max_length=1)
    stage = models.CharField(max_length=24)
    count = models.IntegerField(default=0)
    amount = money_field(_("amount 金额"))
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("funnel rollup 漏斗汇总")
        verbose_name_plural = _("funnel rollups 漏斗汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "org_unit", "owner", "customer_tier", "stage"],
                name="funnelrollup_unique_cell",
            ),
        ]
        indexes = [models.Index(fields=["org_unit", "month"], name="funnelrollup_unit_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.stage} {self.count}"


class ApiClient(TimeStampedModel):
    """An integration (ERP, HR system, BI tool) that calls the REST API with a secret token.

    Only a SHA-256 hash of the token is stored, with a short public prefix to find the row; the full token is
    shown once, at creation (`ltc.api.services.api_client_create`). The client acts through its own service
    user (`acting_user`): that user is what services record as the actor, and the client's org-unit scope is
    what the visibility selectors see (see ltc/api/authentication.py).
    """

    name = models.CharField(_("name 名称"), max_length=128)
    key_prefix = models.CharField(_("key prefix 密钥前缀"), max_length=16, editable=False)
    key_hash = models.CharField(_("key hash 密钥摘要"), max_length=64, editable=False)
    # Per resource and action: "customers:read", "customers:write", "*:read", or "admin" (everything).
    scopes = models.JSONField(_("scopes 权限范围"), default=list, blank=True)
    org_unit = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("org unit scope 组织范围"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_clients",
        help_text=_("Records it may see; empty = the whole company. 可见范围；为空表示全公司。"),
    )
    acting_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acting user 代理用户"),
        on_delete=models.PROTECT,
        related_name="api_client",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(_("active 有效"), default=True)
    last_used_at = models.DateTimeField(_("last used at 最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("API client API 客户端")
        verbose_name_plural = _("API clients API 客户端")
        constraints = [models.UniqueConstraint(fields=["key_prefix"], name="apiclient_key_prefix_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix})"


class IdempotencyRecord(models.Model):
    """The stored first response to a POST carrying an `Idempotency-Key` (see ltc/api/idempotency.py).

    `principal` is "client:<id>" or "user:<id>"; the unique (principal, key) row is inserted in the same
    transaction as the work it guards, so a concurrent duplicate waits on the index and then replays.
    """

    principal = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    status_code = models.PositiveSmallIntegerField(default=0)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency record 幂等记录")
        verbose_name_plural = _("idempotency records 幂等记录")
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_unique_principal_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.principal} {self.key} → {self.status_code}"


class BulkUpsertAudit(models.Model):
    """One audit record per bulk upsert request: who, when, which resource, the counts and the keys touched.

    Bulk rows bypass the per-row simple_history trail (a history row per record would cost per-row work);
    this record, written in the same transaction, names every external id created or updated.
    """

    resource = models.CharField(_("resource 资源"), max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_client = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    created_keys = models.JSONField(default=list, blank=True)
    updated_keys = models.JSONField(default=list, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("bulk upsert audit 批量导入审计")
        verbose_name_plural = _("bulk upsert audits 批量导入审计")
        indexes = [models.Index(fields=["resource", "at"], name="bulkaudit_resource_at")]

    def __str__(self) -> str:
        return f"{self.resource} {self.at:%Y-%m-%d %H:%M} +{self.created} ~{self.updated}"
