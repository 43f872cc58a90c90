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
