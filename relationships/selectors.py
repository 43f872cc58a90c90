"""Reads of customers, contacts, visits and relationship work, each behind one visibility selector."""

from __future__ import annotations

import datetime as dt
import difflib
import unicodedata

from django.conf import settings
from django.db.models import Count, Func, Q, QuerySet, Value
from django.db.models.functions import Lower, Replace, TruncWeek

from accounts.models import User
from accounts.selectors import Scope, row_in, scope_cached, scope_for, users_below
from relationships.models import (
    Contact,
    Customer,
    CustomerIssue,
    CustomerTeamMember,
    RelationshipAssessment,
    RelationshipPlan,
    Visit,
)


def customer_ids_on_team(user_id: int) -> QuerySet:
    return CustomerTeamMember.objects.filter(user_id=user_id).values("customer_id")


def customer_scope_q(scope: Scope, *, prefix: str = "") -> Q:
    """Customers the scope may see: owned by the actor or someone below, filed below, or on the team."""
    if scope.everything:
        return Q()
    query = scope.units_q(f"{prefix}account_dept") | scope.people_q(f"{prefix}owner")
    if scope.user_id is not None:
        query |= Q(**{f"{prefix}pk__in": customer_ids_on_team(scope.user_id)})
    return query


def customer_of_q(scope: Scope, field: str) -> Q:
    """Records whose `field` (a Customer foreign key) is a customer the scope may see.

    The same rows as `{field}_id IN visible_customer_ids(scope)`, tested row by row (`row_in`): a page read
    along the (updated_at, id) index checks the customers of the rows it walks, where the IN subquery would
    first collect every visible customer (tens of thousands at scale) on every request, and keeps the whole
    visibility filter on the listed table's index scan, so deep pages walk the index too. A NULL `field`
    matches nothing, as it does with IN.
    """
    if scope.everything:
        return Q()
    return row_in(Customer.objects.filter(customer_scope_q(scope)), f"{field}_id")


def visible_customer_ids(scope: Scope) -> QuerySet:
    """A subquery of the ids of the customers the scope may see (the records of a customer follow it)."""
    return Customer.objects.filter(customer_scope_q(scope)).values("id")


@scope_cached
def customer_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[Customer]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return Customer.objects.none()
    return Customer.objects.filter(customer_scope_q(scope)).select_related("account_dept", "owner")


@scope_cached
def contact_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[Contact]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return Contact.objects.none()
    if scope.everything:
        return Contact.objects.select_related("customer", "owner")
    return Contact.objects.filter(customer_of_q(scope, "customer") | scope.people_q("owner")).select_related(
        "customer", "owner"
    )


def private_notes_visible(user: User, contact: Contact, *, scope: Scope | None = None) -> bool:
    """The private relationship card: the owner and the people above the owner, never peers."""
    scope = scope or scope_for(user)
    if scope.everything:
        return True
    if contact.owner_id is None:
        return scope.covers_unit(contact.customer.account_dept)
    return scope.covers_user(contact.owner)


@scope_cached
def visit_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[Visit]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return Visit.objects.none()
    qs = Visit.objects.select_related("customer", "rep", "org_unit")
    if scope.everything:
        return qs
    query = scope.units_q("org_unit") | scope.people_q("rep") | customer_of_q(scope, "customer")
    return qs.filter(query)


@scope_cached
def customer_issue_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[CustomerIssue]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return CustomerIssue.objects.none()
    qs = CustomerIssue.objects.select_related("customer", "owner")
    if scope.everything:
        return qs
    return qs.filter(customer_of_q(scope, "customer") | scope.people_q("owner"))


@scope_cached
def relationship_plan_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[RelationshipPlan]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return RelationshipPlan.objects.none()
    qs = RelationshipPlan.objects.select_related("customer", "owner")
    if scope.everything:
        return qs
    return qs.filter(customer_of_q(scope, "customer") | scope.people_q("owner"))


def relationship_assessment_visible_to(
    user: User, *, scope: Scope | None = None
) -> QuerySet[RelationshipAssessment]:
    """Assessments are private relationship cards: the assessor and the people above, never peers."""
    scope = scope or scope_for(user)
    if scope.is_empty:
        return RelationshipAssessment.objects.none()
    qs = RelationshipAssessment.objects.select_related("contact", "contact__customer", "assessor")
    if scope.everything:
        return qs
    return qs.filter(scope.people_q("assessor"))


# --- Duplicate detection ------------------------------------------------------------------------------

# Characters a database-side key drops, so that "中国移动 浙江公司" and "中国移动（浙江）公司" meet the same row.
# The Python key (`name_key`) is stricter (every punctuation, symbol and space, after NFKC); the database key
# only has to find the candidates, which are then compared in Python.
_DB_KEY_DROPPED = (
    " ",
    "\u3000",
    "(",
    ")",
    "（",
    "）",
    ".",
    ",",
    "，",
    "。",
    "-",
    "_",
    "·",
    "&",
    "/",
    "'",
    '"',
    "、",
)


