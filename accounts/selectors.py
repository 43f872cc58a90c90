"""Whom may a user see: the one scope primitive every visibility selector is built on.

The rule (DOMAIN.md §1): a person sees their own records, the records of the customers and deals whose team
they are on, and everything of the people below them in the org tree; peers do not see each other's private
relationship cards; admins see all. Precisely, for a user A:

- "Below A" is the subtree of A's own unit when A is a manager or executive, and of every unit A is named
  manager of (OrgUnit.manager). A record is "of the people below A" when it is filed under a unit of that
  subtree (`Scope.units_q`) or owned by A or by a person whose unit is in that subtree (`Scope.people_q`).
- A customer is visible when it is below A (account department or owner) or A is on its customer team.
  Contacts, visits, issues, plans, leads and deals of a visible customer are visible (the records of the
  customer), and so is each of those that is itself below A (owner, rep, nurturer, org unit).
- An opportunity is also visible to its opportunity team; a contract is visible when its opportunity is.
  Milestones, invoices and receipts follow their contract; gate decisions follow their opportunity.
- Private relationship cards (a contact's private notes, relationship assessments) are visible only to their
  owner/assessor and the people above them: never through a team, never to peers.
- Team grants are personal: a manager does not inherit what a subordinate sees through a team.
- Inactive users and anonymous visitors see nothing; superusers and ADMINs see everything.

Filters are `org_unit_id IN (SELECT id FROM org units WHERE path LIKE '/1/4/%')`, which the path index
(varchar_pattern_ops on PostgreSQL) answers without loading the tree into Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import TypeVar

from django.db.models import F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.lookups import IsNull

from accounts.models import OrgUnit, User


@dataclass(frozen=True)
class Scope:
    """What one actor may see. `user_id` is None for an API client that acts for an org unit only."""

    user_id: int | None
    unit_paths: tuple[str, ...]
    everything: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.everything and self.user_id is None and not self.unit_paths

    def unit_ids(self) -> QuerySet[OrgUnit]:
        """A subquery of the org-unit ids in this scope's subtrees."""
        query = Q(pk__in=[])
        for path in self.unit_paths:
            query |= Q(path__startswith=path)
        return OrgUnit.objects.filter(query).values("id")

    def units_q(self, field: str) -> Q:
        """Records whose `field` (an OrgUnit foreign key) lies in the scope's subtrees."""
        if self.everything:
            return Q()
        if not self.unit_paths:
            return Q(pk__in=[])
        return Q(**{f"{field}__in": self.unit_ids()})

    def people_q(self, field: str) -> Q:
        """Records whose `field` (a User foreign key) is the actor or someone below the actor in the org tree.

        "Below" is a person whose org unit lies in the scope's subtrees: a manager sees what the people
        under them own even when the record is filed under a unit outside the manager's subtree.
        """
        if self.everything:
            return Q()
        query = Q(pk__in=[])
        if self.user_id is not None:
            query |= Q(**{f"{field}_id": self.user_id})
        if self.unit_paths:
            query |= Q(**{f"{field}__in": User.objects.filter(org_unit__in=self.unit_ids()).values("id")})
        return query

    def covers_unit(self, unit: OrgUnit | None) -> bool:
        if self.everything:
            return True
        if unit is None:
            return False
        return any(unit.path.startswith(path) for path in self.unit_paths)

    def covers_user(self, user: User | None) -> bool:
        """Is `user` the actor or someone below the actor in the org tree?"""
        if self.everything:
            return True
        if user is None:
            return False
        if self.user_id is not None and user.pk == self.user_id:
            return True
        return self.covers_unit(user.org_unit)


_OUTER_ROW = "__ltc_outer_row__"


def outer_column(field: str) -> RawSQL:
    """Inside a `row_in` queryset: the outer row's `field` (a column of the row being tested), for a test that
    compares the two rows. The `row_in` using the queryset must name it in `outer_fields`."""
    return RawSQL(f"__ltc_outer_{field}__", ())


