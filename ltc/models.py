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
    # The rendered JSON as sent (text, not jsonb: a replay must keep the key order byte for byte).
    response_body = models.TextField(blank=True, default="")
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
    api_client = models.ForeignKey(
        ApiClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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


# --- Webhooks: subscriptions, the transactional outbox and the delivery log (see ltc/webhooks/) ----------


class WebhookEventType(models.TextChoices):
    LEAD_CONVERTED = "lead.converted", _("Lead converted 线索已转化")
    GATE_DECIDED = "gate.decided", _("Gate decided 决策点已决策")
    OPPORTUNITY_WON = "opportunity.won", _("Opportunity won 机会点赢单")
    OPPORTUNITY_LOST = "opportunity.lost", _("Opportunity lost 机会点丢单")
    OPPORTUNITY_ABANDONED = "opportunity.abandoned", _("Opportunity abandoned 机会点放弃")
    CONTRACT_SIGNED = "contract.signed", _("Contract signed 合同已签订")
    CONTRACT_CHANGED = "contract.changed", _("Contract changed 合同已变更")
    INVOICE_OVERDUE = "invoice.overdue", _("Invoice overdue 发票逾期")
    RECEIPT_RECORDED = "receipt.recorded", _("Receipt recorded 回款已登记")


class WebhookSubscription(TimeStampedModel):
    """An integration's standing order: POST these events to this URL, signed with this secret.

    The secret is stored as is (HMAC needs it) and shown once, at creation. The subscriber receives only
    events about records its scope can see: the owning API client's org unit, or `org_unit` for a
    subscription an administrator made without a client (empty = the whole company).
    """

    EventType = WebhookEventType
    ALL_EVENTS = "*"

    name = models.CharField(_("name 名称"), max_length=128)
    target_url = models.URLField(_("target URL 目标地址"), max_length=500)
    secret = models.CharField(_("signing secret 签名密钥"), max_length=128, editable=False)
    event_types = models.JSONField(
        _("event types 事件类型"),
        default=list,
        blank=True,
        help_text=_('Event names, e.g. ["opportunity.won"]; "*" = every event. 事件名列表，"*" 表示全部。'),
    )
    is_active = models.BooleanField(_("active 有效"), default=True)
    api_client = models.ForeignKey(
        ApiClient,
        verbose_name=_("owner API client 所属 API 客户端"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
    )
    org_unit = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("org unit scope 组织范围"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_(
            "Records it may hear about; empty = the whole company. 可接收的记录范围；为空表示全公司。"
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("webhook subscription Webhook 订阅")
        verbose_name_plural = _("webhook subscriptions Webhook 订阅")
        indexes = [models.Index(fields=["is_active"], name="webhooksub_active")]

    def __str__(self) -> str:
        return f"{self.name} → {self.target_url}"

    def wants(self, event_type: str) -> bool:
        return self.ALL_EVENTS in self.event_types or event_type in self.event_types


class WebhookEvent(models.Model):
    """The outbox: one row per business event, written in the transaction of the change it reports.

    `fanned_out_at` is set when the deliveries were created; the sweeper fans out any event older than a
    minute still without it (a lost on-commit task), so an event that committed is never lost.
    """

    EventType = WebhookEventType

    event_type = models.CharField(_("event 事件"), max_length=32, choices=EventType.choices)
    obj_type = models.CharField(_("object type 对象类型"), max_length=32)
    obj_id = models.BigIntegerField(_("object id 对象编号"))
    payload = models.JSONField(_("payload 内容"), default=dict)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at 创建时间"), auto_now_add=True)
    fanned_out_at = models.DateTimeField(_("fanned out at 分发时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook event Webhook 事件")
        verbose_name_plural = _("webhook events Webhook 事件")
        constraints = [choices_check("webhookevent_type_valid", "event_type", WebhookEventType)]
        indexes = [
            models.Index(fields=["obj_type", "obj_id"], name="webhookevent_object"),
            models.Index(
                fields=["created_at"],
                condition=models.Q(fanned_out_at__isnull=True),
                name="webhookevent_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event_type} {self.obj_type}:{self.obj_id}"


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "PENDING", _("Pending 待发送")
    RETRYING = "RETRYING", _("Retrying 重试中")
    DELIVERED = "DELIVERED", _("Delivered 已送达")
    FAILED = "FAILED", _("Failed 失败")


class WebhookDelivery(TimeStampedModel):
    """One event for one subscription: unique, so fanning an event out twice creates nothing new.

    `attempts` counts every POST ever made; `failures` counts the transient failures since the last success
    or replay and drives the backoff (a replay starts again from zero).
    """

    Status = WebhookDeliveryStatus

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(_("status 状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts 尝试次数"), default=0)
    failures = models.PositiveIntegerField(_("failures since last success 连续失败次数"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at 下次尝试时间"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last HTTP status 最近状态码"), null=True, blank=True
    )
    last_error = models.TextField(_("last error 最近错误"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at 送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery Webhook 投递")
        verbose_name_plural = _("webhook deliveries Webhook 投递")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscription"], name="webhookdelivery_unique_event_sub"
            ),
            choices_check("webhookdelivery_status_valid", "status", WebhookDeliveryStatus),
            models.CheckConstraint(
                condition=~models.Q(status="DELIVERED") | models.Q(delivered_at__isnull=False),
                name="webhookdelivery_delivered_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["subscription", "id"], name="webhookdelivery_sub"),
            models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_status_next"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.status} (event {self.event_id} → subscription {self.subscription_id})"


class WebhookAttemptTrigger(models.TextChoices):
    INITIAL = "INITIAL", _("First attempt 首次发送")
    RETRY = "RETRY", _("Retry 重试")
    REPLAY = "REPLAY", _("Replay 重新投递")


class WebhookDeliveryAttempt(models.Model):
    """The log of one POST: when, why (first try, retry, replay), the answer (truncated) or the error."""

    Trigger = WebhookAttemptTrigger

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField(_("attempt 次序"))
    trigger = models.CharField(_("trigger 触发"), max_length=8, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(_("started at 开始时间"))
    duration_ms = models.PositiveIntegerField(_("duration ms 耗时(毫秒)"), default=0)
    status_code = models.PositiveSmallIntegerField(_("HTTP status 状态码"), null=True, blank=True)
    response_body = models.TextField(_("response (truncated) 响应(截断)"), blank=True)
    error = models.TextField(_("error 错误"), blank=True)
    succeeded = models.BooleanField(_("succeeded 成功"), default=False)

    class Meta:
        verbose_name = _("webhook delivery attempt Webhook 投递记录")
        verbose_name_plural = _("webhook delivery attempts Webhook 投递记录")
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhookattempt_unique_number"),
            choices_check("webhookattempt_trigger_valid", "trigger", WebhookAttemptTrigger),
        ]

    def __str__(self) -> str:
        return f"delivery {self.delivery_id} attempt {self.number}: {self.status_code or self.error[:40]}"
