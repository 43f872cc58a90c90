"""Fixtures of the API tests: API clients with tokens, browser users with sessions, an org tree."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import OrgUnit, User
from ltc.api.services import api_client_create
from tests.factories import UserFactory, org_tree


@pytest.fixture
def tree() -> dict[str, OrgUnit]:
    return org_tree()


@pytest.fixture(autouse=True)
def _clear_throttle_cache():
    cache.clear()
    yield
    cache.clear()


def token_client(scopes: list[str], org_unit: OrgUnit | None = None, name: str = "ERP") -> APIClient:
    """An HTTP client authenticated as a new API client; `.api_client` is the ApiClient row."""
    record, raw = api_client_create(name=name, scopes=scopes, org_unit=org_unit)
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    http.api_client = record  # type: ignore[attr-defined]
    http.raw_token = raw  # type: ignore[attr-defined]
    return http


def session_client(user: User) -> APIClient:
    http = APIClient()
    http.force_login(user)
    return http


@pytest.fixture
def admin_api(db) -> APIClient:
    return token_client(["admin"], name="ERP admin")


@pytest.fixture
def admin_user(tree) -> User:
    return UserFactory(org_unit=tree["hq"], job_role=User.JobRole.ADMIN)
