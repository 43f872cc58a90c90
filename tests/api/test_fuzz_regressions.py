"""Regressions found by the OpenAPI fuzz run (bench/fuzz.sh): each test pins one answer schemathesis flagged."""

from __future__ import annotations

import jsonschema
import pytest
from rest_framework.test import APIClient

from tests.api.conftest import token_client
from tests.api.test_auth import assert_envelope
from tests.factories import (
    CustomerFactory,
    LeadFactory,
    OpportunityFactory,
    OpportunityTeamMemberFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _schema() -> dict:
    return APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/customers/null,null/"),
        ("patch", "/api/v1/contacts/abc/"),
        ("post", "/api/v1/opportunities/1/lines/x/y/"),
        ("delete", "/api/v1/no-such-resource/"),
        ("post", "/api/v1/customers"),  # no trailing slash: never Django's APPEND_SLASH error page
        ("get", "/api/nothing-here/"),
    ],
)
def test_a_path_that_names_no_endpoint_is_the_json_404_envelope(method, path):
    """Was Django's HTML 404 page (ST105 undocumented Content-Type)."""
    response = getattr(APIClient(), method)(path, HTTP_ACCEPT="application/json")
    assert response["Content-Type"].startswith("application/json")
    assert_envelope(response, 404, "not_found")


def test_the_fallback_is_not_an_operation_of_the_schema():
    paths = _schema()["paths"]
    assert paths and all(path.startswith("/api/v1/") and path.endswith("/") for path in paths)


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/v1/customers/", "updated_since"),
        ("/api/v1/customers/", "tier"),
        ("/api/v1/org-units/", "is_active"),
        ("/api/v1/org-units/", "kind"),
        ("/api/v1/users/", "org_unit"),
    ],
)
def test_an_empty_filter_value_is_a_field_error_not_an_unfiltered_list(tree, url, param):
    """`?updated_since=` used to answer the whole list (ST201 schema-violating request accepted)."""
    CustomerFactory(account_dept=tree["dept1"])
    body = assert_envelope(token_client(["*:read"]).get(url, {param: ""}), 400, "invalid")
    assert param in body["errors"]


def test_an_empty_free_text_filter_is_still_allowed(tree):
    CustomerFactory(account_dept=tree["dept1"])
    response = token_client(["*:read"]).get("/api/v1/org-units/", {"code": ""})
    assert response.status_code == 200


def test_the_schema_says_what_if_match_and_idempotency_key_accept():
    """A blank If-Match is a 428 and a 256-character key a 400: the schema now says so (ST202)."""
    schema = _schema()
    patch = schema["paths"]["/api/v1/customers/{id}/"]["patch"]
    if_match = next(p for p in patch["parameters"] if p["name"] == "If-Match")
    assert if_match["required"] and if_match["schema"]["minLength"] == 1 and if_match["schema"]["pattern"]
    post = schema["paths"]["/api/v1/customers/"]["post"]
    key = next(p for p in post["parameters"] if p["name"] == "Idempotency-Key")
    assert key["schema"]["maxLength"] == 255


def test_a_blank_if_match_is_428_and_a_long_idempotency_key_400(tree):
    customer = CustomerFactory(account_dept=tree["dept1"])
    http = token_client(["admin"])
    url = f"/api/v1/customers/{customer.pk}/"
    assert_envelope(http.patch(url, {"name": "x"}, format="json", HTTP_IF_MATCH="  "), 428)
    response = http.post(
        "/api/v1/customers/", {"name": "新客户"}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 256
    )
    assert "Idempotency-Key" in assert_envelope(response, 400)["errors"]


def _json_schema(openapi: dict, component: str) -> dict:
    """An OpenAPI 3.0 component as plain JSON Schema: `nullable` becomes an alternative `null`."""

    def convert(node):
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: convert(value) for key, value in node.items()}
        if node.pop("nullable", False):
            return {"anyOf": [node, {"type": "null"}]}
        return node

    return {"$ref": f"#/components/schemas/{component}", "components": convert(openapi["components"])}


def assert_matches_schema(body: dict, component: str) -> None:
    validator = jsonschema.Draft7Validator(
        _json_schema(_schema(), component), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(body)]
    assert not errors, errors


