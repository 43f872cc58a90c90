"""Writes to the org tree and people."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from accounts.models import OrgUnit, User
from ltc.errors import ApplicationError, NotAllowed


def _check_parent(kind: str, parent: OrgUnit | None) -> None:
    if kind == OrgUnit.Kind.HQ:
        if parent is not None:
            raise ApplicationError(
                _("Headquarters has no parent unit. 总部没有上级组织。"), {"parent": ["—"]}
            )
        return
    if parent is None:
        raise ApplicationError(
            _("This unit needs a parent unit. 该组织需要上级组织。"), {"parent": [_("Required. 必填。")]}
        )
    if OrgUnit.CHILD_KIND.get(parent.kind) != kind:
        raise ApplicationError(
            _("A %(kind)s cannot sit under a %(parent)s. 组织层级不匹配。")
            % {"kind": kind, "parent": parent.kind},
            {"parent": [_("Wrong level. 层级错误。")]},
        )


@transaction.atomic
def org_unit_create(
    *,
    code: str,
    name: str,
    kind: str,
    parent: OrgUnit | None = None,
    name_en: str = "",
    external_id: str | None = None,
    market_type: str = "NEW",
    manager: User | None = None,
) -> OrgUnit:
    _check_parent(kind, parent)
    unit = OrgUnit.objects.create(
        code=code,
        name=name,
        name_en=name_en,
        kind=kind,
        parent=parent,
        external_id=external_id,
        market_type=market_type,
        manager=manager,
        path="",
        depth=(parent.depth + 1) if parent else 0,
    )
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    return unit


@transaction.atomic
def org_unit_move(*, unit: OrgUnit, new_parent: OrgUnit) -> OrgUnit:
    """Move a unit (and its subtree) under another parent; rewrites the paths of the whole subtree."""
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    _check_parent(unit.kind, new_parent)
    if new_parent.path.startswith(unit.path):
        raise ApplicationError(_("A unit cannot move under itself. 组织不能移到自身之下。"))
    old_path, new_path = unit.path, f"{new_parent.path}{unit.pk}/"
    depth_shift = new_parent.depth + 1 - unit.depth
    OrgUnit.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + depth_shift,
    )
    OrgUnit.objects.filter(pk=unit.pk).update(parent=new_parent)
    unit.refresh_from_db()
    return unit


# --- Edits by an administrator (the browser admin, or an HR/ERP API client with the "admin" scope) ---------

ORG_UNIT_UPDATABLE_FIELDS = frozenset(
    {"name", "name_en", "manager", "market_type", "is_active", "external_id"}
)
USER_UPDATABLE_FIELDS = frozenset(
    {
        "full_name",
        "email",
        "org_unit",
        "manager",
        "job_role",
        "preferred_language",
        "phone",
        "is_active",
        "external_id",
    }
)


def _require_admin(actor: User) -> None:
    if not actor.sees_everything:
        raise NotAllowed(
            _("Only an administrator may change the organisation. 只有管理员可以修改组织与人员。")
        )


def _reject_unknown(fields: dict, allowed: frozenset) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ApplicationError(
            _("These fields cannot be changed here: %(fields)s. 这些字段不能在此修改。")
            % {"fields": ", ".join(sorted(unknown))},
            {name: [_("Not editable here. 此处不可修改。")] for name in sorted(unknown)},
        )


@transaction.atomic
def org_unit_update(*, actor: User, unit: OrgUnit, **fields) -> OrgUnit:
    """Rename, re-staff or (de)activate a unit. Moving it is `org_unit_move`."""
    _require_admin(actor)
    _reject_unknown(fields, ORG_UNIT_UPDATABLE_FIELDS)
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    if (
        fields.get("external_id")
        and OrgUnit.objects.filter(external_id=fields["external_id"]).exclude(pk=unit.pk).exists()
    ):
        raise ApplicationError(
            _("Already used. 已被使用。"), {"external_id": [_("Already used. 已被使用。")]}
        )
    changed = [name for name, value in fields.items() if getattr(unit, name) != value]
    if changed:
        for name in changed:
            setattr(unit, name, fields[name])
        unit.save(update_fields=[*changed, "updated_at"])
    return unit


@transaction.atomic
def user_create(
    *,
    actor: User,
    username: str,
    full_name: str = "",
    email: str = "",
    org_unit: OrgUnit | None = None,
    manager: User | None = None,
    job_role: str = User.JobRole.SALES_REP,
    preferred_language: str = User.Language.ZH,
    phone: str = "",
    external_id: str | None = None,
) -> User:
    """Add a person (no password: they set one through the reset flow, or log in by SSO later)."""
    _require_admin(actor)
    errors: dict[str, list] = {}
    if User.objects.filter(username=username).exists():
        errors["username"] = [_("Already used. 已被使用。")]
    if external_id and User.objects.filter(external_id=external_id).exists():
        errors["external_id"] = [_("Already used. 已被使用。")]
    if errors:
        raise ApplicationError(_("Please correct the errors below. 请更正以下错误。"), errors)
    user = User(
        username=username,
        full_name=full_name,
        email=email,
        org_unit=org_unit,
        manager=manager,
        job_role=job_role,
        preferred_language=preferred_language,
        phone=phone,
        external_id=external_id or None,
    )
    user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def user_update(*, actor: User, user: User, **fields) -> User:
    _require_admin(actor)
    _reject_unknown(fields, USER_UPDATABLE_FIELDS)
    user = User.objects.select_for_update().get(pk=user.pk)
    errors: dict[str, list] = {}
    if fields.get("manager") is not None and fields["manager"].pk == user.pk:
        errors["manager"] = [_("A person cannot report to themselves. 不能以自己为上级。")]
    if (
        fields.get("external_id")
        and User.objects.filter(external_id=fields["external_id"]).exclude(pk=user.pk).exists()
    ):
        errors["external_id"] = [_("Already used. 已被使用。")]
    if errors:
        raise ApplicationError(_("Please correct the errors below. 请更正以下错误。"), errors)
    changed = [name for name, value in fields.items() if getattr(user, name) != value]
    if changed:
        for name in changed:
            setattr(user, name, fields[name])
        user.save(update_fields=[*changed, "updated_at"])
    return user
