"""Customers, their archive, budgets, teams, contacts, relationship work, visits and issues."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.models import MarketType
from ltc.models import TimeStampedModel, choices_check, currency_field, money_field

USER = settings.AUTH_USER_MODEL


def score_field(verbose: str, **kwargs) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(verbose, **kwargs)


def score_check(name: str, field: str, nullable: bool = False) -> models.CheckConstraint:
    cond = models.Q(**{f"{field}__gte": 1, f"{field}__lte": 5})
    if nullable:
        cond |= models.Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=cond, name=name)


class Industry(models.TextChoices):
    TELECOM = "TELECOM", _("Telecom operators 运营商")
    GOVERNMENT = "GOVERNMENT", _("Government & public 政府与公共事业")
    FINANCE = "FINANCE", _("Finance 金融")
    ENERGY = "ENERGY", _("Energy & power 能源电力")
    TRANSPORT = "TRANSPORT", _("Transport 交通")
    MANUFACTURING = "MANUFACTURING", _("Manufacturing 制造")
    EDUCATION = "EDUCATION", _("Education 教育")
    HEALTHCARE = "HEALTHCARE", _("Healthcare 医疗")
    INTERNET = "INTERNET", _("Internet 互联网")
    RETAIL = "RETAIL", _("Retail 零售")
    OTHER = "OTHER", _("Other 其他")


class CustomerTier(models.TextChoices):
    S = "S", _("S strategic 战略")
    A = "A", _("A partner 伙伴")
    B = "B", _("B commercial 商业")
    C = "C", _("C general 一般")


class CustomerStatus(models.TextChoices):
    PROSPECT = "PROSPECT", _("Prospect 潜在")
    ACTIVE = "ACTIVE", _("Active 活跃")
    DORMANT = "DORMANT", _("Dormant 休眠")
    LOST = "LOST", _("Lost 流失")


class Customer(TimeStampedModel):
    Tier = CustomerTier

    Status = CustomerStatus

    external_id = models.CharField(_("external id 外部编号"), max_length=64, null=True, blank=True)
    name = models.CharField(_("name 名称"), max_length=200)
    name_en = models.CharField(_("English name 英文名称"), max_length=200, blank=True)
    tax_id = models.CharField(_("tax id 纳税人识别号"), max_length=32, null=True, blank=True)
    industry = models.CharField(
        _("industry 行业"), max_length=16, choices=Industry.choices, default=Industry.OTHER
    )
    account_dept = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("account department 系统部"),
        on_delete=models.PROTECT,
        related_name="customers",
    )
    owner = models.ForeignKey(
        USER,
        verbose_name=_("account responsible 客户经理"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_customers",
    )
    annual_purchase = money_field(_("annual purchase 年采购额"))
    currency = currency_field()
    repeat_purchase = models.BooleanField(_("repeat purchases 重复采购"), default=False)
    named_top_account = models.BooleanField(_("named top account 指定重点客户"), default=False)
    tier = models.CharField(_("tier 客户等级"), max_length=1, choices=Tier.choices, default=Tier.C)
    tier_override_reason = models.CharField(
        _("tier override reason 等级调整原因"), max_length=255, blank=True
    )
    tier_overridden_by = models.ForeignKey(
        USER,
        verbose_name=_("tier overridden by 等级调整人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    market_type = models.CharField(
        _("market type 市场类型"), max_length=16, choices=MarketType.choices, default=MarketType.NEW
    )
    status = models.CharField(_("status 状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # The customer archive 客户档案.
    summary = models.TextField(_("summary 客户概况"), blank=True)
    industry_competition = models.TextField(_("industry and competition 行业与竞争"), blank=True)
    strategy_pain_points = models.TextField(_("strategy and pain points 战略与痛点"), blank=True)
    finance = models.TextField(_("finance 财务状况"), blank=True)
    procurement_process = models.TextField(_("organisation and procurement 组织与采购决策流程"), blank=True)
    swot_strengths = models.TextField(_("strengths 优势"), blank=True)
    swot_weaknesses = models.TextField(_("weaknesses 劣势"), blank=True)
    swot_opportunities = models.TextField(_("opportunities 机会"), blank=True)
    swot_threats = models.TextField(_("threats 威胁"), blank=True)
    archive_completeness = models.PositiveSmallIntegerField(_("archive completeness % 信息完整度"), default=0)

    history = HistoricalRecords()

    ARCHIVE_FIELDS = (
        "summary",
        "industry_competition",
        "strategy_pain_points",
        "finance",
        "procurement_process",
        "swot_strengths",
        "swot_weaknesses",
        "swot_opportunities",
        "swot_threats",
    )

    class Meta:
        verbose_name = _("customer 客户")
        verbose_name_plural = _("customers 客户")
        constraints = [
            choices_check("customer_tier_valid", "tier", CustomerTier),
            choices_check("customer_status_valid", "status", CustomerStatus),
            choices_check("customer_industry_valid", "industry", Industry),
            choices_check("customer_market_type_valid", "market_type", MarketType),
            models.CheckConstraint(
                condition=models.Q(annual_purchase__gte=0), name="customer_purchase_nonneg"
            ),
            models.CheckConstraint(
                condition=models.Q(archive_completeness__lte=100), name="customer_completeness_pct"
            ),
            models.UniqueConstraint(fields=["external_id"], name="customer_external_id_unique"),
            models.UniqueConstraint(fields=["tax_id"], name="customer_tax_id_unique"),
        ]
        indexes = [
            models.Index(fields=["account_dept", "tier"], name="customer_dept_tier"),
            models.Index(fields=["owner"], name="customer_owner"),
            models.Index(fields=["updated_at", "id"], name="customer_updated"),
            models.Index(fields=["name"], name="customer_name"),
            models.Index(fields=["industry"], name="customer_industry"),
        ]

    def __str__(self) -> str:
        return self.name


class CustomerEvent(TimeStampedModel):
    """The key events calendar of the customer archive (budget cycle, board meetings, tenders…)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    happens_on = models.DateField(_("date 日期"))
    title = models.CharField(_("event 事件"), max_length=200)
    notes = models.TextField(_("notes 备注"), blank=True)

    class Meta:
        verbose_name = _("key customer event 客户关键事件")
        verbose_name_plural = _("key customer events 客户关键事件")
        ordering = ["happens_on"]
        indexes = [models.Index(fields=["customer", "happens_on"], name="customerevent_cust_date")]


