"""Lead writes: create (with duplicate warnings), qualify, nurture, the weekly review, convert, close, merge;
the weekly review reminders; and the full customer merge (leads and opportunities sit above customers).

Who may act on a lead: its owner (who found it), its nurturer, and the managers above them or above the lead's
org unit (admins too). Everyone else is refused with `NotAllowed`. Every state change locks the lead row,
records a `LeadTransition` (from, to, actor, reason) and names the actor in the lead's audit history.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from accounts.models import User
from accounts.selectors import scope_for
from ltc.errors import ApplicationError, NotAllowed
from ltc.events import emit_for
from pipeline.models import (
    Lead,
    LeadQualification,
    LeadReview,
    LeadReviewReminder,
    LeadTransition,
    Opportunity,
)
from pipeline.selectors import lead_visible_to
from pipeline.services.opportunities import opportunity_create
from relationships.models import Customer, Visit
from relationships.selectors import name_key, similar_names, week_start
from relationships.services import (
    customer_merge_blockers,
    customer_merge_relationships,
    customer_require_visible,
    visit_require_visible,
)

OPEN_STATUSES = tuple(Lead.OPEN_STATUSES)
QUALIFICATION_SCORE_FIELDS = ("is_lead_score", "how_far_score", "can_win_score")
QUALIFICATION_ANSWER_FIELDS = ("is_lead_answer", "how_far_answer", "can_win_answer")


# --- Helpers ----------------------------------------------------------------------------------------------


def lead_may_act(actor: User, lead: Lead) -> bool:
    """The owner, the nurturer, managers above either of them or above the lead's org unit, and admins."""
    scope = scope_for(actor)
    if scope.everything:
        return True
    if actor.pk is not None and actor.pk in (lead.owner_id, lead.nurturer_id):
        return True
    if scope.covers_unit(lead.org_unit):
        return True
    if scope.covers_user(lead.owner):
        return True
    return lead.nurturer_id is not None and scope.covers_user(lead.nurturer)


def _require_may_act(actor: User, lead: Lead) -> None:
    if not lead_may_act(actor, lead):
        raise NotAllowed(
            _(
                "Only the lead's owner, its nurturer or a manager above may do this. 只有线索发现人、培育人或上级主管可以操作。"
            )
        )


def _lock(lead: Lead) -> Lead:
    # `of=("self",)`: PostgreSQL refuses FOR UPDATE on the nullable side of an outer join (nurturer, customer).
    return (
        Lead.objects.select_for_update(of=("self",))
        .select_related("org_unit", "owner__org_unit", "nurturer__org_unit", "customer")
        .get(pk=lead.pk)
    )


def _errors(errors: dict[str, list]) -> None:
    if errors:
        raise ApplicationError(_("Please correct the errors below. 请更正以下错误。"), extra=errors)


def _required_message() -> str:
    return _("This field is required. 此项必填。")


def _save(lead: Lead, actor: User, fields: list[str], reason: str = "") -> None:
    lead._history_user = actor  # type: ignore[attr-defined]
    if reason:
        lead._change_reason = reason[:100]  # type: ignore[attr-defined]
    lead.save(update_fields=[*fields, "updated_at"])


def _transition(lead: Lead, *, from_status: str, actor: User, reason: str = "") -> LeadTransition:
    return LeadTransition.objects.create(
        lead=lead, from_status=from_status, to_status=lead.status, actor=actor, reason=reason
    )


def _require_open(lead: Lead, message: Any) -> None:
    if lead.status not in OPEN_STATUSES:
        raise ApplicationError(
            message, extra={"status": [lead.get_status_display()]}, code="invalid_transition"
        )


def _to_amount(value: Any, field: str, errors: dict[str, list]) -> Decimal:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        errors.setdefault(field, []).append(_("A number is required. 请填写数字。"))
        return Decimal(0)
    if not amount.is_finite() or amount < 0:
        errors.setdefault(field, []).append(_("Must not be negative. 不能为负数。"))
    return amount


def grade_for(total: int) -> str:
    """The lead grade for a qualification total, per settings.LTC["LEAD_GRADE_THRESHOLDS"]."""
    thresholds = settings.LTC["LEAD_GRADE_THRESHOLDS"]
    for grade in (Lead.Grade.A, Lead.Grade.B, Lead.Grade.C):
        if total >= thresholds[grade.value]:
            return grade
    return Lead.Grade.D


