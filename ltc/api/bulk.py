"""Bulk upsert by external id: the engine behind `POST /api/v1/<resource>/bulk/`.

A resource describes its rows with a `BulkSpec` (plain fields, references to other objects by their external
id or code, fields unique across the table, the visibility selector); `bulk_upsert` does the rest:

1. Validate every row in Python (no query per row): types, lengths, choices, ranges, the same field set in
   every row (an update touches only the fields sent), duplicate keys in the request.
2. Resolve references with one `IN` query per referenced type, through the caller's visibility: a reference
   to something the caller cannot see is a bad row, as is a key matching an existing row the caller cannot
   see (one query), or a unique value (tax id, code) held by another row (one query per unique field).
3. Any bad row: `BulkRowsInvalid` naming each row's index, field and message; nothing is written.
4. Write, all or nothing, in one statement:
   - PostgreSQL: COPY the rows into a temporary table, then one
     `INSERT … SELECT … ON CONFLICT (external_id) DO UPDATE SET … WHERE (cols) IS DISTINCT FROM (excluded)
     RETURNING external_id, (xmax = 0)`: `xmax = 0` marks the inserted rows; rows whose values did not change
     are not touched (no `updated_at` bump, no dead tuple) and not returned.
   - SQLite: the same upsert reading the rows from one JSON parameter through `json_each` (SQLite ≥ 3.35 for
     RETURNING); the rows created are the keys that did not exist in step 2.
   unchanged = rows − created − updated.
5. One `BulkUpsertAudit` row per request (who, when, resource, counts, keys created and updated), in the
   same transaction. Per-row simple_history records are deliberately not written: they would cost a query
   or a row per record; the audit row names every key touched instead.

The number of queries is constant whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Case, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from rest_framework import serializers

from accounts.models import User
from accounts.selectors import Scope, scope_for
from ltc.errors import ApplicationError
from ltc.models import ApiClient, BulkUpsertAudit

MAX_ROWS = 10_000
KEY_MAX_LENGTH = 64

STR, TEXT, DECIMAL, INT, BOOL, DATE, CHOICE, EMAIL = (
    "str",
    "text",
    "decimal",
    "int",
    "bool",
    "date",
    "choice",
    "email",
)


@dataclass(frozen=True)
class BulkField:
    """A plain column of the row. `required`: must be sent (non-null) when the row creates a record."""

    name: str
    kind: str = STR
    required: bool = False
    nullable: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    min_value: Decimal | int | None = None
    max_value: Decimal | int | None = None
    max_digits: int = 18
    decimal_places: int = 2
    unique: bool = False
    help_text: str = ""
    #: A regular expression a (non-empty) string must match in full.
    pattern: str | None = None
    #: Normalises a cleaned string (e.g. a tax id's spaces and case), as the services do.
    transform: Callable[[str], Any] | None = None
    #: False: an input the spec's `prepare` hook reads (e.g. a milestone's sequence) but no column of the table.
    write: bool = True


@dataclass(frozen=True)
class BulkReference:
    """A foreign key given by the other object's external id (or code, …): one IN query for all rows.

    `queryset(actor, scope)` yields the objects the caller may reference; `match_on` the columns tried in
    order (a value matching the first column wins over the second).
    """

    name: str
    queryset: Callable[[User, Scope], QuerySet]
    match_on: tuple[str, ...] = ("external_id",)
    required: bool = False
    nullable: bool = True
    help_text: str = ""
    #: More columns of the referenced objects, read by the same IN query, for the spec's hooks:
    #: `ctx.ref_data[name][pk][column]` (e.g. a customer's account department, an invoice's contract).
    fetch: tuple[str, ...] = ()
    #: The value may name another row of the same request (by the key or a `match_on` column the rows send):
    #: a parent unit, a manager. Such a reference is filled in once that row is written (see `write_order`).
    within_batch: bool = False

    @property
    def column(self) -> str:
        return f"{self.name}_id"


@dataclass(frozen=True)
class BulkSpec:
    resource: str
    model: type[models.Model]
    fields: tuple[BulkField, ...]
    visible: Callable[[User, Scope], QuerySet]
    references: tuple[BulkReference, ...] = ()
    key: str = "external_id"
    #: Columns computed from the whole row (e.g. a customer's tier from its purchases), by the same pure
    #: function the services use. It receives the merged row (the existing record's `derive_reads` values,
    #: or the model defaults for a new record, overlaid with the row sent) and returns {field: value}.
    derive: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    derive_reads: tuple[str, ...] = ()
    #: Columns of the existing rows the hooks need: `ctx.reads[key][column]` (read by the same one query).
    reads: tuple[str, ...] = ()
    #: Cross-row and cross-table rules, after the references are resolved: may add errors with
    #: `ctx.error(...)`, set computed columns on `ctx.rows`, and returns the names of those extra columns.
    #: A constant number of queries, whatever the number of rows.
    prepare: Callable[[BulkContext], list[str]] | None = None
    #: Values of columns not sent, for the rows inserted (existing rows keep theirs): {field: value}.
    insert_values: Callable[[User], dict[str, Any]] | None = None
    #: Rows are written in groups, in the order of this number (e.g. an org unit's level): a `within_batch`
    #: reference to a row of an earlier group is resolved before its own group is written (one query).
    write_order: Callable[[dict[str, Any], BulkContext], int] | None = None
    #: Runs after the write in the same transaction (a constant number of statements): running totals,
    #: materialised paths, child rows. May raise `BulkRowsInvalid` (everything is rolled back).
    after_write: Callable[[BulkContext, BulkResult], None] | None = None

    def names(self) -> dict[str, BulkField | BulkReference]:
        return {item.name: item for item in (*self.fields, *self.references)}

    def row_serializer(self) -> type[serializers.Serializer]:
        """A serializer describing one row, for the OpenAPI schema (rows are validated by the engine)."""
        attrs: dict[str, serializers.Field] = {
            self.key: serializers.CharField(
                max_length=KEY_MAX_LENGTH, help_text="The record's key in your system."
            )
        }
        for item in self.fields:
            if item.name == self.key:
                continue
            attrs[item.name] = _schema_field(item)
        for ref in self.references:
            attrs[ref.name] = serializers.CharField(
                required=False,
                allow_null=ref.nullable,
                help_text=ref.help_text or f"By {' or '.join(ref.match_on)}.",
            )
        name = "".join(part.capitalize() for part in re.split(r"[^a-zA-Z]", self.resource)) + "BulkRow"
        return type(name, (serializers.Serializer,), attrs)

    def input_serializer(self) -> type[serializers.Serializer]:
        row = self.row_serializer()
        name = row.__name__.replace("Row", "Input")
        return type(
            name,
            (serializers.Serializer,),
            {"rows": row(many=True, help_text=f"1 to {MAX_ROWS} rows, each with the same fields.")},
        )


def _schema_field(item: BulkField) -> serializers.Field:
    common: dict[str, Any] = {"required": False, "allow_null": item.nullable, "help_text": item.help_text}
    if item.kind == DECIMAL:
        return serializers.DecimalField(
            max_digits=item.max_digits,
            decimal_places=item.decimal_places,
            min_value=item.min_value,
            max_value=item.max_value,
            **common,
        )
    if item.kind == INT:
        return serializers.IntegerField(min_value=item.min_value, max_value=item.max_value, **common)
    if item.kind == BOOL:
        return serializers.BooleanField(**common)
    if item.kind == DATE:
        return serializers.DateField(**common)
    if item.kind == CHOICE:
        return serializers.ChoiceField(choices=list(item.choices), **common)
    if item.kind == EMAIL:
        return serializers.EmailField(allow_blank=True, max_length=item.max_length, **common)
    return serializers.CharField(allow_blank=True, max_length=item.max_length, **common)


@dataclass
class BulkResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    created_keys: list[str] = field(default_factory=list)
    updated_keys: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


class BulkRowsInvalid(Exception):
    """Bad rows: `errors` is a list of {"index", "field", "message"}, sorted by index."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} bad row(s)")
        self.errors = sorted(errors, key=lambda e: (e["index"], e["field"]))

    @property
    def message(self) -> str:
        return _(
            "%(count)d row(s) are invalid; nothing was written. %(count)d 行数据有误，未写入任何数据。"
        ) % {"count": len({e["index"] for e in self.errors})}


