"""List filters of the users and org-units APIs."""

from __future__ import annotations

import django_filters

from accounts.models import OrgUnit, User
from ltc.api.filters import ApiFilterSet, OrgUnitSubtreeFilter, id_filter


class OrgUnitFilter(ApiFilterSet):
    external_id = django_filters.CharFilter()
    code = django_filters.CharFilter()
    kind = django_filters.MultipleChoiceFilter(choices=OrgUnit.Kind.choices)
    parent = id_filter("parent_id", "The parent unit's id.")
    within = OrgUnitSubtreeFilter(own_path=True, help_text="A unit id: that unit and every unit below it.")
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = OrgUnit
        fields: list[str] = []


class UserFilter(ApiFilterSet):
    external_id = django_filters.CharFilter()
    username = django_filters.CharFilter()
    job_role = django_filters.MultipleChoiceFilter(choices=User.JobRole.choices)
    manager = id_filter("manager_id", "The manager's user id.")
    org_unit = OrgUnitSubtreeFilter(field_name="org_unit")
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = User
        fields: list[str] = []
