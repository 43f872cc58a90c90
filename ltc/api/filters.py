"""FilterSet helpers shared by every list: `updated_since`, the org-unit subtree, references by id."""

from __future__ import annotations

from functools import cache

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend

from accounts.models import OrgUnit
from ltc.errors import form_field_messages_bilingual

# The query-string spellings of an OpenAPI boolean (and what Python clients send for True/False).
BOOLEAN_VALUES = frozenset({"true", "false", "True", "False"})


class ApiFilterSet(django_filters.FilterSet):
    """Every list filters on `updated_since` (updated_at ≥, ISO 8601 with a time zone) for change feeds."""

    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Rows changed at or after this time (ISO 8601), for incremental sync.",
    )

    @property
    def form(self):
        # The filters' fields are Django form fields: their messages (e.g. "Select a valid choice.") are
        # answered bilingual like DRF's (ltc.errors.make_framework_messages_bilingual).
        if not hasattr(self, "_form"):
            for field in super().form.fields.values():
                form_field_messages_bilingual(field)
        return self._form

    def is_valid(self) -> bool:
        """Also refuse a given value that filters nothing, e.g. `?updated_since=` or `?is_active=null`, for any
        filter but free text: django-filter would skip it, and the client would get the whole list while
        believing it had filtered."""
        valid = super().is_valid()
        if not self.is_bound:
            return valid
        for name, flt in self.filters.items():
            if isinstance(flt, django_filters.CharFilter) or name in self.form.errors:
                continue
            given = [
                value
                for param in _params_of(name, self.form.fields[name])
                for value in _values(self.data, param)
            ]
            if not given:
                continue
            # Django's NullBooleanSelect also reads "2"/"3" as true/false: a boolean here is true or false only.
            not_boolean = isinstance(flt, django_filters.BooleanFilter) and not set(given) <= BOOLEAN_VALUES
            if (
                not_boolean
                or any(value.strip() == "" for value in given)
                or self.form.cleaned_data.get(name)
                in (
                    None,
                    [],
                    (),
                )
            ):
                self.form.add_error(
                    name,
                    _("Give a valid value or leave the parameter out. 请填写有效的值，或省略该参数。"),
                )
                valid = False
        return valid


@cache
def query_params_of(filterset_class: type[django_filters.FilterSet]) -> frozenset[str]:
    """Every query parameter a filterset reads (`name`, and `name_after` … for ranges)."""
    form = filterset_class(data={}, queryset=filterset_class._meta.model.objects.none()).form
    return frozenset(
        param for name in filterset_class.base_filters for param in _params_of(name, form.fields[name])
    )


class ApiFilterBackend(DjangoFilterBackend):
    """django-filter, left out when the query string names none of the list's filter parameters (a plain page
    read, or a sync feed following `next`). Building a filterset copies every filter and builds its form, about
    1 ms of a list request, and with no parameter of its own given it filters nothing: each filter skips an
    empty value, and no filterset here has a default (`tests/api/test_filters.py` checks both, list by list)."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and query_params_of(filterset_class).isdisjoint(request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)


def _params_of(name: str, field) -> list[str]:
    """The query parameters of one filter: `name`, or `name_after` / `name_before` (`_min` / `_max`) for a range."""
    suffixes = getattr(field.widget, "suffixes", None)
    if not suffixes:
        return [name]
    return [f"{name}_{suffix}" if suffix else name for suffix in suffixes]


def _values(data, param: str) -> list[str]:
    if param not in data:
        return []
    values = data.getlist(param) if hasattr(data, "getlist") else [data.get(param)]
    return [value if isinstance(value, str) else str(value) for value in values]


MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A positive whole-number id (a decimal or an overflowing number is a 400, not a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class OrgUnitSubtreeFilter(IdFilter):
    """`org_unit=<id>`: rows filed under that unit or any unit below it (`path__startswith`)."""

    def __init__(self, *args, own_path: bool = False, **kwargs) -> None:
        # own_path: filter org units themselves (their own path), not records pointing at a unit.
        self.own_path = own_path
        kwargs.setdefault("help_text", "An org unit id; includes every unit below it.")
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value) -> QuerySet:
        if value in (None, ""):
            return qs
        path = OrgUnit.objects.filter(pk=int(value)).values_list("path", flat=True).first()
        if path is None:
            return qs.none()
        lookup = "path__startswith" if self.own_path else f"{self.field_name}__path__startswith"
        return qs.filter(**{lookup: path})


def id_filter(field_name: str, help_text: str) -> IdFilter:
    return IdFilter(field_name=field_name, help_text=help_text)