@dataclass
class BulkContext:
    """What the hooks of a spec see: the cleaned rows (references resolved to ids), the field names sent,
    the existing rows' `reads`, the referenced objects' `fetch` columns, and the errors so far."""

    spec: BulkSpec
    actor: User
    scope: Scope
    rows: list[dict[str, Any]]
    sent: list[str]
    errors: list[dict[str, Any]]
    existing: dict[str, bool] = field(default_factory=dict)
    reads: dict[str, dict[str, Any]] = field(default_factory=dict)
    ref_data: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    #: {reference name: {row index: key of the row of this request it names}}
    deferred: dict[str, dict[int, str]] = field(default_factory=dict)
    now: dt.datetime = field(default_factory=timezone.now)

    def error(self, index: int, name: str, message: str) -> None:
        self.errors.append({"index": index, "field": name, "message": message})


# --- Row validation (pure Python) ------------------------------------------------------------------


class _Bad(Exception):
    pass


def _clean_value(item: BulkField, value: Any) -> Any:
    if value is None:
        if item.nullable:
            return None
        raise _Bad(_("This field may not be null. 不能为空值。"))
    kind = item.kind
    if kind in (STR, TEXT, EMAIL, CHOICE):
        if not isinstance(value, str):
            raise _Bad(_("Not a string. 应为字符串。"))
        if "\x00" in value:
            raise _Bad(_("Null characters are not allowed. 不允许空字符。"))
        value = value.strip() if kind != TEXT else value
        if item.max_length is not None and len(value) > item.max_length:
            raise _Bad(_("At most %(n)d characters. 最多 %(n)d 个字符。") % {"n": item.max_length})
        if item.required and kind != TEXT and value == "":
            raise _Bad(_("This field may not be blank. 不能为空。"))
        if kind == CHOICE and value not in item.choices:
            raise _Bad(_("Not one of: %(choices)s. 取值无效。") % {"choices": ", ".join(item.choices)})
        if item.pattern and value and not re.fullmatch(item.pattern, value):
            raise _Bad(_("Not in the expected format. 格式不正确。"))
        if item.transform is not None:
            value = item.transform(value)
        if kind == EMAIL and value:
            try:
                validate_email(value)
            except DjangoValidationError as exc:
                raise _Bad(_("Not a valid e-mail address. 邮箱格式错误。")) from exc
        return value
    if kind == BOOL:
        if not isinstance(value, bool):
            raise _Bad(_("Not true or false. 应为 true 或 false。"))
        return value
    if kind == INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(_("Not a whole number. 应为整数。"))
        _check_range(item, value)
        return value
    if kind == DECIMAL:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _Bad(_("Not a number. 应为数字。"))
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise _Bad(_("Not a number. 应为数字。")) from exc
        if not number.is_finite():
            raise _Bad(_("Not a number. 应为数字。"))
        exponent = number.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if places > item.decimal_places:
            raise _Bad(_("At most %(n)d decimal places. 最多 %(n)d 位小数。") % {"n": item.decimal_places})
        number = number.quantize(Decimal(1).scaleb(-item.decimal_places))
        if len(number.as_tuple().digits) > item.max_digits:
            raise _Bad(_("Too large. 数值过大。"))
        _check_range(item, number)
        return number
    if kind == DATE:
        parsed = parse_date(value) if isinstance(value, str) else None
        if parsed is None:
            raise _Bad(_("Not a date (YYYY-MM-DD). 日期格式应为 YYYY-MM-DD。"))
        return parsed
    raise _Bad(f"unknown kind {kind}")


