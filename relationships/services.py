"""Writes to customers, their teams, contacts, relationship work, budgets, visits and issues.

Every service takes the acting user (`actor`), refuses what the actor may not do (`NotAllowed`; visibility is
`relationships.selectors`), refuses invalid input or transitions (`ApplicationError` with field errors), and
names the actor in the audit history (`_history_user`) of the models that keep one.

Merging two customers spans the upper apps (leads and opportunities point to customers), so the full merge is
`pipeline.services.leads.customer_merge`; `customer_merge_relationships` here moves this app's rows only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from accounts.models import MarketType, OrgUnit, User
from accounts.selectors import scope_for
from ltc.errors import ApplicationError, NotAllowed
from relationships.models import (
    ASSESSMENT_SCORE_FIELDS,
    Contact,
    Customer,
    CustomerBudget,
    CustomerBudgetLine,
    CustomerIssue,
    CustomerTeamMember,
    Industry,
    RelationshipActionItem,
    RelationshipAssessment,
    RelationshipLayer,
    RelationshipPlan,
    TriangleRole,
    Visit,
)
from relationships.selectors import (
    contact_visible_to,
    customer_duplicates,
    customer_visible_to,
    private_notes_visible,
    visit_visible_to,
)

# Roles held by one person at most per customer (the iron triangle and the sponsor).
SINGLE_HOLDER_ROLES = (TriangleRole.AR, TriangleRole.SR, TriangleRole.FR, TriangleRole.SPONSOR)

CUSTOMER_UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "name_en",
        "tax_id",
        "industry",
        "annual_purchase",
        "currency",
        "repeat_purchase",
        "named_top_account",
        "market_type",
        "status",
        *Customer.ARCHIVE_FIELDS,
    }
)

CONTACT_UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "title",
        "department",
        "phone",
        "email",
        "level",
        "decision_role",
        "stance",
        "intimacy",
        "support_level",
        "is_coach",
        "reports_to",
        "owner",
        "private_notes",
    }
)

# Customer issue flow: received → handling → escalated → closed (closing needs a satisfaction score).
ISSUE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    CustomerIssue.Status.RECEIVED: (CustomerIssue.Status.HANDLING,),
    CustomerIssue.Status.HANDLING: (CustomerIssue.Status.ESCALATED, CustomerIssue.Status.CLOSED),
    CustomerIssue.Status.ESCALATED: (CustomerIssue.Status.HANDLING, CustomerIssue.Status.CLOSED),
    CustomerIssue.Status.CLOSED: (),
}

_PERIOD_RE = re.compile(r"^\d{4}(Q[1-4]|-(0[1-9]|1[0-2]))$")


# --- Permission helpers -----------------------------------------------------------------------------------


def _not_visible() -> NotAllowed:
    return NotAllowed(_("You cannot see this customer. 您无权查看该客户。"))


def customer_require_visible(*, actor: User, customer: Customer) -> None:
    """Refuse (NotAllowed) unless the actor may see the customer: owner, on its team, or above in the tree."""
    if not customer_visible_to(actor).filter(pk=customer.pk).exists():
        raise _not_visible()


def _require_manager_of(actor: User, unit: OrgUnit, message: Any) -> None:
    scope = scope_for(actor)
    if scope.everything:
        return
    if not (actor.is_manager or actor.managed_units.exists()) or not scope.covers_unit(unit):
        raise NotAllowed(message)


def _check_choice(field: str, value: str, choices: Iterable[str], errors: dict[str, list]) -> None:
    if value not in set(choices):
        errors.setdefault(field, []).append(_("Not a valid choice. 选项无效。"))


def _raise_if(errors: dict[str, list]) -> None:
    if errors:
        raise ApplicationError(_("Please correct the errors below. 请更正以下错误。"), extra=errors)


def _required(value: str | None) -> list:
    return [] if (value or "").strip() else [_("This field is required. 此项必填。")]


def _normalise_tax_id(tax_id: str | None) -> str | None:
    if tax_id is None:
        return None
    cleaned = re.sub(r"\s+", "", tax_id).upper()
    return cleaned or None


# --- Customers -----------------------------------------------------------------------------------------


def customer_archive_completeness(customer: Customer) -> int:
    """Percent of the archive fields (Customer.ARCHIVE_FIELDS) that are filled in (信息完整度)."""
    filled = sum(1 for field in Customer.ARCHIVE_FIELDS if (getattr(customer, field) or "").strip())
    return round(100 * filled / len(Customer.ARCHIVE_FIELDS))


def customer_suggest_tier(customer: Customer) -> str:
    """The tier the thresholds suggest (settings.LTC["TIER_THRESHOLDS"], annual purchase in CNY).

    S: at or above the S threshold, or a named top account; A: at or above A; B: at or above B with repeat
    purchases; else C.
    """
    thresholds = settings.LTC["TIER_THRESHOLDS"]
    amount = Decimal(customer.annual_purchase or 0)
    if customer.named_top_account or amount >= Decimal(thresholds["S"]):
        return Customer.Tier.S
    if amount >= Decimal(thresholds["A"]):
        return Customer.Tier.A
    if amount >= Decimal(thresholds["B"]) and customer.repeat_purchase:
        return Customer.Tier.B
    return Customer.Tier.C


def _duplicate_error(candidates: Sequence[Customer], actor: User, *, by_tax_id: bool) -> ApplicationError:
    # Only the candidates the actor may see are named; the refusal itself stands for all of them.
    visible = set(
        customer_visible_to(actor).filter(pk__in=[c.pk for c in candidates]).values_list("pk", flat=True)
    )
    if by_tax_id:
        message = _("A customer with this tax id already exists. 已存在相同纳税人识别号的客户。")
        field = "tax_id"
    else:
        message = _("A customer with the same or a similar name already exists. 已存在同名或名称相似的客户。")
        field = "name"
    return ApplicationError(
        message,
        extra={field: [message], "duplicates": sorted(visible)},
        code="duplicate",
    )


def _validate_customer_fields(fields: Mapping[str, Any], errors: dict[str, list]) -> None:
    if "name" in fields and _required(fields["name"]):
        errors["name"] = _required(fields["name"])
    if "industry" in fields:
        _check_choice("industry", fields["industry"], Industry.values, errors)
    if "status" in fields:
        _check_choice("status", fields["status"], Customer.Status.values, errors)
    if "market_type" in fields:
        _check_choice("market_type", fields["market_type"], MarketType.values, errors)
    if "annual_purchase" in fields and Decimal(fields["annual_purchase"]) < 0:
        errors.setdefault("annual_purchase", []).append(_("Must not be negative. 不能为负数。"))
    if "currency" in fields and not re.fullmatch(r"[A-Z]{3}", fields["currency"] or ""):
        errors.setdefault("currency", []).append(_("A three-letter currency code. 三位币种代码。"))
    for field in Customer.ARCHIVE_FIELDS:
        if field in fields and not isinstance(fields[field], str):
            errors.setdefault(field, []).append(_("Text expected. 需要文本。"))


@transaction.atomic
def customer_create(
    *,
    actor: User,
    name: str,
    account_dept: OrgUnit,
    name_en: str = "",
    tax_id: str | None = None,
    industry: str = Industry.OTHER,
    owner: User | None = None,
    annual_purchase: Decimal = Decimal(0),
    currency: str = "CNY",
    repeat_purchase: bool = False,
    named_top_account: bool = False,
    market_type: str | None = None,
    status: str = Customer.Status.ACTIVE,
    external_id: str | None = None,
    allow_duplicate: bool = False,
    **archive: str,
) -> Customer:
    """Create a customer in an account department the actor belongs to or manages.

    Refuses a duplicate (code "duplicate", candidate ids in `extra["duplicates"]`): the same tax id always
    (the database keeps tax ids unique), the same or a similar name unless `allow_duplicate`. The owner (AR)
    defaults to the actor; the tier is the suggested one; archive fields are passed by name.
    """
    errors: dict[str, list] = {}
    unknown = set(archive) - set(Customer.ARCHIVE_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(fields)s. 未知字段。") % {"fields": ", ".join(sorted(unknown))},
            extra={field: [_("Unknown field. 未知字段。")] for field in sorted(unknown)},
        )
    market_type = market_type or account_dept.market_type
    _validate_customer_fields(
        {
            "name": name,
            "industry": industry,
            "status": status,
            "market_type": market_type,
            "annual_purchase": annual_purchase,
            "currency": currency,
            **archive,
        },
        errors,
    )
    if account_dept.kind != OrgUnit.Kind.ACCOUNT_DEPT:
        errors.setdefault("account_dept", []).append(
            _("Customers belong to an account department. 客户须归属系统部。")
        )
    _raise_if(errors)
    scope = scope_for(actor)
    if not (scope.covers_unit(account_dept) or actor.org_unit_id == account_dept.pk):
        raise NotAllowed(
            _("You may only create customers in your own account department. 您只能在本系统部创建客户。")
        )
    tax_id = _normalise_tax_id(tax_id)
    if external_id and Customer.objects.filter(external_id=external_id).exists():
        raise ApplicationError(
            _("A customer with this external id already exists. 外部编号已存在。"),
            extra={"external_id": [_("Already used. 已被使用。")]},
            code="duplicate",
        )
    if tax_id:
        same_tax = list(Customer.objects.filter(tax_id=tax_id))
        if same_tax:
            raise _duplicate_error(same_tax, actor, by_tax_id=True)
    if not allow_duplicate:
        similar = customer_duplicates(name=name)
        if similar:
            raise _duplicate_error(similar, actor, by_tax_id=False)

    customer = Customer(
        name=name.strip(),
        name_en=name_en,
        tax_id=tax_id,
        industry=industry,
        account_dept=account_dept,
        owner=owner or actor,
        annual_purchase=annual_purchase,
        currency=currency,
        repeat_purchase=repeat_purchase,
        named_top_account=named_top_account,
        market_type=market_type,
        status=status,
        external_id=external_id,
        **archive,
    )
    customer.tier = customer_suggest_tier(customer)
    customer.archive_completeness = customer_archive_completeness(customer)
    customer._history_user = actor  # type: ignore[attr-defined]
    customer.save()
    return customer


@transaction.atomic
def customer_update(*, actor: User, customer: Customer, **fields: Any) -> Customer:
    """Change a customer's details or archive; recomputes archive completeness, and the tier unless a manager
    has set it by hand. The tier itself changes only through `customer_set_tier`; the AR through
    `customer_team_set`."""
    unknown = set(fields) - CUSTOMER_UPDATABLE_FIELDS
    if unknown:
        raise ApplicationError(
            _("These fields cannot be changed here: %(fields)s. 这些字段不能在此修改。")
            % {"fields": ", ".join(sorted(unknown))},
            extra={field: [_("Not editable here. 此处不可修改。")] for field in sorted(unknown)},
        )
    customer_require_visible(actor=actor, customer=customer)
    errors: dict[str, list] = {}
    _validate_customer_fields(fields, errors)
    _raise_if(errors)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if "tax_id" in fields:
        fields["tax_id"] = _normalise_tax_id(fields["tax_id"])
        if fields["tax_id"]:
            same_tax = list(Customer.objects.filter(tax_id=fields["tax_id"]).exclude(pk=customer.pk))
            if same_tax:
                raise _duplicate_error(same_tax, actor, by_tax_id=True)
    if "name" in fields:
        fields["name"] = fields["name"].strip()
    changed = [field for field, value in fields.items() if getattr(customer, field) != value]
    if not changed:
        return customer
    for field in changed:
        setattr(customer, field, fields[field])
    update_fields = set(changed)
    completeness = customer_archive_completeness(customer)
    if completeness != customer.archive_completeness:
        customer.archive_completeness = completeness
        update_fields.add("archive_completeness")
    if customer.tier_overridden_by_id is None and not customer.tier_override_reason:
        tier = customer_suggest_tier(customer)
        if tier != customer.tier:
            customer.tier = tier
            update_fields.add("tier")
    customer._history_user = actor  # type: ignore[attr-defined]
    customer.save(update_fields=[*sorted(update_fields), "updated_at"])
    return customer


@transaction.atomic
def customer_set_tier(*, actor: User, customer: Customer, tier: str, reason: str) -> Customer:
    """A manager's override of the suggested tier, with a required reason. Only managers, executives and
    admins whose scope covers the customer's account department may do it."""
    errors: dict[str, list] = {}
    _check_choice("tier", tier, Customer.Tier.values, errors)
    if _required(reason):
        errors["reason"] = [_("A reason is required to override the tier. 调整客户等级必须填写原因。")]
    _raise_if(errors)
    customer = (
        Customer.objects.select_for_update(of=("self",)).select_related("account_dept").get(pk=customer.pk)
    )
    _require_manager_of(
        actor,
        customer.account_dept,
        _("Only a manager above this customer may change its tier. 只有该客户的上级主管可以调整客户等级。"),
    )
    reason = reason.strip()[:255]
    if (customer.tier, customer.tier_override_reason, customer.tier_overridden_by_id) == (
        tier,
        reason,
        actor.pk,
    ):
        return customer
    customer.tier = tier
    customer.tier_override_reason = reason
    customer.tier_overridden_by = actor
    customer._history_user = actor  # type: ignore[attr-defined]
    customer._change_reason = reason  # type: ignore[attr-defined]
    customer.save(update_fields=["tier", "tier_override_reason", "tier_overridden_by", "updated_at"])
    return customer


