"""Idempotency-Key on POST: stored and replayed, 422 on another body, one execution under concurrency."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from ltc.api.idempotency import idempotency_records_purge
from ltc.api.services import api_client_create
from ltc.models import IdempotencyRecord
from relationships.models import Contact, Customer
from tests.api.conftest import token_client
from tests.api.test_auth import assert_envelope
from tests.factories import CustomerFactory

URL = "/api/v1/customers/"


@pytest.mark.django_db
def test_replay_returns_the_stored_response_and_creates_once(tree):
    http = token_client(["customers:write"])
    payload = {"name": "幂等客户", "account_dept": tree["dept1"].pk}
    first = http.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == 201
    second = http.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert second["Location"] == first["Location"]
    assert Customer.objects.filter(name="幂等客户").count() == 1
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db
def test_same_key_other_body_is_422(tree):
    http = token_client(["customers:write"])
    http.post(URL, {"name": "甲", "account_dept": tree["dept1"].pk}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = http.post(
        URL, {"name": "乙", "account_dept": tree["dept1"].pk}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert_envelope(response, 422, "idempotency_key_reused")
    assert not Customer.objects.filter(name="乙").exists()


@pytest.mark.django_db
def test_an_error_response_is_stored_too(tree):
    http = token_client(["customers:write"])
    bad = {"name": "", "account_dept": tree["dept1"].pk}
    first = http.post(URL, bad, format="json", HTTP_IDEMPOTENCY_KEY="bad-1")
    second = http.post(URL, bad, format="json", HTTP_IDEMPOTENCY_KEY="bad-1")
    assert first.status_code == second.status_code == 400
    assert first.json() == second.json()


@pytest.mark.django_db
def test_keys_are_per_client(tree):
    first, second = token_client(["customers:write"], name="A"), token_client(["customers:write"], name="B")
    for http, name in ((first, "甲公司"), (second, "乙公司")):
        response = http.post(
            URL,
            {"name": name, "account_dept": tree["dept1"].pk},
            format="json",
            HTTP_IDEMPOTENCY_KEY="shared",
        )
        assert response.status_code == 201
    assert Customer.objects.filter(name__in=["甲公司", "乙公司"]).count() == 2


@pytest.mark.django_db
def test_bad_key_is_400_and_no_key_is_not_stored(tree):
    http = token_client(["customers:write"])
    body = assert_envelope(http.post(URL, {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="x" * 256), 400)
    assert "Idempotency-Key" in body["errors"]
    http.post(URL, {"name": "无键", "account_dept": tree["dept1"].pk}, format="json")
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
def test_bulk_is_idempotent_too(tree):
    http = token_client(["contacts:write", "customers:read"])
    customer = CustomerFactory(account_dept=tree["dept1"], external_id="C-1")
    rows = {"rows": [{"external_id": "P-1", "name": "张三", "customer": customer.external_id}]}
    first = http.post("/api/v1/contacts/bulk/", rows, format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")
    second = http.post("/api/v1/contacts/bulk/", rows, format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")
    assert first.json() == second.json() == {"created": 1, "updated": 0, "unchanged": 0}
    assert Contact.objects.filter(external_id="P-1").count() == 1


@pytest.mark.django_db
def test_purge_drops_old_records(tree):
    http = token_client(["customers:write"])
    http.post(
        URL, {"name": "旧", "account_dept": tree["dept1"].pk}, format="json", HTTP_IDEMPOTENCY_KEY="old"
    )
    assert idempotency_records_purge(older_than=dt.timedelta(hours=1)) == 0
    assert idempotency_records_purge(older_than=dt.timedelta(seconds=-1)) == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_execute_once(tree):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    _client, raw = api_client_create(name="ERP", scopes=["customers:write"])
    payload = {"name": "并发客户", "account_dept": tree["dept1"].pk}
    results: list[tuple[int, bytes]] = []
    barrier = threading.Barrier(8)

    def call():
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        barrier.wait()
        response = http.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="race")
        results.append((response.status_code, response.content))
        connection.close()

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Customer.objects.filter(name="并发客户").count() == 1
    assert {status for status, _ in results} == {201}
    assert len({content for _, content in results}) == 1
