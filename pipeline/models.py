"""Leads, opportunities, their teams, gate decisions, support requests, products and the BOQ."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ltc.models import TimeStampedModel, choices_check, currency_field, money_field
from relationships.models import TriangleRole

USER = settings.AUTH_USER_MODEL


class Product(TimeStampedModel):
    external_id = models.CharField(_("external id 外部编号"), max_length=64, null=True, blank=True)
    code = models.CharField(_("code 编码"), max_length=64)
    name = models.CharField(_("name 名称"), max_length=200)
    product_line = models.CharField(_("product line 产品线"), max_length=64)
    series = models.CharField(_("series 系列"), max_length=64, blank=True)
    list_price = money_field(_("list price 目录价"))
    currency = currency_field()
    is_active = models.BooleanField(_("active 有效"), default=True)

    class Meta:
        verbose_name = _("product 产品")
        verbose_name_plural = _("products 产品")
        constraints = [
            models.UniqueConstraint(fields=["code"], name="product_code_unique"),
            models.UniqueConstraint(fields=["external_id"], name="product_external_id_unique"),
            models.CheckConstraint(condition=models.Q(list_price__gte=0), name="product_price_nonneg"),
        ]
        indexes = [models.Index(fields=["product_line"], name="product_line")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class LeadStatus(models.TextChoices):
    NEW = "NEW", _("New 新建")
    VALIDATING = "VALIDATING", _("Validating 验证中")
    NURTURING = "NURTURING", _("Nurturing 培育中")
    CONVERTED = "CONVERTED", _("Converted 已转化")
    CLOSED = "CLOSED", _("Closed 已关闭")


class LeadSource(models.TextChoices):
    MARKET_INSIGHT = "MARKET_INSIGHT", _("Market insight 市场洞察")
    VISIT = "VISIT", _("Customer visit 客户拜访")
    INSTALLED_BASE = "INSTALLED_BASE", _("Installed base / delivery 存量网络与交付")
    MARKETING = "MARKETING", _("Marketing event 营销活动")
    PARTNER = "PARTNER", _("Partner 合作伙伴")
    INBOUND = "INBOUND", _("Inbound 客户来电/来函")


class LeadMaturity(models.TextChoices):
    MATURE = "MATURE", _("Mature (budget known) 成熟商机")
    EARLY = "EARLY", _("Early (no budget) 早期商机")


class LeadGrade(models.TextChoices):
    A = "A", _("A: pursue now A类：立即跟进")
    B = "B", _("B: qualify further B类：继续验证")
    C = "C", _("C: nurture C类：培育")
    D = "D", _("D: drop D类：放弃")


class Lead(TimeStampedModel):
    Status = LeadStatus

    OPEN_STATUSES = (Status.NEW, Status.VALIDATING, Status.NURTURING)

    Source = LeadSource

    Maturity = LeadMaturity

    Grade = LeadGrade

    external_id = models.CharField(_("external id 外部编号"), max_length=64, null=True, blank=True)
    title = models.CharField(_("title 标题"), max_length=200)
    customer = models.ForeignKey(
        "relationships.Customer",
        verbose_name=_("customer 客户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    prospect_name = models.CharField(_("prospect name 潜在客户名称"), max_length=200, blank=True)
    source = models.CharField(
        _("source 来源"), max_length=16, choices=Source.choices, default=Source.MARKET_INSIGHT
    )
    source_visit = models.ForeignKey(
        "relationships.Visit",
        verbose_name=_("revealed by visit 来源拜访"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    need = models.TextField(_("need 客户需求"), blank=True)
    budget_known = models.BooleanField(_("budget known 预算明确"), default=False)
    maturity = models.CharField(
        _("maturity 商机成熟度"), max_length=8, choices=Maturity.choices, default=Maturity.EARLY
    )
    estimated_amount = money_field(_("estimated amount 预估金额"))
    currency = currency_field()
    owner = models.ForeignKey(
        USER, verbose_name=_("found by 发现人"), on_delete=models.PROTECT, related_name="owned_leads"
    )
    nurturer = models.ForeignKey(
        USER,
        verbose_name=_("nurturer 培育人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="nurtured_leads",
    )
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("org unit 组织"), on_delete=models.PROTECT, related_name="leads"
    )
    status = models.CharField(_("status 状态"), max_length=16, choices=Status.choices, default=Status.NEW)
    grade = models.CharField(_("grade 等级"), max_length=1, choices=Grade.choices, blank=True)
    qualification_score = models.PositiveSmallIntegerField(
        _("qualification score 验证得分"), null=True, blank=True
    )
    next_review_on = models.DateField(_("next review 下次评审"), null=True, blank=True)
    close_reason = models.CharField(_("close reason 关闭原因"), max_length=255, blank=True)
    converted_at = models.DateTimeField(_("converted at 转化时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at 关闭时间"), null=True, blank=True)
    # Set when the lead was closed as a duplicate of another one (a merge, not a loss).
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into 合并至"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_leads",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("lead 线索")
        verbose_name_plural = _("leads 线索")
        constraints = [
            choices_check("lead_status_valid", "status", LeadStatus),
            choices_check("lead_source_valid", "source", LeadSource),
            choices_check("lead_maturity_valid", "maturity", LeadMaturity),
            models.CheckConstraint(
                condition=models.Q(grade__in=["", "A", "B", "C", "D"]), name="lead_grade_valid"
            ),
            models.CheckConstraint(condition=models.Q(estimated_amount__gte=0), name="lead_amount_nonneg"),
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | ~models.Q(prospect_name=""),
                name="lead_has_customer_or_prospect",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="CLOSED") | ~models.Q(close_reason=""),
                name="lead_closed_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="CONVERTED") | models.Q(converted_at__isnull=False),
                name="lead_converted_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(merged_into__isnull=True) | models.Q(status="CLOSED"),
                name="lead_merged_is_closed",
            ),
            models.UniqueConstraint(fields=["external_id"], name="lead_external_id_unique"),
        ]
        indexes = [
            models.Index(fields=["org_unit", "status"], name="lead_unit_status"),
            models.Index(fields=["owner", "status"], name="lead_owner_status"),
            models.Index(fields=["nurturer", "status"], name="lead_nurturer_status"),
            models.Index(fields=["customer"], name="lead_customer"),
            models.Index(fields=["updated_at", "id"], name="lead_updated"),
            models.Index(fields=["created_at"], name="lead_created"),
            models.Index(fields=["next_review_on"], name="lead_next_review"),
        ]

    def __str__(self) -> str:
        return self.title


class LeadQualification(TimeStampedModel):
    """The three questions answered and scored (0–10 each): is it a lead, how far is it, can we win."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="qualifications")
    is_lead_answer = models.TextField(_("is it a lead? 是不是线索"))
    is_lead_score = models.PositiveSmallIntegerField(_("is-a-lead score 线索得分"))
    how_far_answer = models.TextField(_("how far is it? 进展程度"))
    how_far_score = models.PositiveSmallIntegerField(_("how-far score 进展得分"))
    can_win_answer = models.TextField(_("can we win? 能否赢"))
    can_win_score = models.PositiveSmallIntegerField(_("can-win score 赢率得分"))
    total_score = models.PositiveSmallIntegerField(_("total 总分"))
    grade = models.CharField(_("grade 等级"), max_length=1, choices=Lead.Grade.choices)
    qualified_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("lead qualification 线索验证")
        verbose_name_plural = _("lead qualifications 线索验证")
        constraints = [
            choices_check("leadqual_grade_valid", "grade", Lead.Grade),
            *[
                models.CheckConstraint(condition=models.Q(**{f"{f}__lte": 10}), name=f"leadqual_{f}_0_10")
                for f in ("is_lead_score", "how_far_score", "can_win_score")
            ],
            models.CheckConstraint(
                condition=models.Q(
                    total_score=models.F("is_lead_score")
                    + models.F("how_far_score")
                    + models.F("can_win_score")
                ),
                name="leadqual_total_is_sum",
            ),
        ]