# --- Customer team (the iron triangle) ---------------------------------------------------------------------


def _require_team_manager(actor: User, customer: Customer) -> None:
    scope = scope_for(actor)
    if scope.everything or customer.owner_id == actor.pk or scope.covers_unit(customer.account_dept):
        return
    raise NotAllowed(
        _(
            "Only the customer's AR or a manager above may change its team. 只有客户经理或上级主管可以调整客户铁三角。"
        )
    )


@transaction.atomic
def customer_team_set(*, actor: User, customer: Customer, user: User, role: str) -> CustomerTeamMember:
    """Put `user` on the customer's team in `role`. AR, SR, FR and sponsor have one holder each: setting one
    replaces the previous holder; the AR is also the customer's owner. Setting what is already set changes
    nothing."""
    errors: dict[str, list] = {}
    _check_choice("role", role, TriangleRole.values, errors)
    if not user.is_active:
        errors.setdefault("user", []).append(_("This user is not active. 该用户已停用。"))
    _raise_if(errors)
    customer = (
        Customer.objects.select_for_update(of=("self",)).select_related("account_dept").get(pk=customer.pk)
    )
    _require_team_manager(actor, customer)
    existing = CustomerTeamMember.objects.filter(customer=customer, user=user, role=role).first()
    if existing is None:
        if role in SINGLE_HOLDER_ROLES:
            for previous in CustomerTeamMember.objects.filter(customer=customer, role=role):
                previous._history_user = actor  # type: ignore[attr-defined]
                previous.delete()
        member = CustomerTeamMember(customer=customer, user=user, role=role)
        member._history_user = actor  # type: ignore[attr-defined]
        member.save()
    else:
        member = existing
    if role == TriangleRole.AR and customer.owner_id != user.pk:
        customer.owner = user
        customer._history_user = actor  # type: ignore[attr-defined]
        customer.save(update_fields=["owner", "updated_at"])
    return member