def _check_range(item: BulkField, value: Decimal | int) -> None:
    if item.min_value is not None and value < item.min_value:
        raise _Bad(_("At least %(v)s. 不能小于 %(v)s。") % {"v": item.min_value})
    if item.max_value is not None and value > item.max_value:
        raise _Bad(_("At most %(v)s. 不能大于 %(v)s。") % {"v": item.max_value})


def _fast_cleaner(item: BulkField | BulkReference) -> Callable[[Any], Any]:
    """A cleaner for one column with a fast path for the common, valid value.

    It returns exactly what `_clean_value` / `_clean_reference` would for the values it accepts, and hands
    every other value (wrong type, too long, out of range, an error to report) to them. Validation is most of
    the Python time of a 10,000-row request; this halves it.
    """
    if isinstance(item, BulkReference):
        ref = item

        def clean_reference(value: Any) -> Any:
            if value.__class__ is str and value and len(value) <= 128 and "\x00" not in value:
                return value.strip()
            return _clean_reference(ref, value)

        return clean_reference
    kind = item.kind
    slow = partial(_clean_value, item)
    if kind in (STR, CHOICE):
        max_length = item.max_length if item.max_length is not None else float("inf")
        choices = frozenset(item.choices) if kind == CHOICE else None
        pattern = re.compile(item.pattern) if item.pattern else None
        required, transform = item.required, item.transform

        def clean_str(value: Any) -> Any:
            if value.__class__ is str and "\x00" not in value:
                stripped = value.strip()
                if (
                    len(stripped) <= max_length
                    and (stripped or not required)
                    and (choices is None or stripped in choices)
                    and (pattern is None or not stripped or pattern.fullmatch(stripped))
                ):
                    return transform(stripped) if transform is not None else stripped
            return slow(value)

        return clean_str
    if kind == BOOL:
        return lambda value: value if value is True or value is False else slow(value)
    if kind == INT:
        low, high = item.min_value, item.max_value

        def clean_int(value: Any) -> Any:
            if value.__class__ is int and (low is None or value >= low) and (high is None or value <= high):
                return value
            return slow(value)

        return clean_int
    if kind == DECIMAL:
        shape = re.compile(
            rf"[0-9]{{1,{max(1, item.max_digits - item.decimal_places)}}}"
            + (rf"(?:\.[0-9]{{1,{item.decimal_places}}})?" if item.decimal_places else "")
        )
        quantum = Decimal(1).scaleb(-item.decimal_places)
        low, high = item.min_value, item.max_value

        def clean_decimal(value: Any) -> Any:
            if value.__class__ is str and shape.fullmatch(value):
                number = Decimal(value).quantize(quantum)
                if (low is None or number >= low) and (high is None or number <= high):
                    return number
            return slow(value)

        return clean_decimal
    return slow


def _validate_rows(spec: BulkSpec, rows: Any) -> tuple[list[dict[str, Any]], list[str], list[dict]]:
    """Clean every row. Returns (cleaned rows, the field names sent, errors)."""
    if not isinstance(rows, list) or not rows:
        raise ApplicationError(
            _('Send {"rows": [...]} with 1 to %(max)d rows. 请提交 1 到 %(max)d 行。') % {"max": MAX_ROWS},
            {"rows": [_("A non-empty list. 非空列表。")]},
        )
    if len(rows) > MAX_ROWS:
        raise ApplicationError(
            _("At most %(max)d rows a request. 每次最多 %(max)d 行。") % {"max": MAX_ROWS},
            {"rows": [_("At most %(max)d rows. 最多 %(max)d 行。") % {"max": MAX_ROWS}]},
        )
    known = spec.names()
    errors: list[dict[str, Any]] = []
    sent: list[str] = []
    if isinstance(rows[0], dict):
        sent = [name for name in rows[0] if name in known and name != spec.key]
    sent_set = set(sent)
    # Rows with exactly row 0's fields, all of them known, take the fast path: no per-field shape checks.
    first_keys = rows[0].keys() if isinstance(rows[0], dict) else None
    fast_shape = first_keys is not None and set(first_keys) == {spec.key, *sent}
    cleaners = [(name, _fast_cleaner(known[name])) for name in sent]
    cleaned: list[dict[str, Any]] = []
    seen_keys: dict[str, int] = {}
    for index, row in enumerate(rows):
        out: dict[str, Any] = {}
        if not isinstance(row, dict):
            errors.append(
                {"index": index, "field": "non_field_errors", "message": _("Not an object. 应为对象。")}
            )
            cleaned.append(out)
            continue
        key = row.get(spec.key)
        if not isinstance(key, str) or not key.strip() or len(key.strip()) > KEY_MAX_LENGTH:
            errors.append(
                {
                    "index": index,
                    "field": spec.key,
                    "message": _("Required: a string of 1 to %(n)d characters. 必填，1 到 %(n)d 个字符。")
                    % {"n": KEY_MAX_LENGTH},
                }
            )
        else:
            key = key.strip()
            if key in seen_keys:
                errors.append(
                    {
                        "index": index,
                        "field": spec.key,
                        "message": _("Duplicate of row %(i)d. 与第 %(i)d 行重复。") % {"i": seen_keys[key]},
                    }
                )
            else:
                seen_keys[key] = index
            out[spec.key] = key
        if fast_shape and row.keys() == first_keys:
            for name, clean in cleaners:
                try:
                    out[name] = clean(row[name])
                except _Bad as bad:
                    errors.append({"index": index, "field": name, "message": str(bad)})
            cleaned.append(out)
            continue
        for name, value in row.items():
            if name == spec.key:
                continue
            item = known.get(name)
            if item is None:
                errors.append({"index": index, "field": name, "message": _("Unknown field. 未知字段。")})
                continue
            if name not in sent_set:
                errors.append(
                    {
                        "index": index,
                        "field": name,
                        "message": _(
                            "Every row must send the same fields as row 0. 每行字段须与第 0 行相同。"
                        ),
                    }
                )
                continue
            try:
                if isinstance(item, BulkReference):
                    out[name] = _clean_reference(item, value)
                else:
                    out[name] = _clean_value(item, value)
            except _Bad as bad:
                errors.append({"index": index, "field": name, "message": str(bad)})
        for name in sent:
            if name not in row:
                errors.append(
                    {
                        "index": index,
                        "field": name,
                        "message": _(
                            "Every row must send the same fields as row 0. 每行字段须与第 0 行相同。"
                        ),
                    }
                )
        cleaned.append(out)
    return cleaned, sent, errors


