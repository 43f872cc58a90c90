"""Token authentication, scopes, throttling and the create_api_client command."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from ltc.api.authentication import hash_key
from ltc.api.services import api_client_create, api_client_rotate_key, api_client_set_active
from ltc.errors import ApplicationError, NotAllowed
from ltc.models import ApiClient
from tests.api.conftest import session_client, token_client
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"


def assert_envelope(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "code", "errors"}, body
    if code is not None:
        assert body["code"] == code, body
    return body


def test_token_is_stored_hashed_and_shown_once(tree):
    client, raw = api_client_create(name="SAP", scopes=["customers:read"], org_unit=tree["region"])
    client.refresh_from_db()
    assert raw.startswith(f"ltc_{client.key_prefix}_")
    assert client.key_hash == hash_key(raw)
    assert raw not in {client.key_hash, client.key_prefix, client.name}
    user = client.acting_user
    assert not user.has_usable_password()
    assert user.org_unit == tree["region"]
    assert user.job_role == User.JobRole.SALES_REP


def test_admin_scope_without_unit_gets_an_admin_service_user(db):
    client, _raw = api_client_create(name="HR", scopes=["admin"])
    assert client.acting_user.job_role == User.JobRole.ADMIN


def test_unknown_scope_is_refused(db):
    with pytest.raises(ApplicationError) as exc:
        api_client_create(name="X", scopes=["customers:delete"])
    assert "scopes" in exc.value.extra


def test_only_an_admin_may_create_clients(tree):
    rep = UserFactory(org_unit=tree["dept1"])
    with pytest.raises(NotAllowed):
        api_client_create(name="X", scopes=["customers:read"], acting_user=rep)


def test_no_token_is_401(db):
    body = assert_envelope(APIClient().get(CUSTOMERS), 401, "not_authenticated")
    assert body["message"]


@pytest.mark.parametrize(
    "header",
    ["Token nonsense", "Token ltc_deadbeef_wrongsecret", "Token a b", "Token ltc__x", "Token"],
)
def test_bad_token_is_401(db, header):
    token_client(["customers:read"])  # a real client exists; the bad one must not match it
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=header)
    response = http.get(CUSTOMERS)
    assert_envelope(response, 401)
    assert response["WWW-Authenticate"] == "Token"


def test_wrong_secret_with_a_real_prefix_is_401(db):
    http = token_client(["customers:read"])
    forged = http.raw_token.rsplit("_", 1)[0] + "_" + "A" * 43
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {forged}")
    assert_envelope(other.get(CUSTOMERS), 401)


def test_disabled_client_is_401_and_rotation_revokes_the_old_key(db):
    http = token_client(["customers:read"])
    assert http.get(CUSTOMERS).status_code == 200
    api_client_set_active(client=http.api_client, is_active=False)
    assert_envelope(http.get(CUSTOMERS), 401)
    api_client_set_active(client=http.api_client, is_active=True)
    assert http.get(CUSTOMERS).status_code == 200
    _client, new_raw = api_client_rotate_key(client=http.api_client)
    assert_envelope(http.get(CUSTOMERS), 401)
    http.credentials(HTTP_AUTHORIZATION=f"Token {new_raw}")
    assert http.get(CUSTOMERS).status_code == 200


def test_missing_scope_is_403_with_the_envelope(db):
    http = token_client(["contacts:read"])
    body = assert_envelope(http.get(CUSTOMERS), 403, "permission_denied")
    assert "customers:read" in body["message"]


def test_read_scope_cannot_write(tree):
    http = token_client(["customers:read"])
    response = http.post(CUSTOMERS, {"name": "X", "account_dept": tree["dept1"].pk}, format="json")
    body = assert_envelope(response, 403)
    assert "customers:write" in body["message"]


def test_write_scope_implies_read_and_star_read_reads_everything(db):
    assert token_client(["customers:write"]).get(CUSTOMERS).status_code == 200
    reader = token_client(["*:read"])
    for path in ("/api/v1/customers/", "/api/v1/contracts/", "/api/v1/users/", "/api/v1/org-units/"):
        assert reader.get(path).status_code == 200, path
    assert reader.post(CUSTOMERS, {}, format="json").status_code == 403


def test_last_used_at_is_written_at_most_once_a_minute(db, django_assert_num_queries):
    http = token_client(["customers:read"])
    client = http.api_client
    assert http.get(CUSTOMERS).status_code == 200
    client.refresh_from_db()
    first = client.last_used_at
    assert first is not None
    http.get(CUSTOMERS)
    client.refresh_from_db()
    assert client.last_used_at == first
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=timezone.now() - dt.timedelta(minutes=2))
    http.get(CUSTOMERS)
    client.refresh_from_db()
    assert client.last_used_at > first


def test_token_request_sees_only_the_client_org_unit(tree):
    mine = CustomerFactory(account_dept=tree["dept1"])
    other = CustomerFactory(account_dept=tree["dept3"])
    http = token_client(["customers:read"], org_unit=tree["office"])
    ids = {row["id"] for row in http.get(CUSTOMERS).json()["results"]}
    assert ids == {mine.pk}
    assert http.get(f"{CUSTOMERS}{other.pk}/").status_code == 404


def test_session_user_is_checked_by_visibility(tree):
    rep = UserFactory(org_unit=tree["dept1"])
    own = CustomerFactory(account_dept=tree["dept1"], owner=rep)
    CustomerFactory(account_dept=tree["dept2"])
    http = session_client(rep)
    ids = {row["id"] for row in http.get(CUSTOMERS).json()["results"]}
    assert ids == {own.pk}


def test_session_non_admin_cannot_write_users(tree):
    manager = UserFactory(org_unit=tree["office"], job_role=User.JobRole.MANAGER)
    response = session_client(manager).post("/api/v1/users/", {"username": "newbie"}, format="json")
    assert_envelope(response, 403)


def test_throttle_per_client(db, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "api_client": "3/min"}
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
        first = token_client(["customers:read"], name="A")
        second = token_client(["customers:read"], name="B")
        assert [first.get(CUSTOMERS).status_code for _ in range(3)] == [200, 200, 200]
        response = first.get(CUSTOMERS)
        assert_envelope(response, 429, "throttled")
        assert "Retry-After" in response
        assert second.get(CUSTOMERS).status_code == 200


def test_create_api_client_command_prints_a_working_token(tree):
    out = StringIO()
    call_command(
        "create_api_client",
        "Kingdee",
        "--scope",
        "customers:read",
        "--org-unit",
        tree["dept1"].code,
        stdout=out,
    )
    token = out.getvalue().split("Token (shown once): ")[1].strip()
    client = ApiClient.objects.get(name="Kingdee")
    assert client.org_unit == tree["dept1"]
    assert client.scopes == ["customers:read"]
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert http.get(CUSTOMERS).status_code == 200