@transaction.atomic
def customer_team_remove(*, actor: User, customer: Customer, user: User, role: str) -> None:
    """Take `user` off the customer's team in `role` (nothing happens if they were not on it)."""
    customer = (
        Customer.objects.select_for_update(of=("self",)).select_related("account_dept").get(pk=customer.pk)
    )
    _require_team_manager(actor, customer)
    for member in CustomerTeamMember.objects.filter(customer=customer, user=user, role=role):
        member._history_user = actor  # type: ignore[attr-defined]
        member.delete()
    if role == TriangleRole.AR and customer.owner_id == user.pk:
        customer.owner = None
        customer._history_user = actor  # type: ignore[attr-defined]
        customer.save(update_fields=["owner", "updated_at"])


# --- Contacts --------------------------------------------------------------------------------------------


def _validate_contact_fields(fields: Mapping[str, Any], customer: Customer, errors: dict[str, list]) -> None:
    if "name" in fields and _required(fields["name"]):
        errors["name"] = _required(fields["name"])
    if "level" in fields:
        _check_choice("level", fields["level"], Contact.Level.values, errors)
    if "decision_role" in fields:
        _check_choice("decision_role", fields["decision_role"], Contact.DecisionRole.values, errors)
    if "stance" in fields:
        _check_choice("stance", fields["stance"], Contact.Stance.values, errors)
    for field in ("intimacy", "support_level"):
        if field in fields and not (isinstance(fields[field], int) and 1 <= fields[field] <= 5):
            errors.setdefault(field, []).append(_("A score from 1 to 5. 请填写1到5的分数。"))
    reports_to = fields.get("reports_to")
    if reports_to is not None and reports_to.customer_id != customer.pk:
        errors.setdefault("reports_to", []).append(
            _("The superior must be a contact of the same customer. 上级须为同一客户的联系人。")
        )