# --- Duplicates -------------------------------------------------------------------------------------------


def lead_duplicates(
    *, title: str, customer: Customer | None = None, prospect_name: str = "", exclude_pk: int | None = None
) -> list[Lead]:
    """Open leads that look like the same thing: the same customer (or a similar prospect name) and a similar
    title (normalised; difflib ratio ≥ settings.LTC["DUPLICATE_SIMILARITY"]["LEAD_TITLE"], or one title
    inside the other)."""
    ratio = settings.LTC.get("DUPLICATE_SIMILARITY", {}).get("LEAD_TITLE", 0.8)
    name_ratio = settings.LTC.get("DUPLICATE_SIMILARITY", {}).get("CUSTOMER_NAME", 0.85)
    title_key = name_key(title)
    candidates = Lead.objects.filter(status__in=OPEN_STATUSES)
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    if customer is not None:
        candidates = candidates.filter(customer=customer)
        prospect_key = ""
    else:
        prospect_key = name_key(prospect_name)
        if not prospect_key:
            return []
        probe = max(1, min(4, len(prospect_key) // 2))
        candidates = candidates.filter(customer__isnull=True).filter(
            Q(prospect_name__icontains=prospect_key[:probe])
            | Q(prospect_name__icontains=prospect_key[-probe:])
        )
    found = []
    for lead in candidates.order_by("pk")[:500]:
        if prospect_key and not similar_names(prospect_key, name_key(lead.prospect_name), ratio=name_ratio):
            continue
        if similar_names(title_key, name_key(lead.title), ratio=ratio, containment=True):
            found.append(lead)
    return found


def _duplicate_error(duplicates: list[Lead], actor: User) -> ApplicationError:
    # Name only the duplicates the actor may see; the warning itself stands for all of them.
    visible = sorted(
        lead_visible_to(actor).filter(pk__in=[lead.pk for lead in duplicates]).values_list("pk", flat=True)
    )
    message = _("A similar open lead already exists for this customer. 该客户已有相似的未关闭线索。")
    return ApplicationError(message, extra={"title": [message], "duplicates": visible}, code="duplicate")


# --- Create -----------------------------------------------------------------------------------------------


@transaction.atomic
def lead_create(
    *,
    actor: User,
    title: str,
    customer: Customer | None = None,
    prospect_name: str = "",
    source: str,
    need: str = "",
    budget_known: bool = False,
    estimated_amount: Decimal = Decimal(0),
    currency: str = "CNY",
    source_visit: Visit | None = None,
    nurturer: User | None = None,
    next_review_on: dt.date | None = None,
    external_id: str | None = None,
    allow_duplicate: bool = False,
) -> Lead:
    """Record a lead found by the actor (its owner): for a customer the actor can see, or a prospect by name.

    Maturity is MATURE when the budget is known, else EARLY; the org unit is the customer's account department
    (the actor's unit for a prospect). An open lead of the same customer or prospect with a similar title is
    refused (code "duplicate", the visible ones in `extra["duplicates"]`) unless `allow_duplicate`. Safe to
    repeat with the same `external_id`: the second call returns the first lead. With a nurturer, the lead
    starts NURTURING.
    """
    title = (title or "").strip()
    prospect_name = (prospect_name or "").strip()
    errors: dict[str, list] = {}
    if not title:
        errors["title"] = [_required_message()]
    if customer is None and not prospect_name:
        errors["customer"] = [_("Name a customer or a prospect. 请选择客户或填写潜在客户名称。")]
    if source not in Lead.Source.values:
        errors["source"] = [_("Not a valid choice. 选项无效。")]
    estimated_amount = _to_amount(estimated_amount, "estimated_amount", errors)
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha() and currency.isupper()):
        errors["currency"] = [_("A three-letter currency code. 三位币种代码。")]
    if source_visit is not None and customer is not None and source_visit.customer_id != customer.pk:
        errors["source_visit"] = [_("The visit was to another customer. 该拜访属于其他客户。")]
    if nurturer is not None and not nurturer.is_active:
        errors["nurturer"] = [_("This user is not active. 该用户已停用。")]
    _errors(errors)

    if external_id:
        existing = Lead.objects.filter(external_id=external_id).first()
        if existing is not None:
            if existing.owner_id != actor.pk or existing.customer_id != (customer.pk if customer else None):
                raise ApplicationError(
                    _("A lead with this external id already exists. 外部编号已存在。"),
                    extra={"external_id": [_("Already used. 已被使用。")]},
                    code="duplicate",
                )
            return existing
    if customer is not None:
        customer_require_visible(actor=actor, customer=customer)
        org_unit_id = customer.account_dept_id
    else:
        if actor.org_unit_id is None:
            raise ApplicationError(
                _("You are not in an org unit. 您未归属任何组织。"), extra={"owner": [_required_message()]}
            )
        org_unit_id = actor.org_unit_id
    if source_visit is not None:
        visit_require_visible(actor=actor, visit=source_visit)
    if not allow_duplicate:
        duplicates = lead_duplicates(title=title, customer=customer, prospect_name=prospect_name)
        if duplicates:
            raise _duplicate_error(duplicates, actor)

    lead = Lead(
        title=title,
        customer=customer,
        prospect_name=prospect_name,
        source=source,
        source_visit=source_visit,
        need=need,
        budget_known=budget_known,
        maturity=Lead.Maturity.MATURE if budget_known else Lead.Maturity.EARLY,
        estimated_amount=estimated_amount,
        currency=currency,
        owner=actor,
        org_unit_id=org_unit_id,
        status=Lead.Status.NEW,
        next_review_on=next_review_on,
        external_id=external_id or None,
    )
    lead._history_user = actor  # type: ignore[attr-defined]
    lead.save()
    _transition(lead, from_status="", actor=actor, reason=_("Created 新建"))
    if nurturer is not None:
        lead = lead_assign_nurturer(lead=lead, actor=actor, nurturer=nurturer)
    return lead


@transaction.atomic
def lead_from_visit(
    *,
    actor: User,
    visit: Visit,
    title: str,
    need: str = "",
    budget_known: bool = False,
    estimated_amount: Decimal = Decimal(0),
    currency: str = "CNY",
    nurturer: User | None = None,
    next_review_on: dt.date | None = None,
    external_id: str | None = None,
    allow_duplicate: bool = False,
) -> Lead:
    """A lead revealed by a visit: the visit's customer, source VISIT, and the link to the visit."""
    visit_require_visible(actor=actor, visit=visit)
    return lead_create(
        actor=actor,
        title=title,
        customer=visit.customer,
        source=Lead.Source.VISIT,
        source_visit=visit,
        need=need,
        budget_known=budget_known,
        estimated_amount=estimated_amount,
        currency=currency,
        nurturer=nurturer,
        next_review_on=next_review_on,
        external_id=external_id,
        allow_duplicate=allow_duplicate,
    )


@transaction.atomic
def lead_link_customer(*, actor: User, lead: Lead, customer: Customer) -> Lead:
    """Link an open lead (typically a prospect's) to a customer; the lead moves to the customer's account
    department. Linking to the customer it already has changes nothing."""
    lead = _lock(lead)
    _require_may_act(actor, lead)
    _require_open(lead, _("Only an open lead can be linked to a customer. 只有未关闭的线索才能关联客户。"))
    customer_require_visible(actor=actor, customer=customer)
    if lead.customer_id == customer.pk:
        return lead
    lead.customer = customer
    lead.org_unit_id = customer.account_dept_id
    _save(lead, actor, ["customer", "org_unit"], reason=f"linked to customer {customer.pk}")
    return lead


# --- Qualify and nurture ----------------------------------------------------------------------------------


@transaction.atomic
def lead_qualify(
    *,
    lead: Lead,
    actor: User,
    is_lead_answer: str,
    is_lead_score: int,
    how_far_answer: str,
    how_far_score: int,
    can_win_answer: str,
    can_win_score: int,
) -> LeadQualification:
    """Answer and score (0–10 each) the three questions: is it a lead, how far is it, can we win. The total
    gives the grade (settings.LTC["LEAD_GRADE_THRESHOLDS"]); a NEW lead moves to VALIDATING. Qualifying again
    adds a new qualification and the lead takes its grade."""
    answers = {
        "is_lead_answer": is_lead_answer,
        "how_far_answer": how_far_answer,
        "can_win_answer": can_win_answer,
    }
    scores = {"is_lead_score": is_lead_score, "how_far_score": how_far_score, "can_win_score": can_win_score}
    errors: dict[str, list] = {}
    for field, value in answers.items():
        if not (value or "").strip():
            errors[field] = [_("Answer the question. 请回答该问题。")]
    for field, value in scores.items():
        if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10):
            errors[field] = [_("A score from 0 to 10. 请填写0到10的分数。")]
    _errors(errors)
    lead = _lock(lead)
    _require_may_act(actor, lead)
    _require_open(lead, _("Only an open lead can be qualified. 只有未关闭的线索才能验证。"))
    total = sum(scores.values())
    grade = grade_for(total)
    qualification = LeadQualification.objects.create(
        lead=lead,
        total_score=total,
        grade=grade,
        qualified_by=actor,
        **{field: value.strip() for field, value in answers.items()},
        **scores,
    )
    from_status = lead.status
    lead.grade, lead.qualification_score = grade, total
    fields = ["grade", "qualification_score"]
    if lead.status == Lead.Status.NEW:
        lead.status = Lead.Status.VALIDATING
        fields.append("status")
    _save(lead, actor, fields, reason=f"qualified {total} ({grade})")
    if from_status != lead.status:
        _transition(
            lead,
            from_status=from_status,
            actor=actor,
            reason=_("Qualified: %(total)s points, grade %(grade)s 已验证")
            % {"total": total, "grade": grade},
        )
    return qualification


