"""The bulk engine's fast paths give the same answers as the full checks and the upsert (bench/bulk_upsert.py
measures them): fast-path cleaners, COPY of new keys with a fallback when a key appears meanwhile, and an
unchanged re-send that neither rewrites nor locks a row."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from accounts.selectors import scope_for_org_unit
from ltc.api import bulk
from ltc.api.bulk import BOOL, CHOICE, DECIMAL, INT, STR, BulkField, BulkReference, _Bad
from relationships.apis import CUSTOMER_BULK
from relationships.models import Customer
from tests.api.conftest import token_client

CUSTOMERS = "/api/v1/customers/bulk/"

FIELDS = [
    BulkField("amount", DECIMAL, min_value=0),
    BulkField("small", DECIMAL, max_digits=4, decimal_places=0, max_value=500),
    BulkField("choice", CHOICE, choices=("X", "Y")),
    BulkField("name", STR, max_length=5, required=True),
    BulkField("currency", STR, max_length=3, pattern=r"[A-Z]{3}"),
    BulkField("score", INT, min_value=1, max_value=5),
    BulkField("flag", BOOL),
    BulkField("tax", STR, nullable=True, transform=lambda v: v.upper() or None),
]
VALUES = [
    "0", "1.5", "1.555", "-1", "12345678901234567", "1e3", " 7 ", "٣", "007.10", "9999", "500", "501",
    "X", "Y", " X ", "Z", "", "  ", "abcdef", "abc ", "ABC", "AB1", "ab\x00", 1, 5, 6, 0, True, False, None,
    2.5, "1.", ".5", [], {},
]  # fmt: skip


def _outcome(clean, value):
    try:
        result = clean(value)
    except _Bad as bad:
        return "bad", str(bad)
    return "ok", result, type(result)


@pytest.mark.parametrize("item", FIELDS, ids=lambda item: item.name)
def test_fast_cleaners_answer_like_the_full_checks(item):
    fast = bulk._fast_cleaner(item)
    for value in VALUES:
        assert _outcome(fast, value) == _outcome(lambda v: bulk._clean_value(item, v), value), value


def test_fast_reference_cleaner_answers_like_the_full_check():
    ref = BulkReference("owner", queryset=lambda actor, scope: None)
    fast = bulk._fast_cleaner(ref)
    for value in [*VALUES, "x" * 128, "x" * 129, " someone "]:
        assert _outcome(fast, value) == _outcome(lambda v: bulk._clean_reference(ref, v), value), value


def _rows(tree, n: int, **extra) -> list[dict]:
    return [
        {
            "external_id": f"PERF-{i:04d}",
            "name": f"客户{i}",
            "account_dept": tree["dept1"].code,
            "annual_purchase": "1500000.00",
            **extra,
        }
        for i in range(n)
    ]


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_a_key_inserted_meanwhile_falls_back_to_the_upsert(tree):
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL only")
    http = token_client(["customers:write"])
    assert http.post(CUSTOMERS, {"rows": _rows(tree, 2)}, format="json").json()["created"] == 2
    # As if another writer had created PERF-0001 after the existence check: the COPY of the "new" keys
    # hits the unique index, its savepoint is rolled back and every row is upserted instead.
    rows = _rows(tree, 3, name="改名")
    cleaned, sent, errors = bulk._validate_rows(CUSTOMER_BULK, rows)
    actor = http.api_client.acting_user
    actor._ltc_scope = scope_for_org_unit(None)
    ctx = bulk.BulkContext(
        spec=CUSTOMER_BULK, actor=actor, scope=actor._ltc_scope, rows=cleaned, sent=sent, errors=errors
    )
    bulk._resolve_references(ctx)
    assert not errors
    sent = bulk._derive(CUSTOMER_BULK, cleaned, sent, {})
    plan = bulk._plan(CUSTOMER_BULK, sent)
    created, updated = bulk._write(plan, cleaned, {}, timezone.now())
    assert sorted(created) == ["PERF-0002"]
    assert sorted(updated) == ["PERF-0000", "PERF-0001"]
    assert set(Customer.objects.values_list("name", flat=True)) == {"改名"}
    assert Customer.objects.get(external_id="PERF-0002").annual_purchase == Decimal("1500000.00")


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_an_unchanged_resend_neither_rewrites_nor_locks_a_row(tree):
    if connection.vendor != "postgresql":
        pytest.skip("xmin/xmax are PostgreSQL's")
    http = token_client(["customers:write"])
    rows = _rows(tree, 20)
    assert http.post(CUSTOMERS, {"rows": rows}, format="json").json()["created"] == 20

    def versions():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT external_id, ctid::text, xmin::text, xmax::text, updated_at FROM relationships_customer "
                "WHERE external_id LIKE 'PERF-%%' ORDER BY external_id"
            )
            return cursor.fetchall()

    before = versions()
    assert http.post(CUSTOMERS, {"rows": rows}, format="json").json()["unchanged"] == 20
    # ctid/xmin change when a row is rewritten; xmax is set when ON CONFLICT locks a row without changing it.
    assert versions() == before