def _clean_reference(ref: BulkReference, value: Any) -> str | None:
    if value is None or value == "":
        if ref.nullable and not ref.required:
            return None
        raise _Bad(_("This field is required. 必填。"))
    if not isinstance(value, str) or len(value) > 128 or "\x00" in value:
        raise _Bad(_("An external id or code (a string). 应为外部编号或编码（字符串）。"))
    return value.strip()


# --- Lookups: one query per referenced type, one for existing keys, one per unique field ------------------


def _in_values(model: type[models.Model], column: str, values: Iterable[Any]) -> Q:
    """`column IN values` for thousands of values, as ONE parameter where the column holds text.

    A plain `__in` list makes Django prepare and PostgreSQL parse one placeholder per value: at 10,000 keys
    that is most of a lookup's time. A text array (PostgreSQL) or a JSON array (SQLite) is one value.
    """
    values = list(values)
    if (
        "__" in column
        or len(values) < 50
        or model._meta.get_field(column).get_internal_type() not in {"CharField", "TextField"}
    ):
        return Q(**{f"{column}__in": values})
    if connection.vendor == "postgresql":
        source = RawSQL("SELECT unnest(%s::text[])", [[str(v) for v in values]])
    else:
        source = RawSQL("SELECT value FROM json_each(%s)", [json.dumps([str(v) for v in values])])
    return Q(**{f"{column}__in": source})


def _resolve_references(ctx: BulkContext) -> None:
    spec, rows, sent = ctx.spec, ctx.rows, ctx.sent
    for ref in spec.references:
        if ref.name not in sent:
            continue
        wanted = {row[ref.name] for row in rows if row.get(ref.name)}
        found: dict[str, int] = {}
        data: dict[int, dict[str, Any]] = {}
        if wanted:
            match = Q()
            target = ref.queryset(ctx.actor, ctx.scope).model
            for column in ref.match_on:
                match |= _in_values(target, column, wanted)
            candidates = (
                ref.queryset(ctx.actor, ctx.scope).filter(match).values_list("pk", *ref.match_on, *ref.fetch)
            )
            # Earlier columns win: fill from the last to the first.
            table = list(candidates)
            for position in reversed(range(len(ref.match_on))):
                for values in table:
                    if values[position + 1] is not None:
                        found[str(values[position + 1])] = values[0]
            width = 1 + len(ref.match_on)
            data = {values[0]: dict(zip(ref.fetch, values[width:], strict=True)) for values in table}
        ctx.ref_data[ref.name] = data
        in_batch = _batch_index(ref, spec, rows, sent) if ref.within_batch else {}
        for index, row in enumerate(rows):
            value = row.get(ref.name)
            if value is None:
                continue
            pk = found.get(value)
            if pk is None and value in in_batch:
                ctx.deferred.setdefault(ref.name, {})[index] = in_batch[value]
            elif pk is None:
                ctx.error(
                    index,
                    ref.name,
                    _("No %(what)s you may use has this %(on)s. 未找到可用的对象：%(value)s。")
                    % {"what": ref.name, "on": " / ".join(ref.match_on), "value": value},
                )
            row[ref.name] = pk


def _batch_index(ref: BulkReference, spec: BulkSpec, rows: list[dict], sent: list[str]) -> dict[str, str]:
    """{value a row may be named by (its key, or a `match_on` column sent): that row's key}."""
    index: dict[str, str] = {}
    for column in reversed(ref.match_on):
        if column != spec.key and column not in sent:
            continue
        for row in rows:
            value, key = row.get(column), row.get(spec.key)
            if isinstance(value, str) and value and key is not None:
                index[value] = key
    return index


def _existing_keys(
    spec: BulkSpec, keys: list[str], actor: User, scope: Scope
) -> tuple[dict[str, bool], dict[str, tuple], dict[str, dict[str, Any]]]:
    """({key: visible?}, {key: values of `derive_reads`}, {key: {column: value} of `reads`}) of the rows that
    already exist: one query."""
    qs = spec.model._default_manager.filter(_in_values(spec.model, spec.key, keys))
    if scope.everything:
        qs = qs.annotate(_bulk_visible=Value(True, output_field=models.BooleanField()))
    else:
        visible = spec.visible(actor, scope).values("pk")
        qs = qs.annotate(
            _bulk_visible=Case(
                When(pk__in=visible, then=Value(True)),
                default=Value(False),
                output_field=models.BooleanField(),
            )
        )
    existing: dict[str, bool] = {}
    derived: dict[str, tuple] = {}
    reads: dict[str, dict[str, Any]] = {}
    width = len(spec.derive_reads)
    for key, is_visible, *values in qs.values_list(
        spec.key, "_bulk_visible", *spec.derive_reads, *spec.reads
    ):
        existing[key] = bool(is_visible)
        derived[key] = tuple(values[:width])
        reads[key] = dict(zip(spec.reads, values[width:], strict=True))
    return existing, derived, reads