@transaction.atomic
def lead_assign_nurturer(*, lead: Lead, actor: User, nurturer: User) -> Lead:
    """Assign who nurtures an open lead; it becomes NURTURING. Only the owner, the current nurturer or a
    manager above may assign. Assigning the current nurturer of a NURTURING lead changes nothing."""
    if not nurturer.is_active:
        raise ApplicationError(
            _("This user is not active. 该用户已停用。"), extra={"nurturer": [_("Not active. 已停用。")]}
        )
    lead = _lock(lead)
    _require_may_act(actor, lead)
    _require_open(lead, _("Only an open lead can be assigned. 只有未关闭的线索才能分配培育人。"))
    if lead.nurturer_id == nurturer.pk and lead.status == Lead.Status.NURTURING:
        return lead
    from_status, previous = lead.status, lead.nurturer
    lead.nurturer = nurturer
    lead.status = Lead.Status.NURTURING
    _save(lead, actor, ["nurturer", "status"], reason=f"nurturer {nurturer.pk}")
    if previous is None:
        reason = _("Nurturer: %(to)s 指定培育人") % {"to": nurturer}
    else:
        reason = _("Nurturer: %(from)s → %(to)s 更换培育人") % {"from": previous, "to": nurturer}
    _transition(lead, from_status=from_status, actor=actor, reason=reason)
    return lead


