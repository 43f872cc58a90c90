"""Every message the API answers is English and Chinese, whatever the request language: DRF's own field and
exception messages and the filters' Django form messages too (ltc.errors.make_framework_messages_bilingual)."""

from __future__ import annotations

import pytest
from rest_framework import exceptions, fields, validators
from rest_framework.test import APIClient

from tests.api.conftest import token_client
from tests.api.test_actions_leads import bilingual
from tests.api.test_auth import assert_envelope

pytestmark = pytest.mark.django_db

LANGUAGES = pytest.mark.parametrize("language", ["zh-hans", "en"])


@LANGUAGES
def test_funnel_choice_error_is_bilingual(language):
    response = token_client(["metrics:read"]).get(
        "/api/v1/metrics/funnel/?customer_tier=Z", HTTP_ACCEPT_LANGUAGE=language
    )
    body = assert_envelope(response, 400, "invalid")
    assert body["errors"]["customer_tier"] == ['"Z" is not a valid choice. “Z” 不是合法选项。']


@LANGUAGES
def test_post_field_errors_are_bilingual(tree, language):
    http = token_client(["customers:write"])
    sent = {"industry": "Z", "account_dept": "x", "tax_id": "9" * 40, "annual_purchase": "1e30"}
    body = assert_envelope(
        http.post("/api/v1/customers/", sent, format="json", HTTP_ACCEPT_LANGUAGE=language), 400, "invalid"
    )
    assert body["errors"]["industry"] == ['"Z" is not a valid choice. “Z” 不是合法选项。']
    assert body["errors"]["name"] == ["This field is required. 该字段是必填项。"]
    for name in ("account_dept", "tax_id", "annual_purchase"):
        assert all(bilingual(message) for message in body["errors"][name]), body["errors"][name]


@LANGUAGES
def test_filter_errors_are_bilingual(language):
    http = token_client(["customers:read"])
    query = "?status=Z&org_unit=0&updated_since=yesterday&annual_purchase_min=abc"
    body = assert_envelope(http.get(f"/api/v1/customers/{query}", HTTP_ACCEPT_LANGUAGE=language), 400)
    assert set(body["errors"]) == {"status", "org_unit", "updated_since", "annual_purchase"}
    for messages in body["errors"].values():
        assert all(bilingual(message) for message in messages), body["errors"]


@LANGUAGES
def test_401_is_bilingual(language):
    body = assert_envelope(
        APIClient().get("/api/v1/customers/", HTTP_ACCEPT_LANGUAGE=language), 401, "not_authenticated"
    )
    assert body["message"] == "Authentication credentials were not provided. 身份认证信息未提供。"


@LANGUAGES
def test_404_405_415_and_parse_error_are_bilingual(tree, language):
    http = token_client(["customers:write"])
    answers = [
        (http.get("/api/v1/customers/999999/", HTTP_ACCEPT_LANGUAGE=language), 404),
        (http.get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE=language), 404),
        (http.delete("/api/v1/customers/", HTTP_ACCEPT_LANGUAGE=language), 405),
        (http.post("/api/v1/customers/", "a", content_type="text/csv", HTTP_ACCEPT_LANGUAGE=language), 415),
        (
            http.post(
                "/api/v1/customers/", "{x", content_type="application/json", HTTP_ACCEPT_LANGUAGE=language
            ),
            400,
        ),
    ]
    for response, status in answers:
        body = assert_envelope(response, status)
        assert bilingual(body["message"]), body


def _drf_classes(base: type) -> list[type]:
    found, todo = [], [base]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("rest_framework.") and cls not in found:
            found.append(cls)
    return found


def test_every_drf_default_message_is_bilingual():
    messages = [
        (cls, code, message)
        for cls in _drf_classes(fields.Field)
        for code, message in cls.__dict__.get("default_error_messages", {}).items()
    ]
    messages += [(cls, "default_detail", cls.default_detail) for cls in _drf_classes(exceptions.APIException)]
    messages += [
        (validators.UniqueValidator, "message", validators.UniqueValidator.message),
        (exceptions.Throttled, "wait", exceptions.Throttled(wait=3).detail),
    ]
    assert len(messages) > 80
    for cls, code, message in messages:
        assert bilingual(str(message)), (cls, code, str(message))