@transaction.atomic
def contact_create(
    *,
    actor: User,
    customer: Customer,
    name: str,
    title: str = "",
    department: str = "",
    phone: str = "",
    email: str = "",
    level: str = Contact.Level.MIDDLE,
    decision_role: str = Contact.DecisionRole.INFLUENCER,
    stance: str = Contact.Stance.NEUTRAL,
    intimacy: int = 1,
    support_level: int = 3,
    is_coach: bool = False,
    reports_to: Contact | None = None,
    owner: User | None = None,
    private_notes: str = "",
    external_id: str | None = None,
) -> Contact:
    """Add a contact to the customer's power map. The owner (who keeps the private card) defaults to the
    actor. Safe to repeat with the same `external_id`: the second call returns the first contact."""
    customer_require_visible(actor=actor, customer=customer)
    if external_id:
        existing = Contact.objects.filter(external_id=external_id).first()
        if existing is not None:
            if existing.customer_id != customer.pk:
                raise ApplicationError(
                    _("A contact with this external id already exists. 外部编号已存在。"),
                    extra={"external_id": [_("Already used. 已被使用。")]},
                    code="duplicate",
                )
            return existing
    fields = {
        "name": name,
        "level": level,
        "decision_role": decision_role,
        "stance": stance,
        "intimacy": intimacy,
        "support_level": support_level,
        "reports_to": reports_to,
    }
    errors: dict[str, list] = {}
    _validate_contact_fields(fields, customer, errors)
    _raise_if(errors)
    contact = Contact(
        customer=customer,
        name=name.strip(),
        title=title,
        department=department,
        phone=phone,
        email=email,
        level=level,
        decision_role=decision_role,
        stance=stance,
        intimacy=intimacy,
        support_level=support_level,
        is_coach=is_coach,
        reports_to=reports_to,
        owner=owner or actor,
        private_notes=private_notes,
        external_id=external_id,
    )
    contact._history_user = actor  # type: ignore[attr-defined]
    contact.save()
    return contact


