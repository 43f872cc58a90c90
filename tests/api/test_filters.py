"""ltc.api.filters.ApiFilterBackend: a list read whose query string names no filter skips django-filter, which
must then be exactly what django-filter would have done."""

from __future__ import annotations

import pytest
from django.utils import timezone

from contracts.filters import InvoiceFilter
from ltc.api.filters import query_params_of
from tests.api.conftest import token_client
from tests.api.test_rows import _list_urls
from tests.factories import InvoiceFactory

pytestmark = pytest.mark.django_db


def _filtersets() -> list[tuple[str, type]]:
    found = [(url, view.filterset_class) for url, view in _list_urls() if view.filterset_class is not None]
    assert len(found) >= 11  # every resource list
    return found


@pytest.mark.parametrize(("url", "filterset_class"), _filtersets(), ids=lambda v: getattr(v, "__name__", v))
def test_a_filterset_given_none_of_its_parameters_changes_nothing(url, filterset_class):
    """What skipping relies on: no filter of any list has a default or acts on an absent parameter."""
    queryset = filterset_class._meta.model.objects.filter(pk__gt=0).order_by("pk")
    filterset = filterset_class(data={"page_size": "50", "cursor": "x", "fields": "id"}, queryset=queryset)
    assert filterset.is_valid(), filterset.errors
    assert str(filterset.qs.query) == str(queryset.query)


@pytest.mark.parametrize(("url", "filterset_class"), _filtersets(), ids=lambda v: getattr(v, "__name__", v))
def test_every_parameter_of_a_filter_is_known(url, filterset_class):
    params = query_params_of(filterset_class)
    assert "updated_since" in params
    for name in filterset_class.base_filters:
        assert name in params or any(p.startswith(f"{name}_") for p in params), name


def test_range_filters_answer_to_their_suffixed_parameters():
    params = query_params_of(InvoiceFilter)
    assert {"issued_on_after", "issued_on_before", "amount_min", "amount_max", "status", "org_unit"} <= params
    assert "issued_on" not in params and "amount" not in params


def test_a_list_read_without_filter_parameters_builds_no_filterset(monkeypatch):
    built = []
    original = InvoiceFilter.__init__

    def counting(self, *args, **kwargs):
        built.append(kwargs.get("data"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(InvoiceFilter, "__init__", counting)
    InvoiceFactory()
    http = token_client(["admin"])
    response = http.get("/api/v1/invoices/?page_size=10&fields=id,number")
    assert response.status_code == 200 and len(response.json()["results"]) == 1
    assert built == []
    # a filter parameter brings django-filter back: it filters, and a bad value is a 400
    response = http.get("/api/v1/invoices/?status=PAID")
    assert response.status_code == 200 and response.json()["results"] == []
    assert len(built) == 1
    response = http.get("/api/v1/invoices/?updated_since=yesterday")
    assert response.status_code == 400 and "updated_since" in response.json()["errors"]
    since = timezone.now().isoformat().replace("+00:00", "Z")
    assert http.get("/api/v1/invoices/", {"updated_since": since}).json()["results"] == []