class RowIn(IsNull):
    """`(SELECT pk FROM … WHERE pk = <outer column> AND … LIMIT 1) IS NOT NULL`, built by `row_in`.

    The subquery is compiled once per database connection and kept as SQL with markers where the outer
    columns go; each use compiles only the outer columns and puts them in. A visibility subquery is a nested
    OR of subqueries (an invoice's contract → its customer and its opportunity → the opportunity's customer);
    compiling it anew on every request cost ≈ 1.5 ms of a region's invoice page, more than reading it. The
    subquery refers to nothing outside it but the markers, so its SQL does not depend on where it is used.
    `row_in` queries are built per scope and kept (`scope_cached`): the compiled SQL is kept with them.
    """

    def __init__(self, queryset: QuerySet, outer_field: str, outer_fields: tuple[str, ...] = ()) -> None:
        self.queryset = queryset.order_by()
        self.outer_fields = outer_fields
        self.outer_columns = [F(field) for field in outer_fields]
        # Shared by the copies Django makes when resolving or relabelling this lookup: connection alias →
        # (SQL with the markers, params, the subquery's own table aliases).
        self.compiled: dict[str, tuple[str, tuple, frozenset[str]]] = {}
        super().__init__(F(outer_field), False)

    @property
    def identity(self):
        # Two tests of one column against different querysets are different conditions.
        return (*super().identity, id(self.compiled))

    def get_source_expressions(self):
        return [self.lhs, *self.outer_columns]

    def set_source_expressions(self, exprs):
        self.lhs, *self.outer_columns = exprs

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        resolved = super().resolve_expression(query, allow_joins, reuse, summarize, for_save)
        resolved.outer_columns = [
            column.resolve_expression(query, allow_joins, reuse, summarize, for_save)
            for column in self.outer_columns
        ]
        return resolved

    def _subquery(self, connection) -> tuple[str, tuple, frozenset[str]]:
        compiled = self.compiled.get(connection.alias)
        if compiled is None:
            inner = self.queryset.filter(pk=RawSQL(_OUTER_ROW, ())).values("pk")[:1]
            sql, params = inner.query.get_compiler(connection=connection).as_sql()
            aliases = frozenset(alias for alias, refs in inner.query.alias_refcount.items() if refs)
            compiled = self.compiled[connection.alias] = (sql, tuple(params), aliases)
        return compiled

    def as_sql(self, compiler, connection):
        sql, params, aliases = self._subquery(connection)
        for marker, column in (
            (_OUTER_ROW, self.lhs),
            *zip(map(_marker, self.outer_fields), self.outer_columns, strict=True),
        ):
            column_sql, column_params = compiler.compile(column)
            if column_params or getattr(column, "alias", None) in aliases:
                # The outer column would be read as one of the subquery's own (a row_in on its own table), or
                # has parameters of its own: not a shape the selectors build.
                raise ValueError(f"row_in cannot test {column_sql} against a subquery on the same table")
            sql = sql.replace(marker, column_sql)
        if "__ltc_outer_" in sql:
            raise ValueError("row_in: the queryset reads an outer_column not named in outer_fields")
        return f"({sql}) IS NOT NULL", params


def _marker(field: str) -> str:
    return outer_column(field).sql


def row_in(queryset: QuerySet, outer_field: str, *, outer_fields: tuple[str, ...] = ()) -> Q:
    """The row's `outer_field` (a foreign key's `<name>_id`, or a path to one) is the key of a row of
    `queryset`, tested row by row: `(SELECT pk FROM … WHERE pk = outer.fk AND … LIMIT 1) IS NOT NULL`.

    Neither `fk IN (SELECT …)` nor EXISTS: PostgreSQL may answer both by hashing every matching row first
    (every visible customer, every visible deal) on every request, and an OR across a join instead makes it
    hash-join whole tables for deep pages. A scalar subquery is only evaluated for the rows the outer index
    scan reaches, one primary-key probe each, after the cheaper conditions of an OR have failed.
    The subquery's SQL is compiled once (`RowIn`). `outer_fields`: the outer row's columns the queryset reads
    through `outer_column`.
    """
    return Q(RowIn(queryset, outer_field, outer_fields))