@transaction.atomic
def contact_update(*, actor: User, contact: Contact, **fields: Any) -> Contact:
    """Change a contact. The private relationship card (`private_notes`) may be changed only by those who
    may read it: the contact's owner and the people above the owner."""
    unknown = set(fields) - CONTACT_UPDATABLE_FIELDS
    if unknown:
        raise ApplicationError(
            _("These fields cannot be changed here: %(fields)s. 这些字段不能在此修改。")
            % {"fields": ", ".join(sorted(unknown))},
            extra={field: [_("Not editable here. 此处不可修改。")] for field in sorted(unknown)},
        )
    if not contact_visible_to(actor).filter(pk=contact.pk).exists():
        raise NotAllowed(_("You cannot see this contact. 您无权查看该联系人。"))
    contact = (
        Contact.objects.select_for_update(of=("self",)).select_related("customer", "owner").get(pk=contact.pk)
    )
    if ("private_notes" in fields or "owner" in fields) and not private_notes_visible(actor, contact):
        raise NotAllowed(
            _(
                "Only the contact's owner and those above may change the private card. 只有负责人及其上级可以修改私人关系卡片。"
            )
        )
    errors: dict[str, list] = {}
    _validate_contact_fields(fields, contact.customer, errors)
    if fields.get("reports_to") is not None and fields["reports_to"].pk == contact.pk:
        errors.setdefault("reports_to", []).append(_("A contact cannot report to itself. 不能以自己为上级。"))
    _raise_if(errors)
    changed = [field for field, value in fields.items() if getattr(contact, field) != value]
    if not changed:
        return contact
    for field in changed:
        setattr(contact, field, fields[field])
    contact._history_user = actor  # type: ignore[attr-defined]
    contact.save(update_fields=[*changed, "updated_at"])
    return contact


# --- Relationship assessments and plans -------------------------------------------------------------------


@transaction.atomic
def relationship_assessment_record(
    *,
    actor: User,
    contact: Contact,
    period: str,
    acceptance: int,
    participation: int,
    information_sharing: int,
    guidance: int,
    project_support: int,
    competitor_attitude: int,
    layer: str = RelationshipLayer.KEY,
    notes: str = "",
) -> RelationshipAssessment:
    """Record the six 1–5 scores for a contact and period (e.g. "2026Q4" or "2026-11"). One assessment per
    contact and period: recording again updates it, which only its assessor or someone above may do."""
    scores = {
        "acceptance": acceptance,
        "participation": participation,
        "information_sharing": information_sharing,
        "guidance": guidance,
        "project_support": project_support,
        "competitor_attitude": competitor_attitude,
    }
    errors: dict[str, list] = {}
    for field in ASSESSMENT_SCORE_FIELDS:
        if not (isinstance(scores[field], int) and 1 <= scores[field] <= 5):
            errors[field] = [_("A score from 1 to 5. 请填写1到5的分数。")]
    if not _PERIOD_RE.match(period or ""):
        errors["period"] = [_("A period like 2026Q4 or 2026-11. 周期格式如2026Q4或2026-11。")]
    _check_choice("layer", layer, RelationshipLayer.values, errors)
    _raise_if(errors)
    if not contact_visible_to(actor).filter(pk=contact.pk).exists():
        raise NotAllowed(_("You cannot see this contact. 您无权查看该联系人。"))
    existing = (
        RelationshipAssessment.objects.select_for_update(of=("self",))
        .select_related("assessor__org_unit")
        .filter(contact=contact, period=period)
        .first()
    )
    if existing is None:
        try:
            with transaction.atomic():
                return RelationshipAssessment.objects.create(
                    contact=contact, period=period, assessor=actor, layer=layer, notes=notes, **scores
                )
        except IntegrityError:
            # Someone recorded the same contact and period at the same moment: update theirs below.
            existing = RelationshipAssessment.objects.select_for_update().get(contact=contact, period=period)
    if not scope_for(actor).covers_user(existing.assessor):
        raise NotAllowed(_("This period was assessed by someone else. 该周期已由他人评估。"))
    for field, value in {**scores, "layer": layer, "notes": notes}.items():
        setattr(existing, field, value)
    existing.save(update_fields=[*scores, "layer", "notes", "updated_at"])
    return existing


def _action_errors(title: str, owner: User | None, due_on: dt.date | None) -> list:
    problems = []
    if _required(title):
        problems.append(_("Each action needs a title. 每项行动须有标题。"))
    if owner is None or not owner.is_active:
        problems.append(_("Each action needs an active owner. 每项行动须有在职负责人。"))
    if due_on is None:
        problems.append(_("Each action needs a due date. 每项行动须有截止日期。"))
    return problems


@transaction.atomic
def relationship_plan_create(
    *,
    actor: User,
    customer: Customer,
    objective: str,
    period_start: dt.date,
    period_end: dt.date,
    layer: str = RelationshipLayer.KEY,
    owner: User | None = None,
    actions: Sequence[Mapping[str, Any]] = (),
) -> RelationshipPlan:
    """A relationship plan for a customer and period, with action items given as
    `{"title": ..., "owner": User, "due_on": date}` (the owner defaults to the plan's owner)."""
    customer_require_visible(actor=actor, customer=customer)
    owner = owner or actor
    errors: dict[str, list] = {}
    if _required(objective):
        errors["objective"] = _required(objective)
    if period_end < period_start:
        errors["period_end"] = [_("The period ends before it starts. 结束日期早于开始日期。")]
    _check_choice("layer", layer, RelationshipLayer.values, errors)
    for action in actions:
        problems = _action_errors(action.get("title", ""), action.get("owner", owner), action.get("due_on"))
        if problems:
            errors.setdefault("actions", []).extend(problems)
    _raise_if(errors)
    plan = RelationshipPlan.objects.create(
        customer=customer,
        layer=layer,
        period_start=period_start,
        period_end=period_end,
        objective=objective.strip(),
        owner=owner,
    )
    RelationshipActionItem.objects.bulk_create(
        [
            RelationshipActionItem(
                plan=plan, title=a["title"].strip(), owner=a.get("owner", owner), due_on=a["due_on"]
            )
            for a in actions
        ]
    )
    return plan