class LeadReviewDecision(models.TextChoices):
    CONVERT = "CONVERT", _("Convert 转化")
    NURTURE = "NURTURE", _("Keep nurturing 继续培育")
    CLOSE = "CLOSE", _("Close 关闭")
    REASSIGN = "REASSIGN", _("Reassign 重新分配")


class LeadReview(TimeStampedModel):
    """A decision of the weekly lead review (每周线索管理例会): one per lead and week."""

    Decision = LeadReviewDecision

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="reviews")
    week = models.DateField(_("week (Monday) 周"))
    decision = models.CharField(_("decision 决定"), max_length=8, choices=Decision.choices)
    reason = models.TextField(_("why 理由"))
    decided_by = models.ForeignKey(
        USER, verbose_name=_("decided by 决策人"), on_delete=models.PROTECT, related_name="+"
    )
    reassigned_to = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("lead review decision 线索评审决定")
        verbose_name_plural = _("lead review decisions 线索评审决定")
        constraints = [
            choices_check("leadreview_decision_valid", "decision", LeadReviewDecision),
            models.UniqueConstraint(fields=["lead", "week"], name="leadreview_unique_week"),
            models.CheckConstraint(
                condition=~models.Q(decision="REASSIGN") | models.Q(reassigned_to__isnull=False),
                name="leadreview_reassign_has_user",
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="leadreview_has_reason"),
        ]


