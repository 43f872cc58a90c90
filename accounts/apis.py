"""REST APIs of org units and people: readable by every client with the read scope; writable only with the
"admin" scope (an HR or ERP system that owns the organisation) or by an ADMIN in the browser."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.filters import OrgUnitFilter, UserFilter
from accounts.models import MarketType, OrgUnit, User
from accounts.selectors import org_unit_visible_to, user_visible_to
from accounts.serializers import (
    OrgUnitCreateInputSerializer,
    OrgUnitOutputSerializer,
    OrgUnitUpdateInputSerializer,
    UserCreateInputSerializer,
    UserOutputSerializer,
    UserUpdateInputSerializer,
)
from accounts.services import org_unit_create, org_unit_update, user_create, user_update
from ltc.api.bulk import BOOL, CHOICE, EMAIL, BulkContext, BulkField, BulkReference, BulkResult, BulkSpec
from ltc.api.views import BulkUpsertApi, DetailUpdateApi, ListCreateApi


class OrgUnitListApi(ListCreateApi):
    api_resource = "org-units"
    admin_write_only = True
    filterset_class = OrgUnitFilter
    output_serializer_class = OrgUnitOutputSerializer
    input_serializer_class = OrgUnitCreateInputSerializer

    def get_queryset(self) -> QuerySet[OrgUnit]:
        return org_unit_visible_to(self.request.user)

    def perform_create(self, data: dict[str, Any]) -> OrgUnit:
        # org_unit_create has no actor: the admin check is the permission class (admin_write_only).
        return org_unit_create(**data)


class OrgUnitDetailApi(DetailUpdateApi):
    api_resource = "org-units"
    admin_write_only = True
    output_serializer_class = OrgUnitOutputSerializer
    input_serializer_class = OrgUnitUpdateInputSerializer

    def get_queryset(self) -> QuerySet[OrgUnit]:
        return org_unit_visible_to(self.request.user)

    def perform_update(self, instance: OrgUnit, data: dict[str, Any]) -> OrgUnit:
        return org_unit_update(actor=self.request.user, unit=instance, **data)


def _people(user: User) -> QuerySet[User]:
    # The service users of API clients are not people: keep them out of the directory.
    return user_visible_to(user).filter(api_client__isnull=True)


class UserListApi(ListCreateApi):
    api_resource = "users"
    admin_write_only = True
    filterset_class = UserFilter
    output_serializer_class = UserOutputSerializer
    input_serializer_class = UserCreateInputSerializer

    def get_queryset(self) -> QuerySet[User]:
        return _people(self.request.user)

    def perform_create(self, data: dict[str, Any]) -> User:
        return user_create(actor=self.request.user, **data)


class UserDetailApi(DetailUpdateApi):
    api_resource = "users"
    admin_write_only = True
    output_serializer_class = UserOutputSerializer
    input_serializer_class = UserUpdateInputSerializer

    def get_queryset(self) -> QuerySet[User]:
        return _people(self.request.user)

    def perform_update(self, instance: User, data: dict[str, Any]) -> User:
        return user_update(actor=self.request.user, user=instance, **data)


# --- Bulk upsert by external id (HR / ERP systems that own the organisation: the "admin" scope) -------------

LEVEL = {kind: level for level, kind in enumerate(OrgUnit.Kind.values)}  # HQ 0 … ACCOUNT_DEPT 3


def _unit_kind(ctx: BulkContext, row: dict) -> str | None:
    if "kind" in ctx.sent and row.get("kind"):
        return row["kind"]
    current = ctx.reads.get(row.get("external_id"))
    return current["kind"] if current else None


def _org_unit_prepare(ctx: BulkContext) -> list[str]:
    """The rules of org_unit_create: HQ has no parent, every other unit sits under a unit of the level above;
    an existing unit keeps its level (moving it under another parent of that level is allowed)."""
    kind_by_key = {row.get("external_id"): _unit_kind(ctx, row) for row in ctx.rows}
    parents = ctx.ref_data.get("parent", {})
    deferred = ctx.deferred.get("parent", {})
    for index, row in enumerate(ctx.rows):
        current = ctx.reads.get(row["external_id"])
        kind = kind_by_key[row["external_id"]]
        if current and "kind" in ctx.sent and row["kind"] != current["kind"]:
            ctx.error(
                index, "kind", _("The level of an existing unit cannot change. 已有组织的层级不能修改。")
            )
            continue
        if current and "parent" not in ctx.sent:
            continue
        if index in deferred:
            if deferred[index] == row["external_id"]:
                ctx.error(index, "parent", _("A unit cannot be its own parent. 组织不能以自身为上级。"))
                continue
            parent_kind = kind_by_key.get(deferred[index])
        elif row.get("parent") is not None:
            parent_kind = parents[row["parent"]]["kind"]
        else:
            parent_kind = None
        if kind == OrgUnit.Kind.HQ:
            if parent_kind is not None:
                ctx.error(index, "parent", _("Headquarters has no parent unit. 总部没有上级组织。"))
        elif parent_kind is None:
            ctx.error(index, "parent", _("This unit needs a parent unit. 该组织需要上级组织。"))
        elif OrgUnit.CHILD_KIND.get(parent_kind) != kind:
            ctx.error(
                index,
                "parent",
                _("A %(kind)s cannot sit under a %(parent)s. 组织层级不匹配。")
                % {"kind": kind, "parent": parent_kind},
            )
    return []


def _org_unit_paths(ctx: BulkContext, result: BulkResult) -> None:
    """Recompute every unit's materialised path and depth from the parent links (one recursive statement):
    new units get theirs, and a unit moved under another parent takes its whole subtree along. Only the rows
    whose path or depth changes are written."""
    if not result.created and not result.updated:
        return
    table = connection.ops.quote_name(OrgUnit._meta.db_table)
    sql = (
        f"WITH RECURSIVE tree(id, path, depth) AS ("
        f"SELECT id, '/' || CAST(id AS TEXT) || '/', 0 FROM {table} WHERE parent_id IS NULL "
        f"UNION ALL SELECT c.id, tree.path || CAST(c.id AS TEXT) || '/', tree.depth + 1 "
        f"FROM {table} AS c JOIN tree ON c.parent_id = tree.id) "
        f"UPDATE {table} SET path = tree.path, depth = tree.depth, updated_at = %s FROM tree "
        f"WHERE {table}.id = tree.id AND ({table}.path <> tree.path OR {table}.depth <> tree.depth)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(ctx.now)])


def _units(actor, scope) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.all()


def _people_refs(actor, scope) -> QuerySet[User]:
    return User.objects.filter(api_client__isnull=True)


ORG_UNIT_BULK = BulkSpec(
    resource="org-units",
    model=OrgUnit,
    visible=_units,
    fields=(
        BulkField("code", required=True, max_length=32, unique=True),
        BulkField("name", required=True, max_length=128),
        BulkField("name_en", max_length=128),
        BulkField("kind", CHOICE, required=True, choices=tuple(OrgUnit.Kind.values)),
        BulkField("market_type", CHOICE, choices=tuple(MarketType.values)),
        BulkField("is_active", BOOL),
    ),
    references=(
        BulkReference(
            "parent",
            queryset=_units,
            match_on=("external_id", "code"),
            fetch=("kind",),
            within_batch=True,
            help_text="The parent unit's external_id or code (it may be another row of this request).",
        ),
        BulkReference(
            "manager",
            queryset=_people_refs,
            match_on=("external_id", "username"),
            help_text="The manager's external_id or username.",
        ),
    ),
    reads=("kind",),
    prepare=_org_unit_prepare,
    write_order=lambda row, ctx: LEVEL.get(_unit_kind(ctx, row) or "", 0),
    after_write=_org_unit_paths,
)


class OrgUnitBulkApi(BulkUpsertApi):
    """Up to 10,000 units a request, parents before or in the same request (written level by level)."""

    admin_write_only = True
    bulk_spec = ORG_UNIT_BULK


def _user_prepare(ctx: BulkContext) -> list[str]:
    deferred = ctx.deferred.get("manager", {})
    for index, row in enumerate(ctx.rows):
        current = ctx.reads.get(row["external_id"])
        own = deferred.get(index) == row["external_id"] or (
            current is not None and row.get("manager") is not None and row["manager"] == current["id"]
        )
        if own:
            ctx.error(index, "manager", _("A person cannot report to themselves. 不能以自己为上级。"))
    return []


USER_BULK = BulkSpec(
    resource="users",
    model=User,
    visible=lambda actor, scope: User.objects.filter(api_client__isnull=True),
    fields=(
        BulkField("username", required=True, max_length=150, unique=True, pattern=r"[\w.@+-]{1,150}"),
        BulkField("full_name", max_length=128),
        BulkField("email", EMAIL, max_length=254),
        BulkField("job_role", CHOICE, choices=tuple(User.JobRole.values)),
        BulkField("preferred_language", CHOICE, choices=tuple(User.Language.values)),
        BulkField("phone", max_length=32),
        BulkField("is_active", BOOL),
    ),
    references=(
        BulkReference(
            "org_unit",
            queryset=_units,
            match_on=("external_id", "code"),
            help_text="The org unit's external_id or code.",
        ),
        BulkReference(
            "manager",
            queryset=_people_refs,
            match_on=("external_id", "username"),
            within_batch=True,
            help_text="The manager's external_id or username (it may be another row of this request).",
        ),
    ),
    reads=("id",),
    prepare=_user_prepare,
    # No passwords in bulk: new people get an unusable one (they set theirs through the reset flow or SSO).
    insert_values=lambda actor: {"password": make_password(None)},
)


class UserBulkApi(BulkUpsertApi):
    """Up to 10,000 people a request; managers by external id or username, also within the request."""

    admin_write_only = True
    bulk_spec = USER_BULK