@transaction.atomic
def relationship_action_add(
    *, actor: User, plan: RelationshipPlan, title: str, due_on: dt.date, owner: User | None = None
) -> RelationshipActionItem:
    customer_require_visible(actor=actor, customer=plan.customer)
    owner = owner or plan.owner
    problems = _action_errors(title, owner, due_on)
    if problems:
        raise ApplicationError(problems[0], extra={"title": problems})
    return RelationshipActionItem.objects.create(plan=plan, title=title.strip(), owner=owner, due_on=due_on)


@transaction.atomic
def relationship_action_complete(
    *, actor: User, action: RelationshipActionItem, done_on: dt.date | None = None
) -> RelationshipActionItem:
    """Mark an action item done (its completion rate is a KPI). The action's owner, the plan's owner and the
    people above them may do it. Completing a done action keeps its first completion date."""
    action = (
        RelationshipActionItem.objects.select_for_update(of=("self",))
        .select_related("plan__customer", "plan__owner__org_unit", "owner__org_unit")
        .get(pk=action.pk)
    )
    scope = scope_for(actor)
    if not (scope.covers_user(action.owner) or scope.covers_user(action.plan.owner)):
        raise NotAllowed(
            _(
                "Only the action's owner or those above may complete it. 只有行动负责人或其上级可以完成该行动。"
            )
        )
    if action.done_on is not None:
        return action
    done_on = done_on or timezone.localdate()
    if done_on > timezone.localdate():
        raise ApplicationError(
            _("An action cannot be done in the future. 完成日期不能晚于今天。"),
            extra={"done_on": [_("In the future. 晚于今天。")]},
        )
    action.done_on = done_on
    action.save(update_fields=["done_on", "updated_at"])
    return action


# --- Customer budgets --------------------------------------------------------------------------------------


@transaction.atomic
def customer_budget_record(
    *,
    actor: User,
    customer: Customer,
    year: int,
    total_amount: Decimal,
    lines: Mapping[str, Decimal] | None = None,
    currency: str = "CNY",
    obtained_on: dt.date | None = None,
) -> CustomerBudget:
    """Record the customer's investment budget for a year, with its planned areas (`{area: amount}`).
    Recording the same year again replaces the figures and lines; the first obtained date is kept unless
    a new one is given (obtaining it by year-end is a KPI)."""
    customer_require_visible(actor=actor, customer=customer)
    lines = {area.strip(): Decimal(amount) for area, amount in (lines or {}).items()}
    total_amount = Decimal(total_amount)
    errors: dict[str, list] = {}
    if not (2000 <= year <= 2100):
        errors["year"] = [_("A year between 2000 and 2100. 年度须在2000到2100之间。")]
    if total_amount < 0:
        errors["total_amount"] = [_("Must not be negative. 不能为负数。")]
    if any(not area for area in lines) or any(amount < 0 for amount in lines.values()):
        errors["lines"] = [_("Each line needs an area and a non-negative amount. 每行须有领域和非负金额。")]
    elif sum(lines.values(), Decimal(0)) > total_amount:
        errors["lines"] = [_("The lines add up to more than the total. 明细合计超过预算总额。")]
    if not re.fullmatch(r"[A-Z]{3}", currency or ""):
        errors["currency"] = [_("A three-letter currency code. 三位币种代码。")]
    _raise_if(errors)
    budget, created = CustomerBudget.objects.select_for_update().get_or_create(
        customer=customer,
        year=year,
        defaults={
            "total_amount": total_amount,
            "currency": currency,
            "obtained_on": obtained_on or timezone.localdate(),
            "obtained_by": actor,
        },
    )
    if not created:
        budget.total_amount = total_amount
        budget.currency = currency
        if obtained_on is not None:
            budget.obtained_on, budget.obtained_by = obtained_on, actor
        budget.save(update_fields=["total_amount", "currency", "obtained_on", "obtained_by", "updated_at"])
        budget.lines.all().delete()
    CustomerBudgetLine.objects.bulk_create(
        [CustomerBudgetLine(budget=budget, area=area, amount=amount) for area, amount in lines.items()]
    )
    return budget


# --- Visits ---------------------------------------------------------------------------------------------------