def _derive(spec: BulkSpec, rows: list[dict], sent: list[str], reads: dict[str, tuple]) -> list[str]:
    """Add the derived columns to every row; returns the field names sent plus the derived ones."""
    if spec.derive is None:
        return sent
    meta = spec.model._meta
    defaults = {name: meta.get_field(name).get_default() for name in spec.derive_reads}
    derived_names: list[str] = []
    for row in rows:
        current = reads.get(row.get(spec.key))
        merged = dict(zip(spec.derive_reads, current, strict=True)) if current is not None else dict(defaults)
        merged.update({name: row[name] for name in sent if name in row})
        extra = spec.derive(merged)
        row.update(extra)
        if not derived_names:
            derived_names = list(extra)
    return [*sent, *[name for name in derived_names if name not in sent]]


def _check_unique(spec: BulkSpec, rows: list[dict], sent: Iterable[str], errors: list[dict]) -> None:
    for item in spec.fields:
        if not item.unique or item.name not in sent:
            continue
        first_row: dict[Any, int] = {}
        for index, row in enumerate(rows):
            value = row.get(item.name)
            if value in (None, ""):
                continue
            if value in first_row:
                errors.append(
                    {
                        "index": index,
                        "field": item.name,
                        "message": _("Same value as row %(i)d. 与第 %(i)d 行取值相同。")
                        % {"i": first_row[value]},
                    }
                )
            else:
                first_row[value] = index
        if not first_row:
            continue
        holders = dict(
            spec.model._default_manager.filter(_in_values(spec.model, item.name, first_row)).values_list(
                item.name, spec.key
            )
        )
        for value, index in first_row.items():
            holder = holders.get(value, rows[index].get(spec.key))
            if holder != rows[index].get(spec.key):
                errors.append(
                    {
                        "index": index,
                        "field": item.name,
                        "message": _("Already used by another record. 已被其他记录使用。"),
                    }
                )