# --- Weekly review ----------------------------------------------------------------------------------------


@transaction.atomic
def lead_review_record(
    *,
    lead: Lead,
    actor: User,
    decision: str,
    reason: str,
    reassign_to: User | None = None,
    week: dt.date | None = None,
) -> LeadReview:
    """Record the weekly review's decision on a lead (one per lead and ISO week, keyed by its Monday) and
    carry it out: CONVERT converts, CLOSE closes, REASSIGN assigns `reassign_to` as nurturer, NURTURE keeps
    it and sets the next review to next week (as does REASSIGN).

    Recording the same decision again for the same week returns the review already recorded and does
    nothing more; a different decision for a week already decided is refused (code "already_reviewed").
    """
    reason = (reason or "").strip()
    errors: dict[str, list] = {}
    if decision not in LeadReview.Decision.values:
        errors["decision"] = [_("Not a valid choice. 选项无效。")]
    if not reason:
        errors["reason"] = [_("Say why. 请填写理由。")]
    if decision == LeadReview.Decision.REASSIGN and reassign_to is None:
        errors["reassign_to"] = [_("Reassign to whom? 请选择新的培育人。")]
    _errors(errors)
    monday = week_start(week or timezone.localdate())
    lead = _lock(lead)
    _require_may_act(actor, lead)
    existing = LeadReview.objects.filter(lead=lead, week=monday).first()
    if existing is not None:
        same = existing.decision == decision and (
            decision != LeadReview.Decision.REASSIGN or existing.reassigned_to_id == reassign_to.pk
        )
        if same:
            return existing
        raise ApplicationError(
            _("This lead was already reviewed for the week of %(week)s (%(decision)s). 该线索本周已评审。")
            % {"week": monday.isoformat(), "decision": existing.get_decision_display()},
            extra={"week": [monday.isoformat()], "review": [existing.pk]},
            code="already_reviewed",
        )
    _require_open(lead, _("Only an open lead can be reviewed. 只有未关闭的线索才能评审。"))

    if decision == LeadReview.Decision.CONVERT:
        lead_convert(lead=lead, actor=actor)
    elif decision == LeadReview.Decision.CLOSE:
        lead_close(lead=lead, actor=actor, reason=reason)
    elif decision == LeadReview.Decision.REASSIGN:
        assert reassign_to is not None
        lead = lead_assign_nurturer(lead=lead, actor=actor, nurturer=reassign_to)
    if decision in (LeadReview.Decision.NURTURE, LeadReview.Decision.REASSIGN):
        lead = _lock(lead)
        next_review = monday + dt.timedelta(weeks=1)
        if lead.next_review_on != next_review:
            lead.next_review_on = next_review
            _save(lead, actor, ["next_review_on"], reason="weekly review")
    return LeadReview.objects.create(
        lead=lead,
        week=monday,
        decision=decision,
        reason=reason,
        decided_by=actor,
        reassigned_to=reassign_to if decision == LeadReview.Decision.REASSIGN else None,
    )