@transaction.atomic
def visit_log(
    *,
    actor: User,
    customer: Customer,
    visited_on: dt.date | None = None,
    visit_type: str = Visit.Type.ROUTINE,
    contacts: Iterable[Contact] = (),
    purpose: str = "",
    outcome: str = "",
    next_step: str = "",
    next_step_on: dt.date | None = None,
    external_id: str | None = None,
) -> Visit:
    """Log a visit by the actor (the rep) to a customer they may see, dated today unless told.

    Safe to send twice with the same `external_id` (a phone retrying): the second call returns the first visit.
    """
    customer_require_visible(actor=actor, customer=customer)
    if external_id:
        existing = Visit.objects.filter(external_id=external_id).first()
        if existing is not None:
            if existing.rep_id != actor.pk or existing.customer_id != customer.pk:
                raise ApplicationError(
                    _("A visit with this external id already exists. 外部编号已存在。"),
                    extra={"external_id": [_("Already used. 已被使用。")]},
                    code="duplicate",
                )
            return existing
    today = timezone.localdate()
    visited_on = visited_on or today
    contacts = list(contacts)
    errors: dict[str, list] = {}
    _check_choice("visit_type", visit_type, Visit.Type.values, errors)
    if visited_on > today:
        errors["visited_on"] = [_("A visit cannot be logged in the future. 拜访日期不能晚于今天。")]
    if next_step_on is not None and next_step_on < visited_on:
        errors["next_step_on"] = [_("The next step comes after the visit. 下一步日期不能早于拜访日期。")]
    if any(contact.customer_id != customer.pk for contact in contacts):
        errors["contacts"] = [_("Contacts must belong to this customer. 联系人须属于该客户。")]
    if actor.org_unit_id is None:
        errors["rep"] = [_("You are not in an org unit. 您未归属任何组织。")]
    _raise_if(errors)
    visit = Visit.objects.create(
        customer=customer,
        rep=actor,
        org_unit_id=actor.org_unit_id,
        visited_on=visited_on,
        visit_type=visit_type,
        purpose=purpose,
        outcome=outcome,
        next_step=next_step,
        next_step_on=next_step_on,
        external_id=external_id,
    )
    if contacts:
        visit.contacts.set(contacts)
    return visit


def visit_require_visible(*, actor: User, visit: Visit) -> None:
    if not visit_visible_to(actor).filter(pk=visit.pk).exists():
        raise NotAllowed(_("You cannot see this visit. 您无权查看该拜访记录。"))


# --- Customer issues --------------------------------------------------------------------------------------


@transaction.atomic
def customer_issue_create(
    *,
    actor: User,
    customer: Customer,
    title: str,
    description: str = "",
    raised_by: Contact | None = None,
    owner: User | None = None,
) -> CustomerIssue:
    """Receive a customer issue (the voice of the customer); the owner defaults to the actor."""
    customer_require_visible(actor=actor, customer=customer)
    errors: dict[str, list] = {}
    if _required(title):
        errors["title"] = _required(title)
    if raised_by is not None and raised_by.customer_id != customer.pk:
        errors["raised_by"] = [_("The contact must belong to this customer. 联系人须属于该客户。")]
    _raise_if(errors)
    return CustomerIssue.objects.create(
        customer=customer,
        title=title.strip(),
        description=description,
        raised_by=raised_by,
        owner=owner or actor,
    )


@transaction.atomic
def customer_issue_transition(
    *,
    actor: User,
    issue: CustomerIssue,
    to_status: str,
    satisfaction: int | None = None,
    evaluation: str = "",
) -> CustomerIssue:
    """Move an issue along received → handling → escalated (→ back to handling) → closed. Closing needs the
    customer's satisfaction (1–5). Asking for the status the issue already has changes nothing."""
    errors: dict[str, list] = {}
    _check_choice("to_status", to_status, CustomerIssue.Status.values, errors)
    _raise_if(errors)
    issue = CustomerIssue.objects.select_for_update(of=("self",)).select_related("customer").get(pk=issue.pk)
    customer_require_visible(actor=actor, customer=issue.customer)
    if issue.status == to_status:
        return issue
    if to_status not in ISSUE_TRANSITIONS[issue.status]:
        raise ApplicationError(
            _("An issue cannot go from %(from)s to %(to)s. 客户问题状态不能这样变更。")
            % {"from": issue.status, "to": to_status},
            extra={"to_status": [_("Not allowed from the current status. 当前状态不允许。")]},
            code="invalid_transition",
        )
    update_fields = ["status", "updated_at"]
    if to_status == CustomerIssue.Status.CLOSED:
        if not (isinstance(satisfaction, int) and 1 <= satisfaction <= 5):
            raise ApplicationError(
                _(
                    "Closing an issue needs the customer's satisfaction (1–5). 关闭客户问题须填写满意度（1–5）。"
                ),
                extra={"satisfaction": [_("A score from 1 to 5. 请填写1到5的分数。")]},
            )
        issue.satisfaction = satisfaction
        issue.evaluation = evaluation
        issue.closed_at = timezone.now()
        update_fields += ["satisfaction", "evaluation", "closed_at"]
    issue.status = to_status
    issue.save(update_fields=update_fields)
    return issue


