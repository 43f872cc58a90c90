"""FilterSet helpers shared by every list: `updated_since`, the org-unit subtree, references by id."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import OrgUnit


class ApiFilterSet(django_filters.FilterSet):
    """Every list filters on `updated_since` (updated_at ≥, ISO 8601 with a time zone) for change feeds."""

    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Rows changed at or after this time (ISO 8601), for incremental sync.",
    )

    def is_valid(self) -> bool:
        """Also refuse a present but empty value (`?updated_since=`) of any filter but free text: django-filter
        would skip it, and the client would get the whole list while believing it had filtered."""
        valid = super().is_valid()
        if not self.is_bound:
            return valid
        for name, flt in self.filters.items():
            if isinstance(flt, django_filters.CharFilter) or name not in self.data:
                continue
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data.get(name)]
            if any(value == "" for value in values):
                self.form.add_error(
                    name,
                    _(
                        "An empty value: give one or leave the parameter out. 参数值为空：请填写或省略该参数。"
                    ),
                )
                valid = False
        return valid


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
