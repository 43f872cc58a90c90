"""Rendering list rows straight from database values, for output serializers made of plain columns.

A list page rendered through DRF builds, per request, the serializer's fields (ModelSerializer's field
introspection), then per row a model instance and, per field, `get_attribute` + `to_representation`. For a
serializer whose every field reads one column of the row (or one column of a row it points to:
`source="fk.column"`), the same output comes from `values()` and each field's own `to_representation`: no
model instances, and the bound fields are built once per (serializer class, `?fields=` set) and reused.

Anything else — a method field, a nested serializer, a property, a custom `to_representation` (e.g. the
contact's private notes, which depend on who asks) — has no plan, and the view renders through DRF as
before. `tests/api/test_rows.py` compares both paths on every list resource.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings


@dataclass(frozen=True)
class Column:
    name: str  # the output key
    lookup: str  # the values() lookup: "amount", "customer" (its id), "account_dept__code"
    convert: Callable[[Any], Any] | None  # None: the value as the database gives it
    #: A DateTimeField in ISO 8601: rendered in the request's current time zone by `_iso_in` (DRF's
    #: enforce_timezone looks the zone up again for every value; a page looks it up once).
    zoned: bool = False


def _iso_in(zone: tzinfo, field: serializers.Field) -> Callable[[Any], Any]:
    """DRF's DateTimeField.to_representation for an aware datetime in `zone` (ISO 8601, "Z" for UTC)."""

    def convert(value: Any) -> Any:
        if not isinstance(value, datetime) or value.tzinfo is None:
            return field.to_representation(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return field.to_representation(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


@dataclass(frozen=True)
class RowPlan:
    columns: tuple[Column, ...]
    #: The foreign keys whose rows rendering reads (joined by `values()` through `fk__column`).
    related: frozenset[str]

    def lookups(self, extra: Iterable[str] = ()) -> list[str]:
        names = [c.lookup for c in self.columns]
        return names + [name for name in extra if name not in names]

    def render(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The output rows of a page of values() rows."""
        zone = timezone.get_current_timezone()
        plan = [
            (c.name, c.lookup, _iso_in(zone, c.convert.__self__) if c.zoned else c.convert)  # type: ignore[union-attr]
            for c in self.columns
        ]
        # DRF skips to_representation for None ("so that fields do not have to deal with that case").
        return [
            {
                name: (value if (value := row[lookup]) is None or convert is None else convert(value))
                for name, lookup, convert in plan
            }
            for row in rows
        ]


def _column(field: serializers.Field, model: type[Model]) -> tuple[Column, str | None] | None:
    """The column that `field` renders and the foreign key it reads through, or None (not a plain column)."""
    concrete = {f.name: f for f in model._meta.concrete_fields}
    is_related = isinstance(field, serializers.RelatedField)
    if field.source in concrete:
        column = concrete[field.source]
        if column.is_relation != is_related:
            return None
        if is_related:
            if not field.use_pk_only_optimization() or field.pk_field is not None:
                return None
            # values("customer") gives customer_id: DRF renders a PrimaryKeyRelatedField as that pk.
            return Column(field.field_name, column.name, None), None
        # CharField renders str(value) and IntegerField int(value): what the database already gives for
        # text and integer columns. Every other field renders through its own to_representation.
        method, internal = type(field).to_representation, column.get_internal_type()
        if (method is serializers.CharField.to_representation and internal in _TEXT_COLUMNS) or (
            method is serializers.IntegerField.to_representation and internal in _INTEGER_COLUMNS
        ):
            convert = None
        else:
            convert = field.to_representation
        zoned = (
            method is serializers.DateTimeField.to_representation
            and settings.USE_TZ
            and not hasattr(field, "timezone")
            and getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601
        )
        return Column(field.field_name, column.name, convert, zoned), None
    parts = field.source.split(".")
    target = concrete.get(parts[0])
    if len(parts) != 2 or target is None or not target.many_to_one or is_related:
        return None
    remote = {f.name: f for f in target.related_model._meta.concrete_fields}.get(parts[1])
    if remote is None or remote.is_relation:
        return None
    return Column(field.field_name, f"{parts[0]}__{parts[1]}", field.to_representation), parts[0]


_TEXT_COLUMNS = {"CharField", "TextField", "EmailField", "URLField", "SlugField"}
_INTEGER_COLUMNS = {
    "AutoField",
    "BigAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "PositiveBigIntegerField",
}


def row_plan_for(serializer: serializers.Serializer, model: type[Model]) -> RowPlan | None:
    """The plan of a bound serializer (its fields as trimmed by `?fields=`), or None when it is not plain."""
    base = serializers.ModelSerializer.to_representation
    if type(serializer).to_representation is not base:
        return None
    columns: list[Column] = []
    related: set[str] = set()
    for field in serializer._readable_fields:
        if isinstance(field, serializers.BaseSerializer | serializers.SerializerMethodField):
            return None
        found = _column(field, model)
        if found is None:
            return None
        column, fk = found
        columns.append(column)
        if fk:
            related.add(fk)
    return RowPlan(tuple(columns), frozenset(related))


@lru_cache(maxsize=256)
def row_plan(serializer_class: type[serializers.Serializer], fields: frozenset[str] | None) -> RowPlan | None:
    """The cached plan of `serializer_class` trimmed to `fields` (None: all of them).

    The serializer is bound once, without a request: a plain column's rendering does not depend on who asks
    (a field that does — a method field, a custom to_representation — gives no plan).
    """
    serializer = serializer_class(context={"fields": set(fields) if fields else None})
    return row_plan_for(serializer, serializer_class.Meta.model)
