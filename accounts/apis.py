"""REST APIs of org units and people: readable by every client with the read scope; writable only with the
"admin" scope (an HR or ERP system that owns the organisation) or by an ADMIN in the browser."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.filters import OrgUnitFilter, UserFilter
from accounts.models import OrgUnit, User
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
from ltc.api.views import DetailUpdateApi, ListCreateApi


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