class LeadReviewReminder(models.Model):
    """One weekly lead-review reminder per person and week: the unique key stops a second send."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    week = models.DateField()
    lead_count = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("lead review reminder 线索评审提醒")
        verbose_name_plural = _("lead review reminders 线索评审提醒")
        constraints = [models.UniqueConstraint(fields=["user", "week"], name="leadreminder_unique_week")]

    def __str__(self) -> str:
        return f"{self.user} {self.week}"


class LeadTransition(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("lead transition 线索状态变更")
        verbose_name_plural = _("lead transitions 线索状态变更")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_status} → {self.to_status}"


class Stage(models.TextChoices):
    VALIDATE = "VALIDATE", _("Validate 验证机会点")
    GUIDE = "GUIDE", _("Guide 标前引导")
    BID = "BID", _("Bid 制定并提交标书")
    NEGOTIATE = "NEGOTIATE", _("Negotiate 谈判和生成合同")
    WON = "WON", _("Won 赢单")
    LOST = "LOST", _("Lost 丢单")
    ABANDONED = "ABANDONED", _("Abandoned 放弃")


OPEN_STAGES = (Stage.VALIDATE, Stage.GUIDE, Stage.BID, Stage.NEGOTIATE)
CLOSED_STAGES = (Stage.WON, Stage.LOST, Stage.ABANDONED)


class Opportunity(TimeStampedModel):
    external_id = models.CharField(_("external id 外部编号"), max_length=64, null=True, blank=True)
    name = models.CharField(_("name 名称"), max_length=200)
    customer = models.ForeignKey(
        "relationships.Customer",
        verbose_name=_("customer 客户"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    lead = models.OneToOneField(
        Lead,
        verbose_name=_("from lead 来源线索"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunity",
    )
    amount = money_field(_("amount 金额"))
    currency = currency_field()
    margin_pct = models.DecimalField(
        _("margin % 毛利率"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    expected_sign_on = models.DateField(_("expected signing 预计签约日期"), null=True, blank=True)
    stage = models.CharField(_("stage 阶段"), max_length=16, choices=Stage.choices, default=Stage.VALIDATE)
    probability = models.PositiveSmallIntegerField(_("win probability % 赢率"), default=10)
    probability_overridden = models.BooleanField(_("probability set by hand 人工设定赢率"), default=False)
    competitors = models.CharField(_("competitors 竞争对手"), max_length=255, blank=True)
    owner = models.ForeignKey(
        USER, verbose_name=_("owner 负责人"), on_delete=models.PROTECT, related_name="owned_opportunities"
    )
    org_unit = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("org unit 组织"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    visits = models.ManyToManyField(
        "relationships.Visit", verbose_name=_("visits 相关拜访"), blank=True, related_name="opportunities"
    )
    stage_changed_at = models.DateTimeField(_("stage changed at 阶段变更时间"), null=True, blank=True)
    close_reason = models.CharField(_("close reason 关闭原因"), max_length=255, blank=True)
    closed_at = models.DateTimeField(_("closed at 关闭时间"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("opportunity 机会点")
        verbose_name_plural = _("opportunities 机会点")
        constraints = [
            choices_check("opportunity_stage_valid", "stage", Stage),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="opportunity_amount_nonneg"),
            models.CheckConstraint(
                condition=models.Q(probability__lte=100), name="opportunity_probability_pct"
            ),
            models.CheckConstraint(
                condition=~models.Q(stage__in=["LOST", "ABANDONED"]) | ~models.Q(close_reason=""),
                name="opportunity_lost_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(stage__in=["WON", "LOST", "ABANDONED"])
                | models.Q(closed_at__isnull=False),
                name="opportunity_closed_has_time",
            ),
            models.UniqueConstraint(fields=["external_id"], name="opportunity_external_id_unique"),
        ]
        indexes = [
            models.Index(fields=["org_unit", "stage"], name="opportunity_unit_stage"),
            models.Index(fields=["owner", "stage"], name="opportunity_owner_stage"),
            models.Index(fields=["customer", "stage"], name="opportunity_customer_stage"),
            models.Index(fields=["updated_at", "id"], name="opportunity_updated"),
            models.Index(fields=["expected_sign_on"], name="opportunity_sign_date"),
            models.Index(fields=["created_at"], name="opportunity_created"),
            models.Index(fields=["closed_at"], name="opportunity_closed"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES


class OpportunityTeamMember(TimeStampedModel):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="opportunity_teams")
    role = models.CharField(_("role 角色"), max_length=8, choices=TriangleRole.choices)
    credit_share = models.DecimalField(
        _("credit share % 业绩分配"), max_digits=5, decimal_places=2, default=0
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("opportunity team member 项目铁三角成员")
        verbose_name_plural = _("opportunity team 项目铁三角")
        constraints = [
            choices_check("oppteam_role_valid", "role", TriangleRole),
            models.UniqueConstraint(fields=["opportunity", "user"], name="oppteam_unique_user"),
            models.UniqueConstraint(
                fields=["opportunity", "role"],
                condition=models.Q(role__in=["AR", "SR", "FR", "SPONSOR"]),
                name="oppteam_one_per_role",
            ),
            models.CheckConstraint(
                condition=models.Q(credit_share__gte=0, credit_share__lte=100), name="oppteam_share_pct"
            ),
        ]
        indexes = [models.Index(fields=["user", "opportunity"], name="oppteam_user")]


class StageTransition(models.Model):
    """Who moved an opportunity from which stage to which, when and why."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="transitions")
    from_stage = models.CharField(max_length=16, choices=Stage.choices)
    to_stage = models.CharField(max_length=16, choices=Stage.choices)
    actor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("stage transition 阶段变更")
        verbose_name_plural = _("stage transitions 阶段变更")
        ordering = ["created_at", "id"]
        constraints = [
            choices_check("stagetransition_from_valid", "from_stage", Stage),
            choices_check("stagetransition_to_valid", "to_stage", Stage),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.from_stage} → {self.to_stage}"


