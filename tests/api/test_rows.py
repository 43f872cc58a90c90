"""List rows rendered from values() (ltc/api/rows.py) are exactly what DRF's serializers render."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework import serializers

from ltc.api import views as api_views
from ltc.api.rows import row_plan
from ltc.api.views import ListApi
from ltc.seed import seed_demo
from pipeline.serializers import OpportunityOutputSerializer
from relationships.serializers import ContactOutputSerializer
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 22)


def _list_urls() -> list[tuple[str, type[ListApi]]]:
    """Every list endpoint of /api/v1/ without path parameters, with its view class."""
    found: list[tuple[str, type[ListApi]]] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            route = str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + route)
            elif isinstance(entry, URLPattern):
                view = getattr(entry.callback, "view_class", None)
                if view is not None and issubclass(view, ListApi) and "<" not in prefix + route:
                    found.append(("/" + prefix + route, view))

    walk(get_resolver().url_patterns, "")
    return [(url, view) for url, view in found if url.startswith("/api/v1/")]


def _pages(http, url: str) -> list[dict]:
    rows: list[dict] = []
    response = http.get(url)
    while True:
        assert response.status_code == 200, (url, response.content[:300])
        body = response.json()
        rows.extend(body["results"])
        if not body["next"]:
            return rows
        response = http.get(body["next"])


@pytest.fixture
def seeded(db):
    return seed_demo(scale=200, seed=2026, today=TODAY)


def test_every_list_renders_the_same_rows_as_drf(seeded, monkeypatch):
    urls = _list_urls()
    planned = {url for url, view in urls if row_plan(view.output_serializer_class, None) is not None}
    # The big lists take the values() path; the contacts' private notes depend on who asks: DRF renders them.
    big = {"/api/v1/opportunities/", "/api/v1/customers/", "/api/v1/invoices/", "/api/v1/leads/"}
    assert big <= planned
    assert "/api/v1/contacts/" not in planned
    http = token_client(["admin"])
    rng = random.Random(7)
    for url, view in urls:
        names = sorted(view.output_serializer_class().fields)
        subset = ",".join(rng.sample(names, k=min(3, len(names))))
        for query in ("?page_size=97", f"?page_size=1000&fields={subset}"):
            fast = _pages(http, url + query)
            with monkeypatch.context() as patched:
                patched.setattr(api_views, "row_plan", lambda *args: None)
                drf = _pages(http, url + query)
            assert fast == drf, url + query
            if url in big:
                assert len(fast) > 0, url


def test_datetimes_follow_drf_in_any_zone(seeded):
    field = serializers.DateTimeField()
    plan = row_plan(OpportunityOutputSerializer, frozenset({"created_at", "closed_at"}))
    assert plan is not None
    values = [
        dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    ]
    for zone in ("UTC", "Asia/Shanghai", "America/New_York"):
        with timezone.override(zone):
            rendered = plan.render([{"created_at": value, "closed_at": None} for value in values])
            assert [row["created_at"] for row in rendered] == [field.to_representation(v) for v in values]
            assert all(row["closed_at"] is None for row in rendered)
    with timezone.override("UTC"):
        assert plan.render([{"created_at": values[0], "closed_at": None}])[0]["created_at"].endswith("Z")


def test_decimals_and_references_as_drf():
    plan = row_plan(OpportunityOutputSerializer, frozenset({"amount", "customer", "stage"}))
    assert plan is not None
    rows = plan.render([{"amount": Decimal("12.5"), "customer": 42, "stage": "BID"}])
    assert rows == [{"amount": "12.50", "customer": 42, "stage": "BID"}]


def test_no_plan_for_a_serializer_that_depends_on_who_asks():
    assert row_plan(ContactOutputSerializer, None) is None
    assert row_plan(ContactOutputSerializer, frozenset({"name"})) is not None

    class Custom(OpportunityOutputSerializer):
        def to_representation(self, instance):
            return {"id": instance.pk}

    assert row_plan(Custom, None) is None