class CustomerBudget(TimeStampedModel):
    """The customer's investment budget for a year (客户投资预算), obtained by the AR by year-end."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="budgets")
    year = models.PositiveSmallIntegerField(_("budget year 预算年度"))
    total_amount = money_field(_("total budget 预算总额"))
    currency = currency_field()
    obtained_on = models.DateField(_("obtained on 获取日期"), null=True, blank=True)
    obtained_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("customer budget 客户投资预算")
        verbose_name_plural = _("customer budgets 客户投资预算")
        constraints = [
            models.UniqueConstraint(fields=["customer", "year"], name="customerbudget_unique_year"),
            models.CheckConstraint(condition=models.Q(total_amount__gte=0), name="customerbudget_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.year}"


class CustomerBudgetLine(models.Model):
    budget = models.ForeignKey(CustomerBudget, on_delete=models.CASCADE, related_name="lines")
    area = models.CharField(_("investment area 投资领域"), max_length=128)
    amount = money_field(_("amount 金额"))

    class Meta:
        verbose_name = _("budget line 预算明细")
        verbose_name_plural = _("budget lines 预算明细")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="customerbudgetline_nonneg"),
            models.UniqueConstraint(fields=["budget", "area"], name="customerbudgetline_unique_area"),
        ]

    def __str__(self) -> str:
        return f"{self.area}: {self.amount}"


class TriangleRole(models.TextChoices):
    AR = "AR", _("AR account responsible 客户经理")
    SR = "SR", _("SR solution responsible 解决方案经理")
    FR = "FR", _("FR fulfilment responsible 交付经理")
    SPONSOR = "SPONSOR", _("Sponsor 高层赞助人")
    SUPPORT = "SUPPORT", _("Supporting member 支撑成员")


IRON_TRIANGLE = (TriangleRole.AR, TriangleRole.SR, TriangleRole.FR)


class CustomerTeamMember(TimeStampedModel):
    """The iron triangle that owns a customer (and an optional high-level sponsor)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="customer_teams")
    role = models.CharField(_("role 角色"), max_length=8, choices=TriangleRole.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("customer team member 客户铁三角成员")
        verbose_name_plural = _("customer team 客户铁三角")
        constraints = [
            choices_check("customerteam_role_valid", "role", TriangleRole),
            models.UniqueConstraint(fields=["customer", "user", "role"], name="customerteam_unique_member"),
            models.UniqueConstraint(
                fields=["customer", "role"],
                condition=models.Q(role__in=["AR", "SR", "FR", "SPONSOR"]),
                name="customerteam_one_per_role",
            ),
        ]
        indexes = [models.Index(fields=["user", "customer"], name="customerteam_user")]


class ContactLevel(models.TextChoices):
    TOP = "TOP", _("Top level 高层")
    MIDDLE = "MIDDLE", _("Middle level 中层")
    BASE = "BASE", _("Base level 基层")


class ContactDecisionRole(models.TextChoices):
    INITIATOR = "INITIATOR", _("Initiator 发起者")
    USER = "USER", _("User 使用者")
    INFLUENCER = "INFLUENCER", _("Influencer 影响者")
    DECIDER = "DECIDER", _("Decider 决策者")
    APPROVER = "APPROVER", _("Approver 批准者")
    BUYER = "BUYER", _("Buyer 采购者")
    GATEKEEPER = "GATEKEEPER", _("Gatekeeper 控制者")


class ContactStance(models.TextChoices):
    SUPPORT = "SUPPORT", _("Support 支持")
    NEUTRAL = "NEUTRAL", _("Neutral 中立")
    OPPOSE = "OPPOSE", _("Oppose 反对")


class Contact(TimeStampedModel):
    Level = ContactLevel

    DecisionRole = ContactDecisionRole

    Stance = ContactStance

    external_id = models.CharField(_("external id 外部编号"), max_length=64, null=True, blank=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer 客户"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name 姓名"), max_length=128)
    title = models.CharField(_("title 职务"), max_length=128, blank=True)
    department = models.CharField(_("department 部门"), max_length=128, blank=True)
    phone = models.CharField(_("phone 电话"), max_length=32, blank=True)
    email = models.EmailField(_("email 邮箱"), blank=True)
    level = models.CharField(_("level 层级"), max_length=8, choices=Level.choices, default=Level.MIDDLE)
    decision_role = models.CharField(
        _("decision-chain role 决策链角色"),
        max_length=16,
        choices=DecisionRole.choices,
        default=DecisionRole.INFLUENCER,
    )
    stance = models.CharField(_("stance 立场"), max_length=8, choices=Stance.choices, default=Stance.NEUTRAL)
    intimacy = score_field(_("intimacy 亲密度"), default=1)
    support_level = score_field(_("support 支持度"), default=3)
    is_coach = models.BooleanField(_("coach 教练"), default=False)
    reports_to = models.ForeignKey(
        "self",
        verbose_name=_("reports to 上级"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subordinates",
    )
    owner = models.ForeignKey(
        USER,
        verbose_name=_("owner 负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_contacts",
    )
    # The private relationship card: seen by the owner and the people above the owner, never by peers.
    private_notes = models.TextField(_("private relationship notes 私人关系卡片"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact 联系人")
        verbose_name_plural = _("contacts 联系人")
        constraints = [
            choices_check("contact_level_valid", "level", ContactLevel),
            choices_check("contact_decision_role_valid", "decision_role", ContactDecisionRole),
            choices_check("contact_stance_valid", "stance", ContactStance),
            score_check("contact_intimacy_1_5", "intimacy"),
            score_check("contact_support_1_5", "support_level"),
            models.UniqueConstraint(fields=["external_id"], name="contact_external_id_unique"),
        ]
        indexes = [
            models.Index(fields=["customer", "level"], name="contact_customer_level"),
            models.Index(fields=["owner"], name="contact_owner"),
            models.Index(fields=["updated_at", "id"], name="contact_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer})"


class RelationshipLayer(models.TextChoices):
    KEY = "KEY", _("Key relationship 关键客户关系")
    GENERAL = "GENERAL", _("General relationship 普遍客户关系")
    ORGANISATIONAL = "ORGANISATIONAL", _("Organisational relationship 组织客户关系")


ASSESSMENT_SCORE_FIELDS = (
    "acceptance",
    "participation",
    "information_sharing",
    "guidance",
    "project_support",
    "competitor_attitude",
)


class RelationshipAssessment(TimeStampedModel):
    """Six 1–5 scores for one key contact and period. Private to the assessor and the people above."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="assessments")
    period = models.CharField(_("period 周期"), max_length=7, help_text=_("e.g. 2026Q4 or 2026-11"))
    assessor = models.ForeignKey(
        USER,
        verbose_name=_("assessor 评估人"),
        on_delete=models.PROTECT,
        related_name="relationship_assessments",
    )
    layer = models.CharField(
        _("layer 关系层级"), max_length=16, choices=RelationshipLayer.choices, default=RelationshipLayer.KEY
    )
    acceptance = score_field(_("acceptance of the company 接受认可度"))
    participation = score_field(_("participation in contact activities 接触活动参与度"))
    information_sharing = score_field(_("information sharing 信息传递"))
    guidance = score_field(_("guidance 项目及日常业务指导"))
    project_support = score_field(_("project support 项目支撑度"))
    competitor_attitude = score_field(_("attitude to competitors 竞争态度"))
    notes = models.TextField(_("notes 备注"), blank=True)

    SCORE_FIELDS = ASSESSMENT_SCORE_FIELDS

    class Meta:
        verbose_name = _("relationship assessment 客户关系评估")
        verbose_name_plural = _("relationship assessments 客户关系评估")
        constraints = [
            choices_check("assessment_layer_valid", "layer", RelationshipLayer),
            models.UniqueConstraint(fields=["contact", "period"], name="assessment_unique_period"),
            *[score_check(f"assessment_{f}_1_5", f) for f in ASSESSMENT_SCORE_FIELDS],
        ]

    @property
    def average(self) -> float:
        return sum(getattr(self, f) for f in self.SCORE_FIELDS) / len(self.SCORE_FIELDS)


class RelationshipPlan(TimeStampedModel):
    """Relationship targets for a customer and period (客户关系规划), with action items."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="relationship_plans")
    layer = models.CharField(
        _("layer 关系层级"), max_length=16, choices=RelationshipLayer.choices, default=RelationshipLayer.KEY
    )
    period_start = models.DateField(_("period start 期间开始"))
    period_end = models.DateField(_("period end 期间结束"))
    objective = models.TextField(_("objective 目标"))
    owner = models.ForeignKey(
        USER, verbose_name=_("owner 负责人"), on_delete=models.PROTECT, related_name="relationship_plans"
    )

    class Meta:
        verbose_name = _("relationship plan 客户关系规划")
        verbose_name_plural = _("relationship plans 客户关系规划")
        constraints = [
            choices_check("relplan_layer_valid", "layer", RelationshipLayer),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="relplan_period_order"
            ),
        ]


class RelationshipActionItem(TimeStampedModel):
    plan = models.ForeignKey(RelationshipPlan, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(_("action 行动"), max_length=200)
    owner = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="relationship_actions")
    due_on = models.DateField(_("due 截止日期"))
    done_on = models.DateField(_("done 完成日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("relationship action 关系提升行动")
        verbose_name_plural = _("relationship actions 关系提升行动")
        indexes = [models.Index(fields=["owner", "due_on"], name="relaction_owner_due")]


class VisitType(models.TextChoices):
    COMPANY_VISIT = "COMPANY_VISIT", _("Company visit 公司考察")
    EXHIBITION = "EXHIBITION", _("Exhibition / forum 展会论坛")
    REFERENCE_SITE = "REFERENCE_SITE", _("Reference-site visit 样板点参观")
    TOPIC_EXCHANGE = "TOPIC_EXCHANGE", _("Topic exchange 专题交流")
    EXECUTIVE_VISIT = "EXECUTIVE_VISIT", _("Executive visit 高层拜访")
    SPONSOR_MEETING = "SPONSOR_MEETING", _("Sponsor meeting 赞助人会见")
    EXECUTIVE_SUMMIT = "EXECUTIVE_SUMMIT", _("Executive summit 高层峰会")
    TRIP_ACCOMPANIMENT = "TRIP_ACCOMPANIMENT", _("Business-trip accompaniment 出差陪同")
    HOME_VISIT = "HOME_VISIT", _("Home visit 客户家访")
    BUSINESS_DINNER = "BUSINESS_DINNER", _("Business dinner 宴请")
    COURTESY = "COURTESY", _("Gift / courtesy 礼尚往来")
    ROUTINE = "ROUTINE", _("Routine visit 日常拜访")
    TECH_EXCHANGE = "TECH_EXCHANGE", _("Technical exchange / joint innovation 技术交流")


class Visit(TimeStampedModel):
    """A customer contact activity (客户接触活动) logged by a rep."""

    Type = VisitType

    external_id = models.CharField(_("external id 外部编号"), max_length=64, null=True, blank=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer 客户"), on_delete=models.CASCADE, related_name="visits"
    )
    rep = models.ForeignKey(
        USER, verbose_name=_("rep 拜访人"), on_delete=models.PROTECT, related_name="visits"
    )
    # The rep's org unit when the visit was logged, for subtree filters without a join.
    org_unit = models.ForeignKey("accounts.OrgUnit", on_delete=models.PROTECT, related_name="visits")
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("contacts met 接触人员"), blank=True, related_name="visits"
    )
    visited_on = models.DateField(_("date 日期"))
    visit_type = models.CharField(_("type 类型"), max_length=20, choices=Type.choices, default=Type.ROUTINE)
    purpose = models.CharField(_("purpose 目的"), max_length=255, blank=True)
    outcome = models.TextField(_("outcome 结果"), blank=True)
    next_step = models.CharField(_("next step 下一步"), max_length=255, blank=True)
    next_step_on = models.DateField(_("next step date 下一步日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("visit 客户拜访")
        verbose_name_plural = _("visits 客户拜访")
        constraints = [
            choices_check("visit_type_valid", "visit_type", VisitType),
            models.UniqueConstraint(fields=["external_id"], name="visit_external_id_unique"),
        ]
        indexes = [
            models.Index(fields=["rep", "visited_on"], name="visit_rep_date"),
            models.Index(fields=["org_unit", "visited_on"], name="visit_unit_date"),
            models.Index(fields=["customer", "visited_on"], name="visit_customer_date"),
            models.Index(fields=["updated_at", "id"], name="visit_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.get_visit_type_display()} · {self.customer} · {self.visited_on}"


class CustomerIssueStatus(models.TextChoices):
    RECEIVED = "RECEIVED", _("Received 已接收")
    HANDLING = "HANDLING", _("Handling 处理中")
    ESCALATED = "ESCALATED", _("Escalated 已升级")
    CLOSED = "CLOSED", _("Closed 已关闭")


class CustomerIssue(TimeStampedModel):
    """The voice of the customer (客户问题): received → handling → escalated → closed and evaluated."""

    Status = CustomerIssueStatus

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="issues")
    title = models.CharField(_("title 标题"), max_length=200)
    description = models.TextField(_("description 描述"), blank=True)
    raised_by = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    owner = models.ForeignKey(
        USER, verbose_name=_("owner 负责人"), on_delete=models.PROTECT, related_name="customer_issues"
    )
    status = models.CharField(
        _("status 状态"), max_length=16, choices=Status.choices, default=Status.RECEIVED
    )
    closed_at = models.DateTimeField(_("closed at 关闭时间"), null=True, blank=True)
    satisfaction = score_field(_("satisfaction 满意度"), null=True, blank=True)
    evaluation = models.TextField(_("evaluation 评价"), blank=True)

    class Meta:
        verbose_name = _("customer issue 客户问题")
        verbose_name_plural = _("customer issues 客户问题")
        constraints = [
            choices_check("customerissue_status_valid", "status", CustomerIssueStatus),
            score_check("customerissue_satisfaction_1_5", "satisfaction", nullable=True),
            models.CheckConstraint(
                condition=~models.Q(status="CLOSED")
                | models.Q(satisfaction__isnull=False, closed_at__isnull=False),
                name="customerissue_closed_is_evaluated",
            ),
        ]
        indexes = [models.Index(fields=["customer", "status"], name="customerissue_cust_status")]

    def __str__(self) -> str:
        return self.title