def name_key(text: str) -> str:
    """A comparison key for names and titles: case-, width-, space- and punctuation-insensitive."""
    normalised = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(ch for ch in normalised if unicodedata.category(ch)[0] not in {"P", "S", "Z", "C"})


def similar_names(a: str, b: str, *, ratio: float, containment: bool = False) -> bool:
    """Are two name keys the same thing? Equal, close by difflib's ratio, or (optionally) one inside the other."""
    if not a or not b:
        return False
    if a == b:
        return True
    if containment and min(len(a), len(b)) >= 2 and (a in b or b in a):
        return True
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= ratio


def _db_name_key(field: str) -> Func:
    expr: Func = Lower(field)
    for ch in _DB_KEY_DROPPED:
        expr = Replace(expr, Value(ch), Value(""))
    return expr


def customer_duplicates(
    *, name: str, tax_id: str | None = None, exclude_pk: int | None = None, limit: int = 200
) -> list[Customer]:
    """Customers that look like the same company: the same tax id, or the same or a similar name.

    Reads the whole customer table (no visibility filter): a duplicate is a duplicate whoever owns it; the
    caller decides what to show. The database narrows the candidates (same key, or sharing the key's first
    or last characters); difflib decides on at most `limit` of them.
    """
    ratio = settings.LTC.get("DUPLICATE_SIMILARITY", {}).get("CUSTOMER_NAME", 0.85)
    key = name_key(name)
    found: dict[int, Customer] = {}
    base = Customer.objects.all()
    if exclude_pk is not None:
        base = base.exclude(pk=exclude_pk)
    if tax_id:
        for customer in base.filter(tax_id=tax_id):
            found[customer.pk] = customer
    if not key:
        return list(found.values())
    keyed = base.annotate(_key=_db_name_key("name"))
    for customer in keyed.filter(_key=key.lower())[:limit]:
        found[customer.pk] = customer
    probe = max(2, min(4, len(key) // 2))
    candidates = keyed.filter(Q(_key__startswith=key[:probe]) | Q(_key__endswith=key[-probe:])).order_by("pk")
    for customer in candidates[:limit]:
        if customer.pk not in found and similar_names(key, name_key(customer.name), ratio=ratio):
            found[customer.pk] = customer
    return sorted(found.values(), key=lambda c: c.pk)


# --- Field behaviour: visits per rep and week -----------------------------------------------------------


def week_start(day: dt.date) -> dt.date:
    """The Monday of `day`'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def visits_per_rep_week(
    user: User, *, week_from: dt.date, week_to: dt.date | None = None, scope: Scope | None = None
) -> list[dict]:
    """Visits per rep per ISO week against the weekly quota (settings.LTC["VISIT_QUOTA_PER_WEEK"]).

    One row per rep and week, weeks with no visit included (a zero is what the quota is about). The reps are
    the sales reps the user may see (the user, and everyone below in the org tree) and anyone else among them
    who logged a visit. Two queries whatever the number of visits.
    """
    scope = scope or scope_for(user)
    if scope.is_empty:
        return []
    quota = settings.LTC["VISIT_QUOTA_PER_WEEK"]
    first = week_start(week_from)
    last = week_start(week_to or week_from)
    if last < first:
        first, last = last, first
    weeks = [first + dt.timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    people = users_below(scope).filter(is_active=True)
    counts = (
        Visit.objects.filter(
            rep__in=people, visited_on__gte=first, visited_on__lte=last + dt.timedelta(days=6)
        )
        .annotate(week=TruncWeek("visited_on"))
        .values("rep_id", "week")
        .annotate(visits=Count("id"))
    )
    by_rep_week: dict[tuple[int, dt.date], int] = {}
    for row in counts:
        week = row["week"].date() if isinstance(row["week"], dt.datetime) else row["week"]
        by_rep_week[(row["rep_id"], week)] = row["visits"]
    rep_ids_with_visits = {rep_id for rep_id, _ in by_rep_week}
    reps = people.filter(Q(job_role=User.JobRole.SALES_REP) | Q(pk__in=rep_ids_with_visits)).order_by(
        "full_name", "username", "pk"
    )
    rows = []
    for rep in reps:
        for week in weeks:
            visits = by_rep_week.get((rep.pk, week), 0)
            rows.append(
                {
                    "rep_id": rep.pk,
                    "rep": str(rep),
                    "week": week,
                    "visits": visits,
                    "quota": quota,
                    "met": visits >= quota,
                }
            )
    return rows
