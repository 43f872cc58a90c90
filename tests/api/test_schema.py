"""The OpenAPI schema and the docs pages (served locally, no CDN, no Google Fonts)."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

EXTERNAL = re.compile(r"""(?:src|href)=["'](?:https?:)?//""")


def test_schema_is_openapi_3_and_lists_the_resources():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/v1/customers/",
        "/api/v1/customers/bulk/",
        "/api/v1/receipts/{id}/",
        "/api/v1/org-units/",
    ):
        assert path in paths, path
    patch = paths["/api/v1/customers/{id}/"]["patch"]
    assert {"412", "428"} <= set(patch["responses"])
    assert any(p["name"] == "If-Match" and p["required"] for p in patch["parameters"])
    post = paths["/api/v1/customers/"]["post"]
    assert "201" in post["responses"] and "422" in post["responses"]
    assert "apiToken" in schema["components"]["securitySchemes"]


def test_schema_validates_without_warnings(capsys):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_nothing_from_outside(url):
    response = APIClient().get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "googleapis" not in html and "cdn" not in html.lower()
    assert "img-src 'self' data:" in response["Content-Security-Policy"]
