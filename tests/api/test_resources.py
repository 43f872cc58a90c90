"""Every resource: list (constant queries), detail with ETag, 404 when not visible, 403 without the scope,
read-only resources refuse writes, contacts/visits/products/users/org-units writes through their services."""

from __future__ import annotations

import pytest

from accounts.models import OrgUnit, User
from relationships.models import Contact, CustomerTeamMember, Visit
from tests.api.conftest import session_client, token_client
from tests.api.test_auth import assert_envelope
from tests.factories import (
    ContactFactory,
    ContractFactory,
    CustomerFactory,
    InvoiceFactory,
    LeadFactory,
    OpportunityFactory,
    ProductFactory,
    ReceiptFactory,
    UserFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db


def _make(resource: str, dept: OrgUnit):
    customer = CustomerFactory(account_dept=dept)
    rep = UserFactory(org_unit=dept)
    if resource == "customers":
        return customer
    if resource == "contacts":
        return ContactFactory(customer=customer, owner=rep)
    if resource == "visits":
        visit = VisitFactory(customer=customer, rep=rep)
        visit.contacts.add(ContactFactory(customer=customer))
        return visit
    if resource == "leads":
        return LeadFactory(customer=customer, owner=rep)
    if resource == "opportunities":
        return OpportunityFactory(customer=customer, owner=rep)
    contract = ContractFactory(customer=customer, owner=rep)
    if resource == "contracts":
        return contract
    invoice = InvoiceFactory(contract=contract)
    if resource == "invoices":
        return invoice
    return ReceiptFactory(invoice=invoice, contract=contract)


SCOPED = ["customers", "contacts", "visits", "leads", "opportunities", "contracts", "invoices", "receipts"]


@pytest.mark.parametrize("resource", SCOPED)
def test_list_detail_404_and_403(tree, resource, django_assert_max_num_queries):
    mine = [_make(resource, tree["dept1"]) for _ in range(4)]
    theirs = _make(resource, tree["dept3"])
    http = token_client([f"{resource}:read"], org_unit=tree["region"])
    url = f"/api/v1/{resource}/"
    http.get(url)
    with django_assert_max_num_queries(6):
        response = http.get(url)
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {obj.pk for obj in mine}
    detail = http.get(f"{url}{mine[0].pk}/")
    assert detail.status_code == 200 and detail["ETag"]
    assert_envelope(http.get(f"{url}{theirs.pk}/"), 404)
    assert_envelope(token_client(["products:read"]).get(url), 403)


@pytest.mark.parametrize(
    "resource", ["leads", "opportunities", "contracts", "invoices", "receipts", "visits"]
)
def test_read_only_resources_refuse_raw_writes(tree, resource):
    """No raw write of a status or stage: PATCH is refused (opportunities: a 400 naming `stage`, their plain
    fields only), and a create never takes a status (its workflow steps are action endpoints)."""
    obj = _make(resource, tree["dept1"])
    http = token_client(["admin"])
    url = f"/api/v1/{resource}/"
    raw = {"status": "CLOSED", "stage": "WON"}
    if resource == "opportunities":
        etag = http.get(f"{url}{obj.pk}/")["ETag"]
        body = assert_envelope(http.patch(f"{url}{obj.pk}/", raw, format="json", HTTP_IF_MATCH=etag), 400)
        assert {"status", "stage"} <= set(body["errors"])
    else:
        assert_envelope(http.patch(f"{url}{obj.pk}/", raw, format="json"), 405)
    if resource != "visits":
        assert_envelope(http.post(url, raw, format="json"), 400)
        obj.refresh_from_db()
        assert getattr(obj, "status", getattr(obj, "stage", None)) not in ("CLOSED", "WON")


@pytest.mark.parametrize("resource", ["users", "org-units", "products"])
def test_reference_lists(tree, resource, django_assert_max_num_queries):
    for _ in range(5):
        UserFactory(org_unit=tree["dept1"])
        ProductFactory()
    http = token_client([f"{resource}:read"], org_unit=tree["dept1"])
    url = f"/api/v1/{resource}/"
    http.get(url)
    with django_assert_max_num_queries(6):
        response = http.get(url)
    assert response.status_code == 200 and response.json()["results"]


def test_service_users_are_not_listed_as_people(tree):
    http = token_client(["users:read"])
    usernames = {row["username"] for row in http.get("/api/v1/users/", {"page_size": 1000}).json()["results"]}
    assert not any(name.startswith("api-client-") for name in usernames)


def test_org_unit_within_filter(tree):
    http = token_client(["org-units:read"])
    ids = {
        row["id"] for row in http.get("/api/v1/org-units/", {"within": tree["region"].pk}).json()["results"]
    }
    assert ids == {tree[k].pk for k in ("region", "office", "dept1", "dept2")}


def test_users_and_org_units_need_the_admin_scope_to_write(tree):
    writer = token_client(["users:write", "org-units:write"])
    body = assert_envelope(writer.post("/api/v1/users/", {"username": "li.si"}, format="json"), 403)
    assert "admin" in body["message"]
    admin = token_client(["admin"])
    response = admin.post(
        "/api/v1/users/",
        {"username": "li.si", "full_name": "李四", "org_unit": tree["dept1"].pk, "job_role": "SALES_REP"},
        format="json",
    )
    assert response.status_code == 201, response.content
    user = User.objects.get(username="li.si")
    etag = admin.get(f"/api/v1/users/{user.pk}/")["ETag"]
    response = admin.patch(
        f"/api/v1/users/{user.pk}/", {"job_role": "MANAGER"}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200 and response.json()["job_role"] == "MANAGER"
    response = admin.post(
        "/api/v1/org-units/",
        {"code": "NEW-DEPT", "name": "新系统部", "kind": "ACCOUNT_DEPT", "parent": tree["office"].pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    unit = OrgUnit.objects.get(code="NEW-DEPT")
    assert unit.path == f"{tree['office'].path}{unit.pk}/"
    body = assert_envelope(
        admin.post(
            "/api/v1/org-units/",
            {"code": "BAD", "name": "错层", "kind": "REGION", "parent": tree["office"].pk},
            format="json",
        ),
        400,
    )
    assert "parent" in body["errors"]
    assert_envelope(
        admin.post("/api/v1/org-units/", {"code": "NEW-DEPT", "name": "x", "kind": "HQ"}, format="json"), 400
    )


def test_contact_create_update_and_private_card(tree):
    rep = UserFactory(org_unit=tree["dept1"])
    peer = UserFactory(org_unit=tree["dept1"])
    customer = CustomerFactory(account_dept=tree["dept1"], owner=rep)
    CustomerTeamMember.objects.create(customer=customer, user=peer, role="SR")
    http = session_client(rep)
    response = http.post(
        "/api/v1/contacts/",
        {"customer": customer.pk, "name": "陈总", "intimacy": 4, "private_notes": "喜欢围棋"},
        format="json",
    )
    assert response.status_code == 201, response.content
    contact = Contact.objects.get(pk=response.json()["id"])
    assert contact.owner == rep and response.json()["private_notes"] == "喜欢围棋"
    # The peer on the customer team sees the contact but not the private card.
    assert session_client(peer).get(f"/api/v1/contacts/{contact.pk}/").json()["private_notes"] is None
    etag = response["ETag"]
    body = assert_envelope(
        http.patch(f"/api/v1/contacts/{contact.pk}/", {"intimacy": 7}, format="json", HTTP_IF_MATCH=etag), 400
    )
    assert "intimacy" in body["errors"]
    response = http.patch(
        f"/api/v1/contacts/{contact.pk}/", {"title": "CIO"}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200 and response.json()["title"] == "CIO"


def test_visit_log_through_the_api(tree):
    rep = UserFactory(org_unit=tree["dept1"])
    customer = CustomerFactory(account_dept=tree["dept1"], owner=rep)
    contact = ContactFactory(customer=customer)
    other = ContactFactory(customer=CustomerFactory(account_dept=tree["dept3"]))
    http = session_client(rep)
    response = http.post(
        "/api/v1/visits/",
        {"customer": customer.pk, "contacts": [contact.pk], "purpose": "技术交流"},
        format="json",
    )
    assert response.status_code == 201, response.content
    visit = Visit.objects.get(pk=response.json()["id"])
    assert visit.rep == rep and list(visit.contacts.all()) == [contact]
    body = assert_envelope(
        http.post("/api/v1/visits/", {"customer": customer.pk, "contacts": [other.pk]}, format="json"), 400
    )
    assert "contacts" in body["errors"]


def test_products_write_needs_an_admin(tree):
    http = token_client(["products:write"], org_unit=tree["dept1"])
    assert_envelope(
        http.post("/api/v1/products/", {"code": "X", "name": "x", "product_line": "y"}, format="json"), 403
    )
    admin = token_client(["admin"])
    response = admin.post(
        "/api/v1/products/",
        {"code": "X-1", "name": "路由器", "product_line": "数通", "list_price": "99.50"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = assert_envelope(
        admin.post(
            "/api/v1/products/", {"code": "X-1", "name": "重复", "product_line": "数通"}, format="json"
        ),
        400,
    )
    assert "code" in body["errors"]
