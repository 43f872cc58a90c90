"""Writes to the product catalogue (reference data: administrators only)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from ltc.errors import ApplicationError, NotAllowed
from pipeline.models import Product

PRODUCT_UPDATABLE_FIELDS = frozenset(
    {"code", "name", "product_line", "series", "list_price", "currency", "is_active", "external_id"}
)


def _require_admin(actor: User) -> None:
    if not actor.sees_everything:
        raise NotAllowed(_("Only an administrator may change the catalogue. 只有管理员可以修改产品目录。"))


def _validate(fields: dict[str, Any], *, exclude_pk: int | None = None) -> None:
    errors: dict[str, list] = {}
    for name in ("code", "name", "product_line"):
        if name in fields and not (fields[name] or "").strip():
            errors[name] = [_("This field is required. 此项必填。")]
    if "list_price" in fields and Decimal(fields["list_price"]) < 0:
        errors["list_price"] = [_("Must not be negative. 不能为负数。")]
    if "currency" in fields and not re.fullmatch(r"[A-Z]{3}", fields["currency"] or ""):
        errors["currency"] = [_("A three-letter currency code. 三位币种代码。")]
    others = Product.objects.exclude(pk=exclude_pk) if exclude_pk else Product.objects.all()
    if fields.get("code") and others.filter(code=fields["code"].strip()).exists():
        errors.setdefault("code", []).append(_("Already used. 已被使用。"))
    if fields.get("external_id") and others.filter(external_id=fields["external_id"]).exists():
        errors.setdefault("external_id", []).append(_("Already used. 已被使用。"))
    if errors:
        raise ApplicationError(_("Please correct the errors below. 请更正以下错误。"), extra=errors)


@transaction.atomic
def product_create(
    *,
    actor: User,
    code: str,
    name: str,
    product_line: str,
    series: str = "",
    list_price: Decimal = Decimal(0),
    currency: str = "CNY",
    is_active: bool = True,
    external_id: str | None = None,
) -> Product:
    _require_admin(actor)
    fields = {
        "code": code,
        "name": name,
        "product_line": product_line,
        "list_price": list_price,
        "currency": currency,
        "external_id": external_id,
    }
    _validate(fields)
    return Product.objects.create(
        code=code.strip(),
        name=name.strip(),
        product_line=product_line.strip(),
        series=series,
        list_price=list_price,
        currency=currency,
        is_active=is_active,
        external_id=external_id or None,
    )


@transaction.atomic
def product_update(*, actor: User, product: Product, **fields: Any) -> Product:
    _require_admin(actor)
    unknown = set(fields) - PRODUCT_UPDATABLE_FIELDS
    if unknown:
        raise ApplicationError(
            _("These fields cannot be changed here: %(fields)s. 这些字段不能在此修改。")
            % {"fields": ", ".join(sorted(unknown))},
            extra={name: [_("Not editable here. 此处不可修改。")] for name in sorted(unknown)},
        )
    _validate(fields, exclude_pk=product.pk)
    product = Product.objects.select_for_update().get(pk=product.pk)
    changed = [name for name, value in fields.items() if getattr(product, name) != value]
    if not changed:
        return product
    for name in changed:
        setattr(product, name, fields[name])
    product.save(update_fields=[*changed, "updated_at"])
    return product