# --- Convert, close, merge --------------------------------------------------------------------------------


@transaction.atomic
def lead_convert(
    *,
    lead: Lead,
    actor: User,
    name: str | None = None,
    amount: Decimal | None = None,
    expected_sign_on: dt.date | None = None,
) -> Opportunity:
    """Turn an open lead of a customer into an opportunity (via `opportunity_create`) and mark it CONVERTED.

    A lead converts once: a second call is refused (code "already_converted", the opportunity's id in
    `extra["opportunity"]`) and never makes a second opportunity (the lead row is locked, and
    Opportunity.lead is one-to-one). A prospect must first be linked to a customer (`lead_link_customer`).
    """
    lead = _lock(lead)
    _require_may_act(actor, lead)
    if lead.status == Lead.Status.CONVERTED:
        opportunity_id = Opportunity.objects.filter(lead_id=lead.pk).values_list("pk", flat=True).first()
        raise ApplicationError(
            _("A lead converts once: this lead is already converted. 线索只能转化一次：该线索已转化。"),
            extra={"opportunity": [opportunity_id] if opportunity_id else []},
            code="already_converted",
        )
    if lead.status == Lead.Status.CLOSED:
        raise ApplicationError(
            _("Only an open lead can be converted. 只有未关闭的线索才能转化。"),
            extra={"status": [lead.get_status_display()]},
            code="invalid_transition",
        )
    if lead.customer_id is None:
        raise ApplicationError(
            _("Link the prospect to a customer before converting. 请先将潜在客户关联到客户再转化。"),
            extra={"customer": [_required_message()]},
        )
    opportunity = opportunity_create(
        actor=actor,
        customer=lead.customer,
        name=name or lead.title,
        amount=lead.estimated_amount if amount is None else amount,
        currency=lead.currency,
        lead=lead,
        expected_sign_on=expected_sign_on,
    )
    from_status = lead.status
    lead.status = Lead.Status.CONVERTED
    lead.converted_at = timezone.now()
    _save(lead, actor, ["status", "converted_at"], reason=f"converted to opportunity {opportunity.pk}")
    _transition(
        lead,
        from_status=from_status,
        actor=actor,
        reason=_("Converted to opportunity #%(id)s 已转化为机会点") % {"id": opportunity.pk},
    )
    emit_for("lead.converted", lead, actor=actor, opportunity=opportunity)
    return opportunity


