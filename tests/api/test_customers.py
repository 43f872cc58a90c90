"""Customers end to end: list, create, read, update (ETag / If-Match), filters, `?fields=`, pagination."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import User
from relationships.models import Customer
from tests.api.conftest import session_client, token_client
from tests.api.test_auth import assert_envelope
from tests.factories import CustomerFactory, OrgUnitFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


@pytest.fixture
def writer(tree):
    return token_client(["customers:write"])


def test_list_has_a_constant_query_count(tree, django_assert_max_num_queries):
    http = token_client(["customers:read"], org_unit=tree["region"])
    for _ in range(30):
        CustomerFactory(account_dept=tree["dept1"], owner=UserFactory(org_unit=tree["dept1"]))
    http.get(URL)  # the first request also stamps last_used_at
    with django_assert_max_num_queries(6):
        response = http.get(URL, {"page_size": 1000})
    assert len(response.json()["results"]) == 30


def test_session_list_query_count(tree, django_assert_max_num_queries):
    manager = UserFactory(org_unit=tree["office"], job_role=User.JobRole.MANAGER)
    for _ in range(20):
        CustomerFactory(account_dept=tree["dept2"])
    http = session_client(manager)
    with django_assert_max_num_queries(6):
        response = http.get(URL)
    assert len(response.json()["results"]) == 20


def test_create_201_with_etag_and_location(tree, writer):
    response = writer.post(
        URL,
        {
            "name": "华为测试客户",
            "account_dept": tree["dept1"].pk,
            "annual_purchase": "6000000",
            "tax_id": "91 abc",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get(pk=body["id"])
    assert customer.tier == "A" and customer.tax_id == "91ABC"
    assert response["ETag"].startswith('"')
    assert response["Location"].endswith(f"{URL}{customer.pk}/")
    assert writer.get(response["Location"]).json()["name"] == "华为测试客户"


def test_create_400_names_the_fields(tree, writer):
    response = writer.post(
        URL, {"name": "", "account_dept": 999999, "annual_purchase": "-1", "industry": "NOPE"}, format="json"
    )
    body = assert_envelope(response, 400, "invalid")
    assert {"name", "account_dept", "annual_purchase", "industry"} <= set(body["errors"])


def test_create_400_from_the_service(tree, writer):
    # A rep office is not an account department: the service refuses it with a field error.
    response = writer.post(URL, {"name": "某客户", "account_dept": tree["office"].pk}, format="json")
    body = assert_envelope(response, 400)
    assert "account_dept" in body["errors"]


def test_create_outside_the_client_unit_is_403(tree):
    http = token_client(["customers:write"], org_unit=tree["region"])
    response = http.post(URL, {"name": "某客户", "account_dept": tree["dept3"].pk}, format="json")
    assert_envelope(response, 403)


def test_bad_json_is_400_and_wrong_content_type_415(writer):
    response = writer.generic("POST", URL, "{bad json", content_type="application/json")
    assert_envelope(response, 400)
    response = writer.generic("POST", URL, "name=x", content_type="application/x-www-form-urlencoded")
    assert_envelope(response, 415)


def test_put_and_delete_are_405(tree, writer):
    customer = CustomerFactory(account_dept=tree["dept1"])
    assert_envelope(writer.put(f"{URL}{customer.pk}/", {}, format="json"), 405)
    assert_envelope(writer.delete(f"{URL}{customer.pk}/"), 405)


def test_detail_404_when_not_visible_or_missing(tree):
    hidden = CustomerFactory(account_dept=tree["dept3"])
    http = token_client(["customers:read"], org_unit=tree["region"])
    assert_envelope(http.get(f"{URL}{hidden.pk}/"), 404, "not_found")
    assert_envelope(http.get(f"{URL}987654321/"), 404)
    assert_envelope(http.get(f"{URL}99999999999999999999999/"), 404)


def test_patch_needs_if_match(tree, writer):
    customer = CustomerFactory(account_dept=tree["dept1"])
    url = f"{URL}{customer.pk}/"
    assert_envelope(writer.patch(url, {"name": "新名字"}, format="json"), 428, "precondition_required")
    assert_envelope(
        writer.patch(url, {"name": "新名字"}, format="json", HTTP_IF_MATCH='"stale"'),
        412,
        "precondition_failed",
    )
    customer.refresh_from_db()
    assert customer.name != "新名字"


def test_patch_with_the_current_etag_then_the_old_one_is_stale(tree, writer):
    customer = CustomerFactory(account_dept=tree["dept1"], annual_purchase=0, tier="C")
    url = f"{URL}{customer.pk}/"
    etag = writer.get(url)["ETag"]
    response = writer.patch(url, {"annual_purchase": "12000000.00"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content
    assert response.json()["tier"] == "S"
    new_etag = response["ETag"]
    assert new_etag != etag
    # A second client still holding the first ETag loses, and changes nothing.
    stale = writer.patch(url, {"name": "覆盖"}, format="json", HTTP_IF_MATCH=etag)
    assert_envelope(stale, 412)
    assert writer.get(url).json()["name"] == customer.name
    # Weak form and "*" are accepted; If-None-Match with the current tag answers 304.
    assert (
        writer.patch(url, {"name": "弱标签"}, format="json", HTTP_IF_MATCH=f"W/{new_etag}").status_code == 200
    )
    current = writer.get(url)["ETag"]
    assert writer.get(url, HTTP_IF_NONE_MATCH=current).status_code == 304


def test_patch_400_field_errors_and_no_write(tree, writer):
    customer = CustomerFactory(account_dept=tree["dept1"])
    url = f"{URL}{customer.pk}/"
    etag = writer.get(url)["ETag"]
    body = assert_envelope(
        writer.patch(url, {"annual_purchase": "abc", "currency": "yuan"}, format="json", HTTP_IF_MATCH=etag),
        400,
    )
    assert {"annual_purchase", "currency"} <= set(body["errors"])


def test_patch_not_visible_is_404(tree):
    hidden = CustomerFactory(account_dept=tree["dept3"])
    http = token_client(["customers:write"], org_unit=tree["region"])
    assert_envelope(http.patch(f"{URL}{hidden.pk}/", {"name": "x"}, format="json", HTTP_IF_MATCH="*"), 404)


def test_filters_updated_since_status_and_org_unit_subtree(tree):
    http = token_client(["customers:read"])
    old = CustomerFactory(account_dept=tree["dept1"])
    Customer.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=3))
    new1 = CustomerFactory(account_dept=tree["dept2"], status="DORMANT")
    new3 = CustomerFactory(account_dept=tree["dept3"])

    def ids(**params):
        response = http.get(URL, params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert ids(updated_since=since) == {new1.pk, new3.pk}
    assert ids(status="DORMANT") == {new1.pk}
    assert ids(org_unit=tree["office"].pk) == {old.pk, new1.pk}
    assert ids(org_unit=tree["region2"].pk) == {new3.pk}
    assert ids(org_unit=tree["hq"].pk) == {old.pk, new1.pk, new3.pk}
    assert ids(org_unit=987654) == set()
    body = assert_envelope(http.get(URL, {"updated_since": "yesterday", "status": "NOPE"}), 400)
    assert {"updated_since", "status"} <= set(body["errors"])
    assert_envelope(http.get(URL, {"org_unit": "1.5"}), 400)


def test_fields_trims_the_representation(tree):
    http = token_client(["customers:read"])
    customer = CustomerFactory(account_dept=tree["dept1"])
    rows = http.get(URL, {"fields": "id,name"}).json()["results"]
    assert rows == [{"id": customer.pk, "name": customer.name}]
    assert set(http.get(f"{URL}{customer.pk}/", {"fields": "tier"}).json()) == {"tier"}
    body = assert_envelope(http.get(URL, {"fields": "id,password"}), 400)
    assert "fields" in body["errors"]


def test_cursor_pagination_walks_every_row_once_even_with_tied_timestamps(tree):
    dept = OrgUnitFactory(parent=tree["office"])
    http = token_client(["customers:read"])
    created = [CustomerFactory(account_dept=dept) for _ in range(23)]
    # Half the rows share one updated_at, as after a bulk upsert.
    tie = timezone.now()
    Customer.objects.filter(pk__in=[c.pk for c in created[::2]]).update(updated_at=tie)
    seen: list[int] = []
    url, params = URL, {"page_size": 5, "org_unit": dept.pk}
    pages = 0
    while url:
        body = http.get(url, params).json()
        seen += [row["id"] for row in body["results"]]
        url, params = body["next"], None
        pages += 1
    assert pages == 5
    assert sorted(seen) == sorted(c.pk for c in created)
    assert len(seen) == len(set(seen))


def test_pagination_rejects_bad_cursor_and_page_size(tree):
    http = token_client(["customers:read"])
    assert_envelope(http.get(URL, {"cursor": "garbage!!"}), 400)
    assert_envelope(http.get(URL, {"cursor": "WzFd"}), 400)  # [1]: wrong length
    assert_envelope(http.get(URL, {"page_size": 0}), 400)
    assert_envelope(http.get(URL, {"page_size": 1001}), 400)
    assert http.get(URL, {"page_size": 1000}).status_code == 200