# --- Merging (this app's part) ---------------------------------------------------------------------------------


def customer_merge_blockers(source: Customer, *, moved_by_caller: Iterable[str] = ()) -> list[str]:
    """The kinds of rows of other apps (leads, opportunities, contracts, KPI targets…) that still point to
    `source`, leaving out the apps the caller moves itself. Found through the model graph, so this app
    names no upper app."""
    skip = {"relationships", *moved_by_caller}
    blockers = []
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if model._meta.app_label in skip or not relation.field.concrete:
            continue
        if model._base_manager.filter(**{relation.field.name: source}).exists():
            blockers.append(str(model._meta.verbose_name_plural))
    return sorted(set(blockers))


@transaction.atomic
def customer_merge_relationships(*, actor: User, source: Customer, target: Customer) -> dict[str, Any]:
    """Move this app's rows of `source` to `target` and delete `source`; the audit history keeps it.

    This is the lower half of `pipeline.services.leads.customer_merge`, which checks who may merge and moves
    leads and opportunities first; call that one. If rows of an upper app still point to the source, the
    delete is refused and nothing is written. Where both customers hold the same natural key (a budget year,
    a one-holder team role), the target's row wins and the source's is dropped; the summary says which.
    """
    if source.pk == target.pk:
        raise ApplicationError(
            _("A customer cannot be merged into itself. 客户不能与自身合并。"), code="invalid"
        )
    source = Customer.objects.select_for_update().get(pk=source.pk)
    target = Customer.objects.select_for_update().get(pk=target.pk)
    blockers = customer_merge_blockers(source)
    if blockers:
        raise ApplicationError(
            _(
                "Records of other stages still point to the customer being merged: %(kinds)s. 仍有其他业务记录引用被合并的客户：%(kinds)s。"
            )
            % {"kinds": ", ".join(blockers)},
            extra={"source": blockers},
            code="merge_blocked",
        )
    summary: dict[str, Any] = {"source": source.pk, "target": target.pk}

    summary["contacts"] = _move_with_history(Contact, source, target, actor)
    summary["visits"] = Visit.objects.filter(customer=source).update(customer=target)
    summary["issues"] = CustomerIssue.objects.filter(customer=source).update(customer=target)
    summary["plans"] = RelationshipPlan.objects.filter(customer=source).update(customer=target)
    summary["events"] = source.events.update(customer=target)

    target_years = set(target.budgets.values_list("year", flat=True))
    summary["budgets"] = source.budgets.exclude(year__in=target_years).update(customer=target)
    summary["budget_years_dropped"] = sorted(
        source.budgets.filter(year__in=target_years).values_list("year", flat=True)
    )

    target_team = list(CustomerTeamMember.objects.filter(customer=target).values_list("user_id", "role"))
    taken_roles = {role for _user, role in target_team if role in SINGLE_HOLDER_ROLES}
    movable, dropped = [], []
    for member in CustomerTeamMember.objects.filter(customer=source):
        if (member.user_id, member.role) in target_team or member.role in taken_roles:
            dropped.append(member.pk)
        else:
            member.customer = target
            movable.append(member)
    if movable:
        bulk_update_with_history(movable, CustomerTeamMember, ["customer"], default_user=actor)
    summary["team"] = len(movable)
    summary["team_dropped"] = len(dropped)

    # Fill what the target lacks from the source: archive text, tax id, external id.
    update_fields: set[str] = set()
    for field in Customer.ARCHIVE_FIELDS:
        if not (getattr(target, field) or "").strip() and (getattr(source, field) or "").strip():
            setattr(target, field, getattr(source, field))
            update_fields.add(field)
    carried = {}
    for field in ("tax_id", "external_id"):
        if not getattr(target, field) and getattr(source, field):
            carried[field] = getattr(source, field)

    source_pk = source.pk
    source._history_user = actor  # type: ignore[attr-defined]
    source._change_reason = f"merged into customer {target.pk}"  # type: ignore[attr-defined]
    source.delete()
    for field, value in carried.items():
        setattr(target, field, value)
        update_fields.add(field)
    completeness = customer_archive_completeness(target)
    if completeness != target.archive_completeness:
        target.archive_completeness = completeness
        update_fields.add("archive_completeness")
    target._history_user = actor  # type: ignore[attr-defined]
    target._change_reason = f"merged customer {source_pk} ({source.name})"  # type: ignore[attr-defined]
    target.save(update_fields=[*sorted(update_fields), "updated_at"])
    return summary


def _move_with_history(model: type, source: Customer, target: Customer, actor: User) -> int:
    rows = list(model.objects.filter(customer=source))
    for row in rows:
        row.customer = target
    if rows:
        bulk_update_with_history(rows, model, ["customer"], default_user=actor)
    return len(rows)
