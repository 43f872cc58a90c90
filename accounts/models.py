"""People and the org tree. The org tree carries a materialised path for fast subtree filters."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from ltc.models import TimeStampedModel, choices_check


class MarketType(models.TextChoices):
    BREAKTHROUGH = "BREAKTHROUGH", _("Breakthrough 盐碱地")
    NEW = "NEW", _("New market 新市场")
    MATURE = "MATURE", _("Mature market 成熟市场")


class OrgUnitKind(models.TextChoices):
    HQ = "HQ", _("Headquarters 总部")
    REGION = "REGION", _("Region 地区部")
    REP_OFFICE = "REP_OFFICE", _("Representative office 代表处")
    ACCOUNT_DEPT = "ACCOUNT_DEPT", _("Account department 系统部")


class OrgUnit(TimeStampedModel):
    Kind = OrgUnitKind

    # The level below each kind; a unit's parent must be of the level above.
    CHILD_KIND = {Kind.HQ: Kind.REGION, Kind.REGION: Kind.REP_OFFICE, Kind.REP_OFFICE: Kind.ACCOUNT_DEPT}

    external_id = models.CharField(_("external id 外部编号"), max_length=64, null=True, blank=True)
    code = models.CharField(_("code 编码"), max_length=32)
    name = models.CharField(_("name 名称"), max_length=128)
    name_en = models.CharField(_("English name 英文名称"), max_length=128, blank=True)
    kind = models.CharField(_("level 层级"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent 上级组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # "/1/4/17/": the ids from the root down to this unit. A subtree is `path__startswith`.
    path = models.CharField(_("path 路径"), max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth 深度"), default=0, editable=False)
    manager = models.ForeignKey(
        "accounts.User",
        verbose_name=_("manager 主管"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_units",
    )
    market_type = models.CharField(
        _("market type 市场类型"), max_length=16, choices=MarketType.choices, default=MarketType.NEW
    )
    is_active = models.BooleanField(_("active 有效"), default=True)

    class Meta:
        verbose_name = _("org unit 组织单元")
        verbose_name_plural = _("org units 组织单元")
        ordering = ["path"]
        constraints = [
            choices_check("orgunit_kind_valid", "kind", OrgUnitKind),
            choices_check("orgunit_market_type_valid", "market_type", MarketType),
            models.UniqueConstraint(fields=["code"], name="orgunit_code_unique"),
            models.UniqueConstraint(fields=["external_id"], name="orgunit_external_id_unique"),
            models.CheckConstraint(
                condition=models.Q(kind="HQ", parent__isnull=True) | models.Q(parent__isnull=False),
                name="orgunit_only_hq_is_root",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def subtree(self) -> models.QuerySet[OrgUnit]:
        return OrgUnit.objects.filter(path__startswith=self.path)

    def ancestors(self) -> models.QuerySet[OrgUnit]:
        ids = [int(part) for part in self.path.strip("/").split("/") if part]
        return OrgUnit.objects.filter(pk__in=ids).order_by("depth")


class UserJobRole(models.TextChoices):
    SALES_REP = "SALES_REP", _("Sales rep 客户经理")
    SOLUTION_EXPERT = "SOLUTION_EXPERT", _("Solution expert 解决方案经理")
    DELIVERY_EXPERT = "DELIVERY_EXPERT", _("Delivery expert 交付经理")
    MANAGER = "MANAGER", _("Manager 主管")
    EXECUTIVE = "EXECUTIVE", _("Executive 高管")
    ADMIN = "ADMIN", _("Administrator 管理员")


class UserLanguage(models.TextChoices):
    ZH = "zh-hans", _("简体中文")
    EN = "en", _("English")


class User(AbstractUser):
    JobRole = UserJobRole

    Language = UserLanguage

    external_id = models.CharField(_("external id 外部编号"), max_length=64, null=True, blank=True)
    full_name = models.CharField(_("full name 姓名"), max_length=128, blank=True)
    org_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("org unit 所属组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    manager = models.ForeignKey(
        "self",
        verbose_name=_("reports to 汇报对象"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    job_role = models.CharField(
        _("job role 岗位角色"), max_length=16, choices=JobRole.choices, default=JobRole.SALES_REP
    )
    preferred_language = models.CharField(
        _("preferred language 首选语言"), max_length=8, choices=Language.choices, default=Language.ZH
    )
    phone = models.CharField(_("phone 电话"), max_length=32, blank=True)
    updated_at = models.DateTimeField(_("updated at 更新时间"), auto_now=True)

    objects = UserManager()

    class Meta:
        verbose_name = _("user 用户")
        verbose_name_plural = _("users 用户")
        constraints = [
            choices_check("user_job_role_valid", "job_role", UserJobRole),
            choices_check("user_language_valid", "preferred_language", UserLanguage),
            models.UniqueConstraint(fields=["external_id"], name="user_external_id_unique"),
        ]
        indexes = [models.Index(fields=["org_unit", "job_role"], name="user_unit_role")]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def is_manager(self) -> bool:
        return self.job_role in {self.JobRole.MANAGER, self.JobRole.EXECUTIVE}

    @property
    def sees_everything(self) -> bool:
        return self.is_superuser or self.job_role == self.JobRole.ADMIN


class LoginFailure(models.Model):
    """Failed log-ins per user name and address, for the brute-force lock-out."""

    username = models.CharField(max_length=150)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    failed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("failed log-in 登录失败")
        verbose_name_plural = _("failed log-ins 登录失败")
        indexes = [models.Index(fields=["username", "ip_address", "failed_at"], name="loginfailure_lookup")]

    def __str__(self) -> str:
        return f"{self.username}@{self.ip_address} {self.failed_at:%Y-%m-%d %H:%M}"
