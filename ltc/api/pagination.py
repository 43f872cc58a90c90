"""Keyset ("cursor") pagination on a stable unique ordering, for sync feeds and large reads.

The page after a cursor is `WHERE (updated_at, id) > (<last updated_at>, <last id>) ORDER BY updated_at, id
LIMIT n + 1`: the (updated_at, id) index answers it in the same time at row 1 and at row 1,000,000, ties on
updated_at (a bulk upsert stamps thousands of rows with one time) cost nothing, and no COUNT(*) is ever run.
A client syncing changes starts with `?updated_since=<last sync>` and follows `next` until it is null.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from django.db.models import F, Q, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

DEFAULT_ORDERING: tuple[str, ...] = ("updated_at", "id")


def _encode(values: list[Any]) -> str:
    raw = json.dumps(
        [v.isoformat() if isinstance(v, dt.datetime) else v for v in values], separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _bad_cursor() -> exceptions.ValidationError:
    return exceptions.ValidationError({"cursor": [_("Invalid cursor. 游标无效。")]})


def _decode(cursor: str, ordering: tuple[str, ...], model) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode())
    except (ValueError, UnicodeError) as exc:
        raise _bad_cursor() from exc
    if not isinstance(values, list) or len(values) != len(ordering):
        raise _bad_cursor()
    decoded: list[Any] = []
    for name, value in zip(ordering, values, strict=True):
        field = model._meta.get_field(name)
        internal = field.get_internal_type()
        if internal == "DateTimeField":
            parsed = parse_datetime(value) if isinstance(value, str) else None
            if parsed is None or parsed.tzinfo is None:
                raise _bad_cursor()
            decoded.append(parsed)
        elif internal in {"AutoField", "BigAutoField", "IntegerField", "BigIntegerField"}:
            if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= 2**63:
                raise _bad_cursor()
            decoded.append(value)
        elif isinstance(value, str | int):
            decoded.append(value)
        else:
            raise _bad_cursor()
    return decoded


def _value(row: Any, name: str) -> Any:
    """A column of a page row: a model instance, or a dict from values() (ltc.api.rows)."""
    return row[name] if isinstance(row, dict) else getattr(row, name)


def after_position(ordering: tuple[str, ...], values: list[Any]) -> Q | TupleGreaterThan:
    """Rows strictly after `values` in `ordering` (all ascending)."""
    if len(ordering) == 1:
        return Q(**{f"{ordering[0]}__gt": values[0]})
    # The leading `>=` gives SQLite (which expands the tuple into ORs) an index range to start from;
    # PostgreSQL compares the row value natively.
    return Q(**{f"{ordering[0]}__gte": values[0]}) & TupleGreaterThan(
        Tuple(*[F(name) for name in ordering]), tuple(values)
    )


class KeysetCursorPagination(BasePagination):
    page_size = 50
    max_page_size = 1000
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # An empty `?page_size=` is a mistake to report, not the default (the schema says an integer).
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("A whole number from 1 to %(max)d. 取值 1 到 %(max)d 的整数。")
                        % {"max": self.max_page_size}
                    ]
                }
            )
        return size

    def paginate_queryset(self, queryset: QuerySet, request: Request, view=None) -> list:
        self.request = request
        self.ordering = tuple(getattr(view, "cursor_ordering", DEFAULT_ORDERING))
        size = self.get_page_size(request)
        queryset = queryset.order_by(*self.ordering)
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor:
            queryset = queryset.filter(
                after_position(self.ordering, _decode(cursor, self.ordering, queryset.model))
            )
        rows = list(queryset[: size + 1])
        self.has_next = len(rows) > size
        rows = rows[:size]
        self.next_cursor = (
            _encode([_value(rows[-1], name) for name in self.ordering]) if self.has_next and rows else None
        )
        return rows

    def get_next_link(self) -> str | None:
        if self.next_cursor is None:
            return None
        return replace_query_param(
            self.request.build_absolute_uri(), self.cursor_query_param, self.next_cursor
        )

    def get_first_link(self) -> str:
        return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)

    def get_paginated_response(self, data: list) -> Response:
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page; null on the last page.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The opaque cursor from the previous page's `next` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (default {self.page_size}, at most {self.max_page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