# --- The write -----------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """The columns of one write: `carried` travel with the rows (the key and the fields sent); every other
    column an INSERT must fill takes the existing row's value when the key exists (so a proposed row never
    breaks NOT NULL) and the model default otherwise. An UPDATE sets only the fields sent."""

    table: str
    key: models.Field
    carried: list[models.Field]
    others: list[tuple[models.Field, Any]]
    update: list[models.Field]
    pk_column: str
    #: The time-stamp columns the table has ("created_at", "updated_at"), set to the request's time.
    stamps: list[str] = field(default_factory=list)


def _plan(spec: BulkSpec, sent: list[str], insert_values: dict[str, Any] | None = None) -> _Plan:
    meta = spec.model._meta
    skip = {meta.pk.attname, "created_at", "updated_at"}
    insertable = [f for f in meta.concrete_fields if f.attname not in skip]
    by_name = {f.name: f for f in insertable}
    key = meta.get_field(spec.key)
    update = [by_name[name] for name in sent]
    carried = [key, *update]
    others = []
    insert_values = insert_values or {}
    for f in insertable:
        if f in carried:
            continue
        if f.name in insert_values:
            default = insert_values[f.name]
        elif f.has_default() or f.null:
            default = f.get_default()
        else:
            default = "" if f.empty_strings_allowed else None
        others.append((f, f.get_db_prep_save(default, connection)))
    stamps = [
        name for name in ("created_at", "updated_at") if any(f.attname == name for f in meta.concrete_fields)
    ]
    return _Plan(meta.db_table, key, carried, others, update, meta.pk.column, stamps)


def _row_values(plan: _Plan, row: dict) -> list[Any]:
    return [row.get(f.name) for f in plan.carried]


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


_COPY_PLAIN: dict[type, Callable[[Any], str]] = {
    bool: lambda value: "t" if value else "f",
    int: str,
    Decimal: str,
}


def _copy_value(value: Any) -> str:
    # Called for every cell of a 10,000-row request: the common types first, by exact class.
    cls = value.__class__
    if cls is str:
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_COPY_ESCAPES)
        return value
    if value is None:
        return "\\N"
    plain = _COPY_PLAIN.get(cls)
    if plain is not None:
        return plain(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def _upsert_sql(plan: _Plan, source: str, source_columns: list[str], excluded: str) -> tuple[str, list[Any]]:
    """INSERT … SELECT … FROM <source> LEFT JOIN <table> cur … ON CONFLICT (key) DO UPDATE … WHERE changed."""
    qn = connection.ops.quote_name
    table = qn(plan.table)
    key = qn(plan.key.column)
    columns = [qn(f.column) for f in plan.carried] + [qn(f.column) for f, _d in plan.others]
    params: list[Any] = []
    selects = list(source_columns)
    for f, default in plan.others:
        selects.append(f"CASE WHEN cur.{qn(plan.pk_column)} IS NULL THEN %s ELSE cur.{qn(f.column)} END")
        params.append(default)
    set_cols = [qn(f.column) for f in plan.update]
    stamp_cols = [qn(name) for name in plan.stamps]
    set_sql = (
        ", ".join(
            [f"{c} = {excluded}.{c}" for c in set_cols]
            + ([f"{qn('updated_at')} = {excluded}.{qn('updated_at')}"] if "updated_at" in plan.stamps else [])
        )
        or f"{key} = {excluded}.{key}"
    )
    if not set_cols:
        changed = "1 = 0"
    elif connection.vendor == "postgresql":
        changed = (
            f"ROW({', '.join(f'{table}.{c}' for c in set_cols)}) IS DISTINCT FROM "
            f"ROW({', '.join(f'{excluded}.{c}' for c in set_cols)})"
        )
    else:
        changed = (
            f"({', '.join(f'{table}.{c}' for c in set_cols)}) IS NOT "
            f"({', '.join(f'{excluded}.{c}' for c in set_cols)})"
        )
    # Rows whose sent values equal the stored ones are dropped before the INSERT: they never reach the
    # conflict path, so PostgreSQL neither attempts them nor locks them (an unchanged re-send writes no
    # tuple, no lock, no WAL). The ON CONFLICT … WHERE stays for a row changed by someone in between.
    pk = qn(plan.pk_column)
    sent_source = source_columns[1 : 1 + len(set_cols)]
    if not set_cols:
        wanted = f"cur.{pk} IS NULL"
    elif connection.vendor == "postgresql":
        wanted = (
            f"cur.{pk} IS NULL OR ROW({', '.join(f'cur.{c}' for c in set_cols)}) IS DISTINCT FROM "
            f"ROW({', '.join(sent_source)})"
        )
    else:
        wanted = (
            f"cur.{pk} IS NULL OR ({', '.join(f'cur.{c}' for c in set_cols)}) IS NOT "
            f"({', '.join(sent_source)})"
        )
    sql = (
        f"INSERT INTO {table} ({', '.join([*columns, *stamp_cols])}) "
        f"SELECT {', '.join([*selects, *['%s'] * len(stamp_cols)])} FROM {source} "
        f"LEFT JOIN {table} AS cur ON cur.{key} = {source_columns[0]} WHERE {wanted} "
        f"ON CONFLICT ({key}) DO UPDATE SET {set_sql} WHERE {changed} "
    )
    return sql, params


def _write_postgresql(plan: _Plan, values: list[list[Any]], now: dt.datetime) -> list[tuple[str, bool]]:
    qn = connection.ops.quote_name
    temp = qn(f"bulk_{plan.table}_{uuid.uuid4().hex[:12]}"[:63])
    carried = ", ".join(qn(f.column) for f in plan.carried)
    buffer = io.StringIO()
    buffer.write("".join("\t".join([_copy_value(v) for v in row]) + "\n" for row in values))
    buffer.seek(0)
    sql, params = _upsert_sql(
        plan, f"{temp} AS src", [f"src.{qn(f.column)}" for f in plan.carried], "EXCLUDED"
    )
    sql += f"RETURNING {qn(plan.table)}.{qn(plan.key.column)}, (xmax = 0)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS SELECT {carried} FROM {qn(plan.table)} WITH NO DATA"
        )
        cursor.copy_expert(f"COPY {temp} ({carried}) FROM STDIN", buffer)
        cursor.execute(sql, [*params, *[now] * len(plan.stamps)])
        return [(row[0], bool(row[1])) for row in cursor.fetchall()]


def _write_sqlite(plan: _Plan, values: list[list[Any]], now: dt.datetime) -> list[str]:
    qn = connection.ops.quote_name
    source_columns = []
    for position, f in enumerate(plan.carried):
        expr = f"json_extract(src.value, '$[{position}]')"
        if f.get_internal_type() == "DecimalField":
            expr = f"CAST({expr} AS NUMERIC)"
        source_columns.append(expr)
    sql, params = _upsert_sql(plan, "json_each(%s) AS src", source_columns, "excluded")
    sql += f"RETURNING {qn(plan.key.column)}"
    payload = json.dumps([[_sqlite_value(v) for v in row] for row in values], ensure_ascii=False)
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *[stamp] * len(plan.stamps), payload])
        return [row[0] for row in cursor.fetchall()]


def _fill_deferred(ctx: BulkContext, indexes: list[int], written: set[str]) -> None:
    """Resolve the `within_batch` references of these rows to rows written by earlier groups (one query)."""
    spec = ctx.spec
    wanted: dict[str, list[tuple[str, int]]] = {}
    for name, pending in ctx.deferred.items():
        for index in indexes:
            target = pending.get(index)
            if target is not None and target in written:
                wanted.setdefault(target, []).append((name, index))
    if not wanted:
        return
    ids = dict(
        spec.model._default_manager.filter(**{f"{spec.key}__in": list(wanted)}).values_list(spec.key, "pk")
    )
    for target, uses in wanted.items():
        for name, index in uses:
            ctx.rows[index][name] = ids[target]
            del ctx.deferred[name][index]


def _fix_deferred(ctx: BulkContext) -> list[str]:
    """Point the remaining `within_batch` references (to rows written in the same statement) at their rows:
    one UPDATE per reference column. Returns the keys of the rows changed."""
    spec = ctx.spec
    qn = connection.ops.quote_name
    table, key, pk = qn(spec.model._meta.db_table), qn(spec.key), qn(spec.model._meta.pk.column)
    touched: list[str] = []
    for name, pending in ctx.deferred.items():
        if not pending:
            continue
        column = qn(spec.model._meta.get_field(name).column)
        pairs = [[ctx.rows[index][spec.key], target] for index, target in pending.items()]
        payload = json.dumps(pairs, ensure_ascii=False)
        if connection.vendor == "postgresql":
            sql = (
                f"UPDATE {table} SET {column} = p.{pk} FROM json_array_elements(%s::json) AS v "
                f"JOIN {table} AS p ON p.{key} = v.value->>1 WHERE {table}.{key} = v.value->>0"
            )
        else:
            sql = (
                f"UPDATE {table} SET {column} = p.{pk} FROM json_each(%s) AS v "
                f"JOIN {table} AS p ON p.{key} = json_extract(v.value, '$[1]') "
                f"WHERE {table}.{key} = json_extract(v.value, '$[0]')"
            )
        with connection.cursor() as cursor:
            cursor.execute(sql, [payload])
        touched.extend(pair[0] for pair in pairs)
    return touched


_COPY_SAFE = (type(None), str, bool, int, Decimal, dt.date)


def _copy_new_postgresql(plan: _Plan, values: list[list[Any]], now: dt.datetime) -> list[str]:
    """Rows whose keys did not exist: one COPY straight into the table (every column: the row's, the
    defaults, the time stamps). Returns their keys. A key inserted meanwhile raises IntegrityError."""
    qn = connection.ops.quote_name
    columns = [
        *(qn(f.column) for f in plan.carried),
        *(qn(f.column) for f, _default in plan.others),
        *(qn(name) for name in plan.stamps),
    ]
    tail = "".join("\t" + _copy_value(v) for v in [*(d for _f, d in plan.others), *[now] * len(plan.stamps)])
    buffer = io.StringIO()
    buffer.write("".join("\t".join([_copy_value(v) for v in row]) + tail + "\n" for row in values))
    buffer.seek(0)
    # copy_expert is psycopg2's own: wrap it so a unique violation is Django's IntegrityError.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.copy_expert(f"COPY {qn(plan.table)} ({', '.join(columns)}) FROM STDIN", buffer)
    return [row[0] for row in values]


def _write(plan: _Plan, rows: list[dict], existing: dict[str, bool], now: dt.datetime) -> tuple[list, list]:
    values = [_row_values(plan, row) for row in rows]
    if connection.vendor == "postgresql":
        created: list[str] = []
        # New keys go in with a plain COPY (what an ERP load would do by hand): no speculative insertion, no
        # join, no RETURNING. If another writer inserted one of those keys since `_existing_keys`, the COPY
        # fails inside its savepoint and every row takes the upsert below, as before.
        new = [v for v, row in zip(values, rows, strict=True) if row[plan.key.name] not in existing]
        if new and all(isinstance(default, _COPY_SAFE) for _f, default in plan.others):
            try:
                with transaction.atomic():
                    created = _copy_new_postgresql(plan, new, now)
                values = [v for v, row in zip(values, rows, strict=True) if row[plan.key.name] in existing]
            except IntegrityError:
                created = []
        returned = _write_postgresql(plan, values, now) if values else []
        return (
            created + [k for k, inserted in returned if inserted],
            [k for k, inserted in returned if not inserted],
        )
    touched = _write_sqlite(plan, values, now)
    return [k for k in touched if k not in existing], [k for k in touched if k in existing]


def bulk_upsert(*, spec: BulkSpec, rows: Any, actor: User, api_client: ApiClient | None = None) -> BulkResult:
    """Create or update `rows` by their external id, all or nothing. Raises `BulkRowsInvalid` for bad rows."""
    scope = scope_for(actor)
    cleaned, sent, errors = _validate_rows(spec, rows)
    ctx = BulkContext(spec=spec, actor=actor, scope=scope, rows=cleaned, sent=sent, errors=errors)
    keys = [row[spec.key] for row in cleaned if spec.key in row]
    _resolve_references(ctx)
    existing, derived, reads = _existing_keys(spec, keys, actor, scope) if keys else ({}, {}, {})
    ctx.existing, ctx.reads = existing, reads
    names = spec.names()
    for index, row in enumerate(cleaned):
        key = row.get(spec.key)
        if key is None:
            continue
        if key in existing:
            if not existing[key]:
                errors.append(
                    {
                        "index": index,
                        "field": spec.key,
                        "message": _(
                            "A record with this key exists and you may not see it. 该编号的记录不可见。"
                        ),
                    }
                )
            continue
        for name, item in names.items():
            if (
                item.required
                and row.get(name) is None
                and index not in ctx.deferred.get(name, {})
                and not any(e["index"] == index and e["field"] == name for e in errors)
            ):
                errors.append(
                    {"index": index, "field": name, "message": _("Required to create. 新建时必填。")}
                )
    _check_unique(spec, cleaned, sent, errors)
    if errors:
        raise BulkRowsInvalid(errors)

    sent = _derive(spec, cleaned, sent, derived)
    ctx.sent = sent
    if spec.prepare is not None:
        sent = [*sent, *[name for name in spec.prepare(ctx) if name not in sent]]
        if errors:
            raise BulkRowsInvalid(errors)
    virtual = {name for name, item in names.items() if isinstance(item, BulkField) and not item.write}
    plan = _plan(
        spec,
        [name for name in sent if name not in virtual],
        spec.insert_values(actor) if spec.insert_values is not None else None,
    )
    groups: dict[int, list[int]] = {}
    for index, row in enumerate(cleaned):
        order = spec.write_order(row, ctx) if spec.write_order is not None else 0
        groups.setdefault(order, []).append(index)
    now = ctx.now
    try:
        with transaction.atomic():
            created_keys: list[str] = []
            updated_keys: list[str] = []
            written: set[str] = set()
            for order in sorted(groups):
                indexes = groups[order]
                _fill_deferred(ctx, indexes, written)
                created, updated = _write(plan, [cleaned[i] for i in indexes], existing, now)
                created_keys += created
                updated_keys += updated
                written.update(cleaned[i][spec.key] for i in indexes)
            done = set(created_keys) | set(updated_keys)
            updated_keys += [key for key in _fix_deferred(ctx) if key not in done]
            result = BulkResult(
                created=len(created_keys),
                updated=len(updated_keys),
                unchanged=len(cleaned) - len(created_keys) - len(updated_keys),
                created_keys=created_keys,
                updated_keys=updated_keys,
            )
            if spec.after_write is not None:
                spec.after_write(ctx, result)
            BulkUpsertAudit.objects.create(
                resource=spec.resource,
                actor=actor,
                api_client=api_client,
                rows=len(cleaned),
                created=result.created,
                updated=result.updated,
                unchanged=result.unchanged,
                created_keys=created_keys,
                updated_keys=updated_keys,
            )
    except IntegrityError as exc:
        # A concurrent writer took a unique value between the checks and the write.
        raise ApplicationError(
            _("The rows conflict with a concurrent change; send them again. 与并发修改冲突，请重新提交。"),
            code="conflict",
        ) from exc
    return result


# --- Helpers for the hooks: one statement each, whatever the number of rows --------------------------------


def _ids_sql(ids: Iterable[int]) -> tuple[str, Any]:
    """An `IN (…)` operand for a list of ids, as ONE parameter (a JSON array), on PostgreSQL and SQLite."""
    payload = json.dumps(sorted({int(i) for i in ids}))
    if connection.vendor == "postgresql":
        return "(SELECT (value #>> '{}')::bigint FROM json_array_elements(%s::json))", payload
    return "(SELECT value FROM json_each(%s))", payload


def recompute_totals(
    *,
    model: type[models.Model],
    ids: Iterable[int],
    child_model: type[models.Model],
    fk: str,
    target: str,
    child_filter: str = "",
    extra_sets: dict[str, str] | None = None,
    now: dt.datetime,
) -> None:
    """One `UPDATE parent SET target = s.total … FROM (SELECT parent.id, SUM(child.amount) … GROUP BY)`: the
    running total of `ids` recomputed from their children (optionally filtered, e.g. not cancelled), and
    `extra_sets` ({column: SQL expression over `s.total` and the parent's columns as `p.<column>`}). Only the
    rows whose values change are written (their `updated_at` too). A CHECK constraint violated by a new
    total raises IntegrityError (the caller names the rows)."""
    ids = list(ids)
    if not ids:
        return
    qn = connection.ops.quote_name
    table, child = qn(model._meta.db_table), qn(child_model._meta.db_table)
    pk = qn(model._meta.pk.column)
    fk_column = qn(child_model._meta.get_field(fk).column)
    target_column = qn(model._meta.get_field(target).column)
    in_sql, payload = _ids_sql(ids)
    total = "COALESCE(SUM(c.amount), 0)"
    if connection.vendor != "postgresql":
        total = f"ROUND({total}, 2)"  # SQLite sums decimals as floats: back to cents
    sets = {target_column: "s.total"}
    for column, expr in (extra_sets or {}).items():
        sets[qn(column)] = expr
    # The parent's own columns are read from `p` (a copy joined in the subquery): portable to both backends.
    p_columns = sorted(set(re.findall(r"p\.(\w+)", " ".join(sets.values()))))
    select_p = "".join(f", p.{qn(col)} AS p_{col}" for col in p_columns)
    group_p = "".join(f", p.{qn(col)}" for col in p_columns)
    rendered = {
        column: re.sub(r"p\.(\w+)", lambda m: f"s.p_{m.group(1)}", expr) for column, expr in sets.items()
    }
    join_filter = f" AND ({child_filter})" if child_filter else ""
    changed = " OR ".join(f"{table}.{column} <> {expr}" for column, expr in rendered.items())
    set_sql = ", ".join(f"{column} = {expr}" for column, expr in rendered.items())
    sql = (
        f"UPDATE {table} SET {set_sql}, {qn('updated_at')} = %s FROM ("
        f"SELECT p.{pk} AS id, {total} AS total{select_p} FROM {table} AS p "
        f"LEFT JOIN {child} AS c ON c.{fk_column} = p.{pk}{join_filter} "
        f"WHERE p.{pk} IN {in_sql} GROUP BY p.{pk}{group_p}) AS s "
        f"WHERE {table}.{pk} = s.id AND ({changed})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(now), payload])


def over_limit_ids(
    *,
    model: type[models.Model],
    ids: Iterable[int],
    child_model: type[models.Model],
    fk: str,
    limit: str,
    child_filter: str = "",
) -> set[int]:
    """The parents among `ids` whose children's amounts add up to more than their `limit` column (one query):
    to name the rows behind a CHECK violation on a running total."""
    ids = list(ids)
    if not ids:
        return set()
    qn = connection.ops.quote_name
    table, child = qn(model._meta.db_table), qn(child_model._meta.db_table)
    pk = qn(model._meta.pk.column)
    fk_column = qn(child_model._meta.get_field(fk).column)
    limit_column = qn(model._meta.get_field(limit).column)
    in_sql, payload = _ids_sql(ids)
    total = "COALESCE(SUM(c.amount), 0)"
    if connection.vendor != "postgresql":
        total = f"ROUND({total}, 2)"
    join_filter = f" AND ({child_filter})" if child_filter else ""
    sql = (
        f"SELECT p.{pk} FROM {table} AS p LEFT JOIN {child} AS c ON c.{fk_column} = p.{pk}{join_filter} "
        f"WHERE p.{pk} IN {in_sql} GROUP BY p.{pk}, p.{limit_column} HAVING {total} > p.{limit_column}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [payload])
        return {row[0] for row in cursor.fetchall()}


def insert_rows(*, model: type[models.Model], columns: list[str], values: list[list[Any]]) -> None:
    """Insert many rows in one statement (PostgreSQL: COPY; SQLite: INSERT … SELECT FROM json_each)."""
    if not values:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    fields = [model._meta.get_field(name) for name in columns]
    names = ", ".join(qn(f.column) for f in fields)
    prepared = [
        [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)] for row in values
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            for row in prepared:
                buffer.write("\t".join(_copy_value(v) for v in row))
                buffer.write("\n")
            buffer.seek(0)
            cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN", buffer)
            return
        selects = []
        for position, f in enumerate(fields):
            expr = f"json_extract(value, '$[{position}]')"
            if f.get_internal_type() == "DecimalField":
                expr = f"CAST({expr} AS NUMERIC)"
            selects.append(expr)
        payload = json.dumps([[_sqlite_value(v) for v in row] for row in prepared], ensure_ascii=False)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {', '.join(selects)} FROM json_each(%s)", [payload]
        )
