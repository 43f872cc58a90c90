"""Bulk upsert by external id: created / updated / unchanged, bad rows write nothing, constant queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ltc.models import BulkUpsertAudit
from pipeline.models import Product
from relationships.models import Contact, Customer
from tests.api.conftest import session_client, token_client
from tests.api.test_auth import assert_envelope
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/bulk/"
CONTACTS = "/api/v1/contacts/bulk/"
PRODUCTS = "/api/v1/products/bulk/"


def customer_rows(tree, n: int, *, start: int = 0, **extra) -> list[dict]:
    return [
        {
            "external_id": f"ERP-{i:05d}",
            "name": f"客户{i}",
            "account_dept": tree["dept1"].code,
            "annual_purchase": "1500000.00",
            "repeat_purchase": True,
            **extra,
        }
        for i in range(start, start + n)
    ]


def post(http, url, rows):
    return http.post(url, {"rows": rows}, format="json")


def test_created_then_unchanged_then_updated(tree):
    http = token_client(["customers:write"])
    assert post(http, CUSTOMERS, customer_rows(tree, 5)).json() == {
        "created": 5,
        "updated": 0,
        "unchanged": 0,
    }
    stamps = dict(Customer.objects.values_list("external_id", "updated_at"))
    assert post(http, CUSTOMERS, customer_rows(tree, 5)).json() == {
        "created": 0,
        "updated": 0,
        "unchanged": 5,
    }
    assert dict(Customer.objects.values_list("external_id", "updated_at")) == stamps  # nothing was written
    rows = customer_rows(tree, 7)
    rows[0]["name"] = "改名客户"
    rows[1]["annual_purchase"] = "11000000"
    assert post(http, CUSTOMERS, rows).json() == {"created": 2, "updated": 2, "unchanged": 3}
    first, second = (
        Customer.objects.get(external_id="ERP-00000"),
        Customer.objects.get(external_id="ERP-00001"),
    )
    assert first.name == "改名客户" and first.updated_at > stamps["ERP-00000"]
    assert second.tier == "S" and second.annual_purchase == Decimal("11000000.00")
    assert Customer.objects.get(external_id="ERP-00002").updated_at == stamps["ERP-00002"]
    assert Customer.objects.get(external_id="ERP-00005").tier == "B"  # 1.5M with repeat purchases
    audits = list(
        BulkUpsertAudit.objects.order_by("pk").values_list("resource", "created", "updated", "unchanged")
    )
    assert audits == [("customers", 5, 0, 0), ("customers", 0, 0, 5), ("customers", 2, 2, 3)]
    last = BulkUpsertAudit.objects.order_by("pk").last()
    assert last.api_client == http.api_client
    assert sorted(last.updated_keys) == ["ERP-00000", "ERP-00001"]


def test_an_update_touches_only_the_fields_sent(tree):
    http = token_client(["customers:write"])
    post(http, CUSTOMERS, customer_rows(tree, 1, name_en="Kept Name"))
    Customer.objects.filter(external_id="ERP-00000").update(summary="CRM notes")
    assert post(http, CUSTOMERS, [{"external_id": "ERP-00000", "status": "DORMANT"}]).json()["updated"] == 1
    customer = Customer.objects.get(external_id="ERP-00000")
    assert (customer.status, customer.name_en, customer.summary) == ("DORMANT", "Kept Name", "CRM notes")


def test_a_bad_row_writes_nothing_and_names_index_and_field(tree):
    http = token_client(["customers:write"])
    rows = customer_rows(tree, 6)
    rows[1]["annual_purchase"] = "-5"
    rows[3]["account_dept"] = "NO-SUCH-DEPT"
    rows[4]["industry"] = "SPACE"
    rows[5]["external_id"] = rows[0]["external_id"]
    response = post(http, CUSTOMERS, rows)
    body = assert_envelope(response, 400, "invalid")
    problems = {(e["index"], e["field"]) for e in body["errors"]["rows"]}
    assert problems == {(1, "annual_purchase"), (3, "account_dept"), (4, "industry"), (5, "external_id")}
    assert all(isinstance(e["index"], int) and e["message"] for e in body["errors"]["rows"])
    assert Customer.objects.count() == 0
    assert BulkUpsertAudit.objects.count() == 0


def test_rows_must_send_the_same_fields_and_known_ones(tree):
    http = token_client(["customers:write"])
    rows = customer_rows(tree, 3)
    del rows[1]["annual_purchase"]
    rows[2]["favourite_colour"] = "blue"
    body = assert_envelope(post(http, CUSTOMERS, rows), 400)
    assert {(e["index"], e["field"]) for e in body["errors"]["rows"]} == {
        (1, "annual_purchase"),
        (2, "favourite_colour"),
    }


def test_required_on_create_only(tree):
    http = token_client(["customers:write"])
    post(http, CUSTOMERS, customer_rows(tree, 1))
    body = assert_envelope(
        post(http, CUSTOMERS, [{"external_id": "ERP-00000"}, {"external_id": "NEW-1"}]), 400
    )
    assert {(e["index"], e["field"]) for e in body["errors"]["rows"]} == {(1, "name"), (1, "account_dept")}


def test_visibility_applies_to_references_and_existing_keys(tree):
    hidden = CustomerFactory(account_dept=tree["dept3"], external_id="HIDDEN-1")
    http = token_client(["customers:write", "contacts:write"], org_unit=tree["region"])
    body = assert_envelope(
        post(
            http, CUSTOMERS, [{"external_id": "HIDDEN-1", "name": "抢注", "account_dept": tree["dept1"].code}]
        ),
        400,
    )
    assert body["errors"]["rows"][0]["field"] == "external_id"
    body = assert_envelope(
        post(http, CUSTOMERS, [{"external_id": "X-1", "name": "越权", "account_dept": tree["dept3"].code}]),
        400,
    )
    assert body["errors"]["rows"][0]["field"] == "account_dept"
    body = assert_envelope(
        post(http, CONTACTS, [{"external_id": "P-1", "name": "李四", "customer": "HIDDEN-1"}]), 400
    )
    assert body["errors"]["rows"][0]["field"] == "customer"
    hidden.refresh_from_db()
    assert hidden.name != "抢注"
    assert not Contact.objects.exists()


def test_unique_tax_id_is_checked_before_writing(tree):
    CustomerFactory(account_dept=tree["dept1"], tax_id="TAX1", external_id="OTHER")
    http = token_client(["customers:write"])
    rows = customer_rows(tree, 3)
    rows[0]["tax_id"] = "tax 1"  # normalised to TAX1: held by another customer
    rows[1]["tax_id"] = "T2"
    rows[2]["tax_id"] = "T2"
    body = assert_envelope(post(http, CUSTOMERS, rows), 400)
    assert {(e["index"], e["field"]) for e in body["errors"]["rows"]} == {(0, "tax_id"), (2, "tax_id")}


def test_shape_errors(tree):
    http = token_client(["customers:write"])
    assert_envelope(http.post(CUSTOMERS, {"rows": []}, format="json"), 400)
    assert_envelope(http.post(CUSTOMERS, {"nope": 1}, format="json"), 400)
    assert_envelope(http.post(CUSTOMERS, [1, 2], format="json"), 400)
    body = assert_envelope(post(http, CUSTOMERS, [1, {"external_id": 5}]), 400)
    assert {(e["index"], e["field"]) for e in body["errors"]["rows"]} >= {
        (0, "non_field_errors"),
        (1, "external_id"),
    }
    too_many = [{"external_id": str(i)} for i in range(10_001)]
    assert_envelope(post(http, CUSTOMERS, too_many), 400)


def test_scope_and_session_rules(tree):
    assert_envelope(post(token_client(["customers:read"]), CUSTOMERS, customer_rows(tree, 1)), 403)
    rep = UserFactory(org_unit=tree["dept1"])
    assert_envelope(post(session_client(rep), CUSTOMERS, customer_rows(tree, 1)), 403)
    admin = UserFactory(org_unit=tree["hq"], job_role="ADMIN")
    assert post(session_client(admin), CUSTOMERS, customer_rows(tree, 1)).status_code == 200


def test_contacts_by_customer_external_id_and_owner_username(tree):
    customer = CustomerFactory(account_dept=tree["dept1"], external_id="C-9")
    owner = UserFactory(org_unit=tree["dept1"], username="zhang.san")
    http = token_client(["contacts:write"])
    rows = [
        {"external_id": "P-1", "name": "王五", "customer": "C-9", "owner": "zhang.san", "intimacy": 4},
        {"external_id": "P-2", "name": "赵六", "customer": "C-9", "owner": None, "intimacy": 2},
    ]
    assert post(http, CONTACTS, rows).json() == {"created": 2, "updated": 0, "unchanged": 0}
    contact = Contact.objects.get(external_id="P-1")
    assert (contact.customer, contact.owner, contact.intimacy) == (customer, owner, 4)
    rows[1]["intimacy"] = 9
    body = assert_envelope(post(http, CONTACTS, rows), 400)
    assert body["errors"]["rows"] == [
        {"index": 1, "field": "intimacy", "message": body["errors"]["rows"][0]["message"]}
    ]


def test_products(db):
    http = token_client(["products:write"])
    rows = [
        {"external_id": f"SKU-{i}", "code": f"C{i}", "name": f"产品{i}", "product_line": "无线"}
        for i in range(3)
    ]
    assert post(http, PRODUCTS, rows).json() == {"created": 3, "updated": 0, "unchanged": 0}
    rows[0]["name"] = "新品"
    assert post(http, PRODUCTS, rows).json() == {"created": 0, "updated": 1, "unchanged": 2}
    assert Product.objects.get(external_id="SKU-0").name == "新品"
    rows[1]["code"] = "C2"  # held by SKU-2, which row 2 also sends: both rows are named
    body = assert_envelope(post(http, PRODUCTS, rows), 400)
    assert {(e["index"], e["field"]) for e in body["errors"]["rows"]} == {(1, "code"), (2, "code")}


@pytest.mark.parametrize("url", [CUSTOMERS, CONTACTS])
def test_query_count_does_not_grow_with_rows(tree, url):
    http = token_client(["customers:write", "contacts:write"])
    owner = UserFactory(org_unit=tree["dept1"], username="owner.one")
    if url == CONTACTS:
        for i in range(2):
            CustomerFactory(account_dept=tree["dept1"], external_id=f"C-{i}")

    def rows(n: int, start: int) -> list[dict]:
        if url == CUSTOMERS:
            return customer_rows(tree, n, start=start, owner=owner.username)
        return [
            {"external_id": f"P-{i}", "name": f"联系人{i}", "customer": f"C-{i % 2}", "owner": owner.username}
            for i in range(start, start + n)
        ]

    post(http, url, rows(1, 90_000))  # the first request also stamps last_used_at
    counts = []
    for n, start in ((10, 0), (1000, 100)):
        with CaptureQueriesContext(connection) as queries:
            response = post(http, url, rows(n, start))
        assert response.json()["created"] == n
        counts.append(len(queries))
    with CaptureQueriesContext(connection) as queries:
        assert post(http, url, rows(1000, 100)).json()["unchanged"] == 1000
    counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[2] <= counts[1]
    assert counts[1] <= 12