class GateDecisionGate(models.TextChoices):
    ATI = "ATI", _("ATI approve to initiate 立项决策")
    ATB = "ATB", _("ATB approve to bid 投标决策")
    ATC = "ATC", _("ATC approve to contract 签约决策")


class GateDecisionOutcome(models.TextChoices):
    GO = "GO", _("GO 通过")
    NO_GO = "NO_GO", _("NO-GO 否决")
    HOLD = "HOLD", _("HOLD 搁置")


class GateDecision(TimeStampedModel):
    """A decision at a gate: ATI (立项) before GUIDE, ATB (投标) before NEGOTIATE, ATC (签约) before WON."""

    Gate = GateDecisionGate

    Outcome = GateDecisionOutcome

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="gate_decisions")
    gate = models.CharField(_("gate 决策点"), max_length=4, choices=Gate.choices)
    outcome = models.CharField(_("decision 决策结果"), max_length=8, choices=Outcome.choices)
    decider = models.ForeignKey(
        USER, verbose_name=_("decider 决策人"), on_delete=models.PROTECT, related_name="gate_decisions"
    )
    decided_on = models.DateField(_("decided on 决策日期"))
    conditions = models.TextField(_("conditions 附加条件"), blank=True)
    amount_at_decision = money_field(_("amount at decision 决策时金额"))
    margin_at_decision = models.DecimalField(
        _("margin % at decision 决策时毛利率"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    # Set when the decision had to go up the org tree because the amount was beyond the requester's level.
    escalated_to = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("escalated to 升级至"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("gate decision 决策评审")
        verbose_name_plural = _("gate decisions 决策评审")
        constraints = [
            choices_check("gatedecision_gate_valid", "gate", GateDecisionGate),
            choices_check("gatedecision_outcome_valid", "outcome", GateDecisionOutcome),
            models.CheckConstraint(
                condition=models.Q(amount_at_decision__gte=0), name="gatedecision_amount_nonneg"
            ),
        ]
        indexes = [models.Index(fields=["opportunity", "gate", "created_at"], name="gatedecision_opp_gate")]


class SupportRequestStatus(models.TextChoices):
    OPEN = "OPEN", _("Open 待响应")
    ASSIGNED = "ASSIGNED", _("Assigned 已指派")
    DONE = "DONE", _("Done 已完成")
    CANCELLED = "CANCELLED", _("Cancelled 已取消")


class SupportRequestExpertise(models.TextChoices):
    PRODUCT = "PRODUCT", _("Product expert 产品专家")
    SOLUTION = "SOLUTION", _("Solution expert 解决方案专家")
    DELIVERY = "DELIVERY", _("Delivery expert 交付专家")
    RND = "RND", _("R&D expert 研发专家")


class SupportRequest(TimeStampedModel):
    """呼唤炮火: the iron triangle asks the resource centre for an expert."""

    Status = SupportRequestStatus

    Expertise = SupportRequestExpertise

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="support_requests")
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    expertise = models.CharField(_("expertise 所需专业"), max_length=8, choices=Expertise.choices)
    need = models.TextField(_("what is needed 需求"))
    needed_by = models.DateField(_("needed by 需要日期"))
    status = models.CharField(_("status 状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    expert = models.ForeignKey(
        USER,
        verbose_name=_("expert 专家"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="support_assignments",
    )
    assigned_at = models.DateTimeField(_("assigned at 指派时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("support request 呼唤炮火")
        verbose_name_plural = _("support requests 呼唤炮火")
        constraints = [
            choices_check("supportrequest_status_valid", "status", SupportRequestStatus),
            choices_check("supportrequest_expertise_valid", "expertise", SupportRequestExpertise),
            models.CheckConstraint(
                condition=~models.Q(status="ASSIGNED")
                | models.Q(expert__isnull=False, assigned_at__isnull=False),
                name="supportrequest_assigned_has_expert",
            ),
        ]
        indexes = [models.Index(fields=["status", "needed_by"], name="supportrequest_status")]


class OpportunityLine(models.Model):
    """A line of the bill of quantities (BOQ), owned by the SR."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity 数量"), max_digits=12, decimal_places=2)
    unit_price = money_field(_("unit price 单价"))
    discount_pct = models.DecimalField(_("discount % 折扣"), max_digits=5, decimal_places=2, default=0)
    line_amount = money_field(_("line amount 行金额"))

    class Meta:
        verbose_name = _("BOQ line 配置清单行")
        verbose_name_plural = _("BOQ lines 配置清单")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="oppline_quantity_pos"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="oppline_price_nonneg"),
            models.CheckConstraint(
                condition=models.Q(discount_pct__gte=0, discount_pct__lte=100), name="oppline_discount_pct"
            ),
            models.CheckConstraint(condition=models.Q(line_amount__gte=0), name="oppline_amount_nonneg"),
            models.UniqueConstraint(fields=["opportunity", "product"], name="oppline_unique_product"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity}"