@transaction.atomic
def lead_close(*, lead: Lead, actor: User, reason: str) -> Lead:
    """Close an open lead; the reason is required. A converted lead cannot be closed; closing a closed lead
    changes nothing (the first reason stays)."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            _("A reason is required to close a lead. 关闭线索必须填写原因。"),
            extra={"reason": [_required_message()]},
        )
    lead = _lock(lead)
    _require_may_act(actor, lead)
    if lead.status == Lead.Status.CLOSED:
        return lead
    if lead.status == Lead.Status.CONVERTED:
        raise ApplicationError(
            _("A converted lead cannot be closed. 已转化的线索不能关闭。"),
            extra={"status": [lead.get_status_display()]},
            code="invalid_transition",
        )
    from_status = lead.status
    lead.status = Lead.Status.CLOSED
    lead.close_reason = reason[:255]
    lead.closed_at = timezone.now()
    _save(lead, actor, ["status", "close_reason", "closed_at"], reason=reason)
    _transition(lead, from_status=from_status, actor=actor, reason=reason)
    return lead


@transaction.atomic
def lead_merge(*, actor: User, source: Lead, target: Lead) -> Lead:
    """Close `source` as a duplicate of `target` (`source.merged_into`, the reason says so) and move its
    qualifications and reviews to the target (a review week the target already has stays with the source).
    Both must be open leads the actor may act on, of the same customer (a prospect may merge into a customer's
    lead). Merging again into the same target returns the target."""
    if source.pk == target.pk:
        raise ApplicationError(_("A lead cannot be merged into itself. 线索不能与自身合并。"))
    first, second = sorted([source, target], key=lambda lead: lead.pk)
    locked = {first.pk: _lock(first), second.pk: _lock(second)}
    source, target = locked[source.pk], locked[target.pk]
    _require_may_act(actor, source)
    _require_may_act(actor, target)
    if source.merged_into_id == target.pk:
        return target
    _require_open(source, _("Only an open lead can be merged. 只有未关闭的线索才能合并。"))
    _require_open(target, _("A lead can only be merged into an open lead. 只能合并到未关闭的线索。"))
    if source.customer_id is not None and source.customer_id != target.customer_id:
        raise ApplicationError(
            _("Leads of different customers cannot be merged. 不同客户的线索不能合并。"),
            extra={"target": [_("Another customer. 客户不一致。")]},
        )

    taken_weeks = set(target.reviews.values_list("week", flat=True))
    moved_reviews = source.reviews.exclude(week__in=taken_weeks).update(lead=target)
    moved_qualifications = source.qualifications.update(lead=target)
    latest = target.qualifications.order_by("-created_at", "-pk").first()
    if latest is not None and (target.grade, target.qualification_score) != (
        latest.grade,
        latest.total_score,
    ):
        target.grade, target.qualification_score = latest.grade, latest.total_score
        _save(target, actor, ["grade", "qualification_score"], reason=f"merged lead {source.pk}")

    from_status = source.status
    reason = _("Merged into lead #%(id)s %(title)s 已合并至线索") % {"id": target.pk, "title": target.title}
    source.status = Lead.Status.CLOSED
    source.close_reason = reason[:255]
    source.closed_at = timezone.now()
    source.merged_into = target
    _save(
        source,
        actor,
        ["status", "close_reason", "closed_at", "merged_into"],
        reason=f"merged into {target.pk}",
    )
    _transition(
        source,
        from_status=from_status,
        actor=actor,
        reason=f"{reason} ({moved_qualifications} qualifications, {moved_reviews} reviews)",
    )
    return target


# --- The full customer merge --------------------------------------------------------------------------------


@transaction.atomic
def customer_merge(*, actor: User, source: Customer, target: Customer) -> dict[str, Any]:
    """Merge customer `source` into `target`: its leads and opportunities, then its contacts, visits, team,
    budgets, plans, issues and events (`customer_merge_relationships`); `source` is deleted (its audit
    history stays, naming the actor).

    Only a manager (or admin) whose scope covers both customers' account departments may merge. A customer
    that contracts (or KPI targets) still point to is refused (code "merge_blocked"): contracts sit above the
    pipeline and are never re-pointed from here. Leads and opportunities keep their org unit.
    """
    if source.pk == target.pk:
        raise ApplicationError(_("A customer cannot be merged into itself. 客户不能与自身合并。"))
    ordered = sorted([source.pk, target.pk])
    rows = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=ordered).order_by("pk")}
    if len(rows) != 2:
        raise ApplicationError(_("The customer no longer exists. 客户已不存在。"), code="not_found")
    source, target = rows[source.pk], rows[target.pk]
    scope = scope_for(actor)
    is_manager = scope.everything or actor.is_manager or bool(scope.unit_paths)
    if not (is_manager and scope.covers_unit(source.account_dept) and scope.covers_unit(target.account_dept)):
        raise NotAllowed(
            _("Only a manager above both customers may merge them. 只有两个客户的共同上级主管可以合并客户。")
        )
    blockers = customer_merge_blockers(source, moved_by_caller=("pipeline",))
    if blockers:
        raise ApplicationError(
            _(
                "This customer still has %(kinds)s; a customer with contracts cannot be merged. 该客户仍有%(kinds)s，有合同的客户不能合并。"
            )
            % {"kinds": ", ".join(blockers)},
            extra={"source": blockers},
            code="merge_blocked",
        )
    leads = list(Lead.objects.filter(customer=source))
    for lead in leads:
        lead.customer = target
    if leads:
        bulk_update_with_history(
            leads, Lead, ["customer"], default_user=actor, default_change_reason="customer merge"
        )
    opportunities = list(Opportunity.objects.filter(customer=source))
    for opportunity in opportunities:
        opportunity.customer = target
    if opportunities:
        bulk_update_with_history(
            opportunities,
            Opportunity,
            ["customer"],
            default_user=actor,
            default_change_reason="customer merge",
        )
    summary = customer_merge_relationships(actor=actor, source=source, target=target)
    summary["leads"] = len(leads)
    summary["opportunities"] = len(opportunities)
    return summary


# --- Weekly review reminders ------------------------------------------------------------------------------


def leads_due_for_review(*, week: dt.date) -> Any:
    """Open leads to review in the week of `week`: next review on or before its Sunday, or never set."""
    sunday = week_start(week) + dt.timedelta(days=6)
    return Lead.objects.filter(status__in=OPEN_STATUSES).filter(
        Q(next_review_on__lte=sunday) | Q(next_review_on__isnull=True)
    )


def _send_reminder_mail(*, user_id: int, week: dt.date) -> None:
    user = User.objects.get(pk=user_id)
    titles = list(
        leads_due_for_review(week=week)
        .filter(Q(nurturer=user) | Q(nurturer__isnull=True, owner=user))
        .order_by("next_review_on", "pk")
        .values_list("title", flat=True)[:20]
    )
    with translation.override(user.preferred_language):
        subject = _("Leads to review this week 本周待评审线索 (%(week)s)") % {"week": week.isoformat()}
        body = "\n".join(
            [
                _("Leads waiting for this week's review: 以下线索待本周评审："),
                "",
                *[f"- {title}" for title in titles],
            ]
        )
    send_mail(subject, body, None, [user.email])


@transaction.atomic
def lead_review_reminders_send(*, week: dt.date | None = None) -> dict[str, Any]:
    """Remind each person with open leads due for review this week (the nurturer, else the owner): one
    LeadReviewReminder per person and ISO week, and an e-mail for each reminder made by this call only.

    Idempotent: the unique (user, week) key decides who is new, so a second run (or a second worker) in the
    same week makes and sends nothing. Mails go after commit, so a rolled-back run sends none; a crash
    between the commit and a send loses that mail rather than doubling it.
    """
    monday = week_start(week or timezone.localdate())
    due = leads_due_for_review(week=monday)
    per_user = {
        row["reviewer"]: row["leads"]
        for row in due.annotate(reviewer=Coalesce("nurturer_id", "owner_id"))
        .values("reviewer")
        .annotate(leads=Count("id"))
        .order_by("reviewer")
    }
    users = User.objects.filter(pk__in=per_user, is_active=True).only("pk", "email")
    created = already = emails = 0
    for user in users:
        _reminder, made = LeadReviewReminder.objects.get_or_create(
            user=user, week=monday, defaults={"lead_count": per_user[user.pk]}
        )
        if not made:
            already += 1
            continue
        created += 1
        if user.email:
            emails += 1
            transaction.on_commit(partial(_send_reminder_mail, user_id=user.pk, week=monday), robust=True)
    return {
        "week": monday.isoformat(),
        "due_leads": sum(per_user.values()),
        "users": len(per_user),
        "created": created,
        "already_sent": already,
        "emails": emails,
    }
