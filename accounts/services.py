"""Writes to the org tree and people."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from accounts.models import OrgUnit, User
from ltc.errors import ApplicationError


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
