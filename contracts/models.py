"""Contracts, payment milestones, changes, invoices and receipts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ltc.models import TimeStampedModel, choices_check, currency_field, money_field

USER = settings.AUTH_USER_MODEL


class ContractStatus(models.TextChoices):
    RECEIVED = "RECEIVED", _("Received and confirming 接收和确认")
    EXECUTING = "EXECUTING", _("Executing 执行中")
    CLOSED = "CLOSED", _("Closed and evaluated 关闭并评价")


class ContractPaymentTerms(models.TextChoices):
    STANDARD = "STANDARD", _("30% advance, 60% PAC, 10% FAC 预付30%/初验60%/终验10%")
    DELIVERY = "DELIVERY", _("100% on delivery 到货100%")
    ADVANCE_FAC = "ADVANCE_FAC", _("50% advance, 50% FAC 预付50%/终验50%")
    CUSTOM = "CUSTOM", _("Custom 自定义")


class Contract(TimeStampedModel):
    Status = ContractStatus

    PaymentTerms = ContractPaymentTerms

    external_id = models.CharField(_("external id 外部编号"), max_length=64, null=True, blank=True)
    number = models.CharField(_("contract number 合同编号"), max_length=64)
    title = models.CharField(_("title 名称"), max_length=200, blank=True)
    opportunity = models.OneToOneField(
        "pipeline.Opportunity",
        verbose_name=_("opportunity 机会点"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contract",
    )
    customer = models.ForeignKey(
        "relationships.Customer",
        verbose_name=_("customer 客户"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    owner = models.ForeignKey(
        USER, verbose_name=_("owner 负责人"), on_delete=models.PROTECT, related_name="owned_contracts"
    )
    org_unit = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("org unit 组织"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    amount = money_field(_("amount 合同金额"))
    currency = currency_field()
    signed_on = models.DateField(_("signed on 签约日期"))
    payment_terms = models.CharField(
        _("payment terms 付款条件"),
        max_length=16,
        choices=PaymentTerms.choices,
        default=PaymentTerms.STANDARD,
    )
    status = models.CharField(
        _("status 状态"), max_length=16, choices=Status.choices, default=Status.RECEIVED
    )
    confirmed_at = models.DateTimeField(_("confirmed at 确认时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at 关闭时间"), null=True, blank=True)
    evaluation = models.TextField(_("evaluation 评价"), blank=True)
    evaluation_score = models.PositiveSmallIntegerField(_("evaluation score 评分"), null=True, blank=True)
    # Running totals kept by the services that record money (one row lock, no SUM on every read).
    invoiced_amount = money_field(_("invoiced 已开票"))
    collected_amount = money_field(_("collected 已回款"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contract 合同")
        verbose_name_plural = _("contracts 合同")
        constraints = [
            choices_check("contract_status_valid", "status", ContractStatus),
            choices_check("contract_terms_valid", "payment_terms", ContractPaymentTerms),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="contract_amount_nonneg"),
            models.CheckConstraint(
                condition=models.Q(invoiced_amount__gte=0, invoiced_amount__lte=models.F("amount")),
                name="contract_invoiced_within_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    collected_amount__gte=0, collected_amount__lte=models.F("invoiced_amount")
                ),
                name="contract_collected_within_invoiced",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="CLOSED") | models.Q(closed_at__isnull=False),
                name="contract_closed_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(evaluation_score__isnull=True)
                | models.Q(evaluation_score__gte=1, evaluation_score__lte=5),
                name="contract_evaluation_1_5",
            ),
            models.UniqueConstraint(fields=["number"], name="contract_number_unique"),
            models.UniqueConstraint(fields=["external_id"], name="contract_external_id_unique"),
        ]
        indexes = [
            models.Index(fields=["org_unit", "status"], name="contract_unit_status"),
            models.Index(fields=["owner", "status"], name="contract_owner_status"),
            models.Index(fields=["customer"], name="contract_customer"),
            models.Index(fields=["signed_on"], name="contract_signed"),
            models.Index(fields=["updated_at", "id"], name="contract_updated"),
        ]

    def __str__(self) -> str:
        return self.number


class PaymentMilestoneKind(models.TextChoices):
    ADVANCE = "ADVANCE", _("Advance payment 预付款")
    DELIVERY = "DELIVERY", _("Delivery 到货")
    PAC = "PAC", _("Preliminary acceptance 初验")
    FAC = "FAC", _("Final acceptance 终验")
    OTHER = "OTHER", _("Other 其他")


class PaymentMilestone(TimeStampedModel):
    Kind = PaymentMilestoneKind

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="milestones")
    sequence = models.PositiveSmallIntegerField(_("sequence 序号"))
    kind = models.CharField(_("kind 类型"), max_length=8, choices=Kind.choices)
    percent = models.DecimalField(_("share % 比例"), max_digits=5, decimal_places=2)
    amount = money_field(_("amount 金额"))
    planned_on = models.DateField(_("planned 计划日期"))
    achieved_on = models.DateField(_("achieved 达成日期"), null=True, blank=True)
    invoiced_amount = money_field(_("invoiced 已开票"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("payment milestone 回款里程碑")
        verbose_name_plural = _("payment milestones 回款里程碑")
        ordering = ["contract", "sequence"]
        constraints = [
            choices_check("milestone_kind_valid", "kind", PaymentMilestoneKind),
            models.UniqueConstraint(fields=["contract", "sequence"], name="milestone_unique_sequence"),
            models.CheckConstraint(
                condition=models.Q(percent__gt=0, percent__lte=100), name="milestone_percent"
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="milestone_amount_nonneg"),
            models.CheckConstraint(
                condition=models.Q(invoiced_amount__gte=0, invoiced_amount__lte=models.F("amount")),
                name="milestone_invoiced_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract} #{self.sequence} {self.get_kind_display()}"


class ContractChangeStatus(models.TextChoices):
    PROPOSED = "PROPOSED", _("Proposed 已提出")
    APPROVED = "APPROVED", _("Approved 已批准")
    REJECTED = "REJECTED", _("Rejected 已否决")
    APPLIED = "APPLIED", _("Applied 已生效")


class ContractChange(TimeStampedModel):
    """A change to a signed contract (合同变更). It applies only after an approved decision."""

    Status = ContractChangeStatus

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="changes")
    description = models.TextField(_("change 变更内容"))
    new_amount = models.DecimalField(
        _("new amount 变更后金额"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    new_signed_on = models.DateField(_("new signing date 变更后签约日期"), null=True, blank=True)
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status 状态"), max_length=10, choices=Status.choices, default=Status.PROPOSED
    )
    decider = models.ForeignKey(
        USER,
        verbose_name=_("decider 决策人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at 决策时间"), null=True, blank=True)
    decision_notes = models.TextField(_("decision notes 决策意见"), blank=True)
    applied_at = models.DateTimeField(_("applied at 生效时间"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contract change 合同变更")
        verbose_name_plural = _("contract changes 合同变更")
        constraints = [
            choices_check("contractchange_status_valid", "status", ContractChangeStatus),
            models.CheckConstraint(
                condition=models.Q(new_amount__isnull=True) | models.Q(new_amount__gte=0),
                name="contractchange_amount_nonneg",
            ),
            models.CheckConstraint(
                condition=models.Q(status="PROPOSED")
                | models.Q(decider__isnull=False, decided_at__isnull=False),
                name="contractchange_decided_has_decider",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="APPLIED") | models.Q(applied_at__isnull=False),
                name="contractchange_applied_has_time",
            ),
        ]


class InvoiceStatus(models.TextChoices):
    ISSUED = "ISSUED", _("Issued 已开票")
    PARTIALLY_PAID = "PARTIALLY_PAID", _("Partially paid 部分回款")
    PAID = "PAID", _("Paid 已回款")
    CANCELLED = "CANCELLED", _("Cancelled 已作废")


class Invoice(TimeStampedModel):
    Status = InvoiceStatus

    external_id = models.CharField(_("external id 外部编号"), max_length=64, null=True, blank=True)
    contract = models.ForeignKey(
        Contract, verbose_name=_("contract 合同"), on_delete=models.PROTECT, related_name="invoices"
    )
    milestone = models.ForeignKey(
        PaymentMilestone,
        verbose_name=_("milestone 里程碑"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    number = models.CharField(_("invoice number 发票号"), max_length=64)
    amount = money_field(_("amount 金额"))
    currency = currency_field()
    issued_on = models.DateField(_("issued on 开票日期"))
    due_on = models.DateField(_("due on 到期日"))
    status = models.CharField(_("status 状态"), max_length=16, choices=Status.choices, default=Status.ISSUED)
    paid_amount = money_field(_("paid 已回款"))
    overdue_notified_on = models.DateField(_("overdue notice sent 逾期通知日期"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("invoice 发票")
        verbose_name_plural = _("invoices 发票")
        constraints = [
            choices_check("invoice_status_valid", "status", InvoiceStatus),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="invoice_amount_pos"),
            models.CheckConstraint(
                condition=models.Q(paid_amount__gte=0, paid_amount__lte=models.F("amount")),
                name="invoice_not_overpaid",
            ),
            models.CheckConstraint(
                condition=models.Q(due_on__gte=models.F("issued_on")), name="invoice_due_after_issue"
            ),
            models.UniqueConstraint(fields=["number"], name="invoice_number_unique"),
            models.UniqueConstraint(fields=["external_id"], name="invoice_external_id_unique"),
        ]
        indexes = [
            models.Index(fields=["contract", "status"], name="invoice_contract_status"),
            models.Index(fields=["status", "due_on"], name="invoice_status_due"),
            models.Index(fields=["updated_at", "id"], name="invoice_updated"),
            models.Index(fields=["issued_on"], name="invoice_issued"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def outstanding(self):
        return self.amount - self.paid_amount


class Receipt(TimeStampedModel):
    external_id = models.CharField(_("external id 外部编号"), max_length=64, null=True, blank=True)
    contract = models.ForeignKey(
        Contract, verbose_name=_("contract 合同"), on_delete=models.PROTECT, related_name="receipts"
    )
    invoice = models.ForeignKey(
        Invoice,
        verbose_name=_("invoice 发票"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="receipts",
    )
    amount = money_field(_("amount 金额"))
    currency = currency_field()
    received_on = models.DateField(_("received on 到账日期"))
    reference = models.CharField(_("bank reference 银行流水号"), max_length=64, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("receipt 回款")
        verbose_name_plural = _("receipts 回款")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="receipt_amount_pos"),
            models.UniqueConstraint(fields=["external_id"], name="receipt_external_id_unique"),
        ]
        indexes = [
            models.Index(fields=["contract", "received_on"], name="receipt_contract_date"),
            models.Index(fields=["invoice"], name="receipt_invoice"),
            models.Index(fields=["updated_at", "id"], name="receipt_updated"),
            models.Index(fields=["received_on"], name="receipt_received"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} {self.received_on}"


class ContractNumberSequence(models.Model):
    """The last contract number handed out per year ("HT-2026-000123"), locked row by row when numbering."""

    year = models.PositiveSmallIntegerField(_("year 年份"))
    last_value = models.PositiveIntegerField(_("last number 当前流水号"), default=0)

    class Meta:
        verbose_name = _("contract number sequence 合同编号流水")
        verbose_name_plural = _("contract number sequences 合同编号流水")
        constraints = [models.UniqueConstraint(fields=["year"], name="contractnumberseq_unique_year")]

    def __str__(self) -> str:
        return f"{self.year}: {self.last_value}"