def _minimal_paths(paths: set[str]) -> tuple[str, ...]:
    """Drop paths already inside another path of the set."""
    ordered = sorted(paths, key=len)
    kept: list[str] = []
    for path in ordered:
        if not any(path.startswith(other) for other in kept):
            kept.append(path)
    return tuple(sorted(kept))


def scope_for(user: User | None) -> Scope:
    """The scope of a logged-in user (cached on the user object for the request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope(user_id=None, unit_paths=())
    cached = getattr(user, "_ltc_scope", None)
    if cached is not None:
        return cached
    if user.sees_everything:
        scope = Scope(user_id=user.pk, unit_paths=(), everything=True)
    else:
        # One query: the units the user is named manager of, and (for managers) the user's own unit.
        heads = Q(manager_id=user.pk)
        if user.is_manager and user.org_unit_id is not None:
            heads |= Q(pk=user.org_unit_id)
        paths = set(OrgUnit.objects.filter(heads).values_list("path", flat=True))
        scope = Scope(user_id=user.pk, unit_paths=_minimal_paths(paths))
    user._ltc_scope = scope  # type: ignore[attr-defined]
    return scope


def scope_for_org_unit(unit: OrgUnit | None) -> Scope:
    """The scope of an API client bound to an org unit (None: the whole company)."""
    if unit is None:
        return Scope(user_id=None, unit_paths=(), everything=True)
    return Scope(user_id=None, unit_paths=(unit.path,))


_Q = TypeVar("_Q", bound=QuerySet)


def scope_cached(selector: Callable[..., _Q]) -> Callable[..., _Q]:
    """Build a visibility selector's QuerySet once per scope; every call returns a fresh clone of it.

    The selector must be a function of the scope alone (`selector(user, *, scope)` reading `user` only to find
    the scope). Turning a scope's nested OR of subqueries into a Query costs more CPU than running a 50-row
    page at a million rows (≈ 9 ms for an invoice list of a region's manager); cloning the built Query costs
    ≈ 0.01 ms. The cached QuerySet is never evaluated or changed: callers get `.all()` clones.

    A built QuerySet holds ≈ 60–120 KB (the invoice selector's nested tree the most), so each selector keeps
    the 64 scopes used last, per process: at most ≈ 8 MB per selector.
    """

    @lru_cache(maxsize=64)
    def build(scope: Scope) -> _Q:
        return selector(None, scope=scope)

    @wraps(selector)
    def cached(user: User | None, *, scope: Scope | None = None) -> _Q:
        return build(scope or scope_for(user)).all()

    cached.build_cache = build  # type: ignore[attr-defined]
    return cached


def org_unit_visible_to(user: User) -> QuerySet[OrgUnit]:
    """Org units are reference data: every active user sees the whole tree (names, not records)."""
    if not user.is_authenticated:
        return OrgUnit.objects.none()
    return OrgUnit.objects.select_related("parent", "manager")


def user_visible_to(user: User) -> QuerySet[User]:
    """Colleagues are reference data (for assigning teams); every active user sees names and roles."""
    if not user.is_authenticated:
        return User.objects.none()
    return User.objects.select_related("org_unit", "manager")


def users_below(scope: Scope) -> QuerySet[User]:
    """The actor and the people below the actor in the org tree."""
    if scope.everything:
        return User.objects.all()
    query = scope.units_q("org_unit")
    if scope.user_id is not None:
        query |= Q(pk=scope.user_id)
    return User.objects.filter(query)