def test_blank_choice_and_blank_email_match_the_response_schema(tree):
    """A lead not graded yet (grade "") and a person without e-mail (email "") broke the response schema
    (ST108): DRF drops allow_blank from read-only fields, so the schema said enum A–D and format email."""
    lead = LeadFactory(customer=CustomerFactory(account_dept=tree["dept1"]), grade="")
    person = UserFactory(org_unit=tree["dept1"], email="")
    http = token_client(["*:read"])
    lead_body = http.get(f"/api/v1/leads/{lead.pk}/").json()
    assert lead_body["grade"] == ""
    assert_matches_schema(lead_body, "LeadOutput")
    user_body = http.get(f"/api/v1/users/{person.pk}/").json()
    assert user_body["email"] == ""
    assert_matches_schema(user_body, "UserOutput")
    # And the schema still rejects what is really wrong.
    with pytest.raises(AssertionError):
        assert_matches_schema({**lead_body, "grade": "Z"}, "LeadOutput")
    with pytest.raises(AssertionError):
        assert_matches_schema({**user_body, "email": "not an address"}, "UserOutput")


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/v1/opportunities/", {"expected_sign_on_before": ""}),
        ("/api/v1/leads/", {"created_before": ""}),
        ("/api/v1/contracts/", {"signed_on_after": "", "signed_on_before": "2026-01-01"}),
        ("/api/v1/customers/", {"annual_purchase_min": ""}),
        ("/api/v1/org-units/", {"is_active": "null"}),
        ("/api/v1/products/", {"is_active": "maybe"}),
        ("/api/v1/users/", {"is_active": "2"}),  # Django's NullBooleanSelect reads "2" as true
        ("/api/v1/users/", {"is_active": "0"}),
    ],
)
def test_range_and_boolean_filters_refuse_values_that_filter_nothing(tree, url, params):
    """`?expected_sign_on_before=` and `?is_active=null` used to answer the whole list (ST201)."""
    body = assert_envelope(token_client(["*:read"]).get(url, params), 400, "invalid")
    assert body["errors"], body


def test_range_and_boolean_filters_still_filter(tree):
    http = token_client(["*:read"])
    assert http.get("/api/v1/contracts/", {"signed_on_before": "2026-01-01"}).status_code == 200
    assert http.get("/api/v1/customers/", {"annual_purchase_min": "10"}).status_code == 200
    for value in ("true", "false", "True", "False"):
        assert http.get("/api/v1/org-units/", {"is_active": value}).status_code == 200


def test_child_lists_are_described_as_the_envelope_they_answer(tree):
    """GET /opportunities/{id}/team/ answers {"next": null, "results": [...]}, the schema said one member
    (ST108 "created_at is a required property")."""
    opp = OpportunityFactory(customer=CustomerFactory(account_dept=tree["dept1"]))
    OpportunityTeamMemberFactory(opportunity=opp, user=opp.owner, role="AR")
    http = token_client(["*:read"])
    schema = _schema()
    operation = schema["paths"]["/api/v1/opportunities/{id}/team/"]["get"]
    component = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert component == "TeamMemberOutputList"
    assert "304" not in operation["responses"]
    assert "fields" not in {param["name"] for param in operation.get("parameters", [])}
    body = http.get(f"/api/v1/opportunities/{opp.pk}/team/").json()
    assert body["next"] is None and body["results"]
    assert_matches_schema(body, component)
    with pytest.raises(AssertionError):
        assert_matches_schema(body["results"][0], component)


def test_an_empty_page_size_is_a_field_error(tree):
    """`?page_size=` used to give the default page (ST201)."""
    http = token_client(["*:read"])
    body = assert_envelope(http.get("/api/v1/org-units/", {"page_size": ""}), 400, "invalid")
    assert "page_size" in body["errors"]
    assert http.get("/api/v1/org-units/", {"page_size": "2"}).status_code == 200


def test_every_operation_documents_the_web_servers_414():
    """gunicorn answers 414 to a request line over 4094 bytes, before Django: the schema says so (ST103)."""
    for path, operations in _schema()["paths"].items():
        for method, operation in operations.items():
            if method in {"get", "post", "patch", "put", "delete"}:
                assert "414" in operation["responses"], (method, path)


def test_text_longer_than_its_max_length_as_sent_is_refused(tree):
    """A 250-character reason and ten trailing U+001E (whitespace to str.strip) passed maxLength 255 because
    DRF trims before it measures (ST201 on POST /leads/{id}/close/)."""
    http = token_client(["admin"])
    lead = LeadFactory(customer=CustomerFactory(account_dept=tree["dept1"]))
    url = f"/api/v1/leads/{lead.pk}/close/"
    body = assert_envelope(http.post(url, {"reason": "x" * 250 + "\x1e" * 10}, format="json"), 400, "invalid")
    assert "reason" in body["errors"]
    lead.refresh_from_db()
    assert lead.status != "CLOSED"
    closed = http.post(url, {"reason": "x" * 250 + " " * 5}, format="json")
    assert closed.status_code == 200 and closed.json()["close_reason"] == "x" * 250
