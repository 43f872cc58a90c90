"""GET /api/v1/metrics/funnel/: figures, visibility (a manager's figures are the sum over the subtree), the
filters and their field errors, group_by, scopes, the pinned query count and the OpenAPI description."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from ltc.api.metrics import quarter_of
from tests.api.conftest import session_client, token_client
from tests.api.test_auth import assert_envelope
from tests.factories import (
    ContractFactory,
    CustomerFactory,
    InvoiceFactory,
    LeadFactory,
    OpportunityFactory,
    ReceiptFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/funnel/"
FIGURE_STAGES = ("leads", "opportunities", "won", "lost", "contracted", "invoiced", "collected")
COUNT_STAGES = ("qualified", "converted", "abandoned")


def _book(rep: User, customer, *, scale: int) -> None:
    """One rep's records, all in the current period: leads, deals in every state, a contract with cash."""
    now = timezone.now()
    today = timezone.localdate()
    lead = LeadFactory(customer=customer, owner=rep, status="CONVERTED", converted_at=now, grade="A")
    LeadFactory(customer=customer, owner=rep, estimated_amount=Decimal(scale) * 1000)
    won = OpportunityFactory(
        customer=customer, owner=rep, lead=lead, stage="WON", closed_at=now, amount=Decimal(scale) * 10000
    )
    for _ in range(scale % 3 + 1):
        OpportunityFactory(
            customer=customer,
            owner=rep,
            stage="LOST",
            closed_at=now,
            close_reason="price",
            amount=Decimal(scale) * 3000,
        )
    OpportunityFactory(customer=customer, owner=rep, stage="BID", amount=Decimal(scale) * 2000)
    OpportunityFactory(customer=customer, owner=rep, stage="ABANDONED", closed_at=now, close_reason="x")
    contract = ContractFactory(
        customer=customer,
        owner=rep,
        opportunity=won,
        amount=Decimal(scale) * 10000,
        signed_on=today,
    )
    invoice = InvoiceFactory(contract=contract, amount=Decimal(scale) * 4000, issued_on=today)
    ReceiptFactory(invoice=invoice, contract=contract, amount=Decimal(scale) * 1500, received_on=today)


@pytest.fixture
def company(tree):
    """A region manager over reps in two departments and the office; a rep in the other branch."""
    reps = {
        "dept1": UserFactory(username="rep1", org_unit=tree["dept1"]),
        "dept2": UserFactory(username="rep2", org_unit=tree["dept2"]),
        "office": UserFactory(username="rep_office", org_unit=tree["office"]),
        "dept3": UserFactory(username="rep3", org_unit=tree["dept3"]),
    }
    tiers = {"dept1": "A", "dept2": "S", "office": "A", "dept3": "B"}
    for scale, (unit, rep) in enumerate(reps.items(), start=1):
        _book(rep, CustomerFactory(account_dept=tree[unit], tier=tiers[unit]), scale=scale)
    manager = UserFactory(username="region_boss", org_unit=tree["region"], job_role=User.JobRole.MANAGER)
    return {"reps": reps, "manager": manager}


def _get(http: APIClient, **params) -> dict:
    response = http.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def _sum(bodies: list[dict]) -> dict:
    """Per-stage counts and amounts added up (amounts as Decimal) over several funnels."""
    total: dict = {}
    for stage in FIGURE_STAGES:
        total[stage] = {
            "count": sum(b["stages"][stage]["count"] for b in bodies),
            "amount": sum((Decimal(b["stages"][stage]["amount"]) for b in bodies), Decimal("0")),
        }
    for stage in COUNT_STAGES:
        total[stage] = {"count": sum(b["stages"][stage]["count"] for b in bodies)}
    for stage in ("VALIDATE", "GUIDE", "BID", "NEGOTIATE"):
        total[f"open:{stage}"] = {
            "count": sum(b["open_pipeline"][stage]["count"] for b in bodies),
            "amount": sum((Decimal(b["open_pipeline"][stage]["amount"]) for b in bodies), Decimal("0")),
        }
    return total


def _as_decimal(body: dict) -> dict:
    return _sum([body])


def test_default_period_is_the_current_quarter_and_amounts_are_strings(company):
    body = _get(token_client(["metrics:read"]))
    start, end = quarter_of(timezone.localdate())
    assert body["period"] == {"start": start.isoformat(), "end": end.isoformat()}
    assert body["group_by"] is None and body["groups"] is None
    won = body["stages"]["won"]
    # Four reps, scales 1..4: won 10,000 × scale.
    assert won == {"count": 4, "amount": "100000.00"}
    assert body["stages"]["lost"]["count"] == 2 + 3 + 1 + 2  # scale % 3 + 1 for scales 1..4
    assert body["rates"]["win_rate"] == round(4 / 12, 4)
    assert body["open_pipeline"]["BID"] == {"count": 4, "amount": "20000.00"}
    assert body["open_pipeline"]["VALIDATE"] == {"count": 0, "amount": "0.00"}
    assert body["stages"]["collected"] == {"count": 4, "amount": "15000.00"}
    assert isinstance(body["cycle_days"]["opportunity_to_won"], float)


def test_quarter_helper():
    assert quarter_of(dt.date(2026, 2, 14)) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert quarter_of(dt.date(2026, 11, 30)) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert quarter_of(dt.date(2026, 7, 1)) == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))


def test_one_date_given_takes_the_other_from_its_quarter(company):
    assert _get(token_client(["metrics:read"]), period_start="2026-05-10")["period"] == {
        "start": "2026-05-10",
        "end": "2026-06-30",
    }
    assert _get(token_client(["metrics:read"]), period_end="2026-02-01")["period"] == {
        "start": "2026-01-01",
        "end": "2026-02-01",
    }


def test_a_period_without_activity_is_all_zeros_but_keeps_the_open_pipeline(company):
    body = _get(token_client(["metrics:read"]), period_start="2001-01-01", period_end="2001-12-31")
    assert all(body["stages"][stage]["count"] == 0 for stage in FIGURE_STAGES + COUNT_STAGES)
    assert body["stages"]["won"]["amount"] == "0.00"
    assert body["rates"] == {"lead_to_opportunity": None, "win_rate": None}
    assert body["open_pipeline"]["BID"]["count"] == 4


def test_manager_figures_are_the_sum_over_their_subtree(company, tree):
    reps = company["reps"]
    per_rep = {unit: _get(session_client(rep)) for unit, rep in reps.items()}
    manager = _get(session_client(company["manager"]))
    assert _as_decimal(manager) == _sum([per_rep["dept1"], per_rep["dept2"], per_rep["office"]])
    assert manager["stages"]["won"]["count"] == 3
    # Each rep sees exactly their own book (scale 1 for dept1).
    assert per_rep["dept1"]["stages"]["won"] == {"count": 1, "amount": "10000.00"}
    # The whole company is the manager's region plus the other branch.
    everything = _get(token_client(["metrics:read"]))
    assert _as_decimal(everything) == _sum([manager, per_rep["dept3"]])


def test_a_rep_scoped_client_sees_only_its_records(company, tree):
    dept1 = token_client(["metrics:read"], org_unit=tree["dept1"])
    body = _get(dept1)
    assert body["stages"]["won"] == {"count": 1, "amount": "10000.00"}
    assert body["stages"]["opportunities"]["count"] == 1 + 2 + 1 + 1
    region = token_client(["metrics:read"], org_unit=tree["region"])
    assert _as_decimal(_get(region)) == _as_decimal(_get(session_client(company["manager"])))


def test_filters_org_unit_owner_and_tier(company, tree):
    admin = token_client(["metrics:read"])
    office = _get(admin, org_unit=tree["office"].pk)
    assert office["stages"]["won"] == {"count": 3, "amount": "60000.00"}  # scales 1, 2, 3
    rep2 = company["reps"]["dept2"]
    assert _get(admin, owner=rep2.pk)["stages"]["won"] == {"count": 1, "amount": "20000.00"}
    tier_a = _get(admin, customer_tier="A")  # dept1 (scale 1) and office (scale 3)
    assert tier_a["stages"]["won"] == {"count": 2, "amount": "40000.00"}
    assert tier_a["stages"]["invoiced"]["amount"] == "16000.00"
    both = _get(admin, org_unit=tree["region"].pk, customer_tier="S")
    assert both["stages"]["contracted"] == {"count": 1, "amount": "20000.00"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period_start": "2026-13-01"}, "period_start"),
        ({"period_end": "yesterday"}, "period_end"),
        ({"period_start": "2026-05-01", "period_end": "2026-04-30"}, "period_end"),
        ({"period_start": "0001-01-01", "period_end": "0001-01-31"}, "period_start"),
        ({"period_start": "9999-12-01", "period_end": "9999-12-31"}, "period_start"),
        ({"customer_tier": "Z"}, "customer_tier"),
        ({"customer_tier": ""}, "customer_tier"),
        ({"org_unit": ""}, "org_unit"),
        ({"period_start": ""}, "period_start"),
        ({"group_by": "stage"}, "group_by"),
        ({"org_unit": "abc"}, "org_unit"),
        ({"org_unit": "0"}, "org_unit"),
        ({"owner": str(2**63)}, "owner"),
    ],
)
def test_bad_parameters_are_field_errors(company, params, field):
    body = assert_envelope(token_client(["metrics:read"]).get(URL, params), 400, "invalid")
    assert field in body["errors"], body


def test_unknown_org_unit_or_owner_is_a_field_error(company):
    admin = token_client(["metrics:read"])
    assert "org_unit" in assert_envelope(admin.get(URL, {"org_unit": 10**9}), 400)["errors"]
    assert "owner" in assert_envelope(admin.get(URL, {"owner": 10**9}), 400)["errors"]


def test_org_unit_or_owner_outside_the_callers_reach_is_a_field_error(company, tree):
    """400, not zeros: a zero for another branch would read as a true zero."""
    reps = company["reps"]
    dept1 = token_client(["metrics:read"], org_unit=tree["dept1"])
    assert "org_unit" in assert_envelope(dept1.get(URL, {"org_unit": tree["dept3"].pk}), 400)["errors"]
    assert "org_unit" in assert_envelope(dept1.get(URL, {"org_unit": tree["dept2"].pk}), 400)["errors"]
    assert "owner" in assert_envelope(dept1.get(URL, {"owner": reps["dept2"].pk}), 400)["errors"]
    # Above the caller: the caller's own part of it.
    assert _get(dept1, org_unit=tree["region"].pk)["stages"]["won"] == {"count": 1, "amount": "10000.00"}
    assert _get(dept1, owner=reps["dept1"].pk)["stages"]["won"]["count"] == 1
    rep = session_client(reps["dept1"])
    assert "owner" in assert_envelope(rep.get(URL, {"owner": reps["dept2"].pk}), 400)["errors"]
    assert "org_unit" in assert_envelope(rep.get(URL, {"org_unit": tree["dept2"].pk}), 400)["errors"]
    assert _get(rep, org_unit=tree["office"].pk)["stages"]["won"]["count"] == 1
    manager = session_client(company["manager"])
    assert "org_unit" in assert_envelope(manager.get(URL, {"org_unit": tree["region2"].pk}), 400)["errors"]
    assert _get(manager, owner=reps["office"].pk)["stages"]["won"]["count"] == 1


def test_group_by_owner_splits_the_totals(company):
    manager = session_client(company["manager"])
    body = _get(manager, group_by="owner")
    reps = company["reps"]
    assert body["group_by"] == "owner"
    keys = [group["key"] for group in body["groups"]]
    assert sorted(keys) == sorted(str(reps[unit].pk) for unit in ("dept1", "dept2", "office"))
    by_key = {group["key"]: group for group in body["groups"]}
    assert by_key[str(reps["dept2"].pk)]["label"] == reps["dept2"].full_name
    assert by_key[str(reps["dept2"].pk)]["stages"]["won"] == {"count": 1, "amount": "20000.00"}
    assert _sum(body["groups"]) == _as_decimal(body)


def test_group_by_tier_org_unit_and_month(company, tree):
    admin = token_client(["metrics:read"])
    tiers = _get(admin, group_by="customer_tier")
    assert [group["key"] for group in tiers["groups"]] == ["A", "B", "S"]
    assert tiers["groups"][0]["label"].startswith("A ")
    assert _sum(tiers["groups"]) == _as_decimal(tiers)

    units = _get(admin, group_by="org_unit", org_unit=tree["office"].pk)
    assert {group["key"] for group in units["groups"]} == {
        str(tree[name].pk) for name in ("dept1", "dept2", "office")
    }
    assert _sum(units["groups"]) == _as_decimal(units)

    months = _get(admin, group_by="month")
    this_month = timezone.localdate().strftime("%Y-%m")
    assert [group["key"] for group in months["groups"]] == [this_month]
    month = months["groups"][0]
    assert month["open_pipeline"] is None and month["label"] == this_month
    assert month["stages"] == tiers["stages"]


def test_month_groups_follow_the_date_of_each_stage(tree):
    rep = UserFactory(org_unit=tree["dept1"])
    customer = CustomerFactory(account_dept=tree["dept1"])
    contract = ContractFactory(
        customer=customer, owner=rep, amount=Decimal("900.00"), signed_on=dt.date(2026, 1, 31)
    )
    InvoiceFactory(contract=contract, amount=Decimal("300.00"), issued_on=dt.date(2026, 2, 1))
    body = _get(
        token_client(["metrics:read"]), period_start="2026-01-01", period_end="2026-03-31", group_by="month"
    )
    groups = {group["key"]: group["stages"] for group in body["groups"]}
    assert set(groups) == {"2026-01", "2026-02"}
    assert groups["2026-01"]["contracted"] == {"count": 1, "amount": "900.00"}
    assert groups["2026-01"]["invoiced"]["count"] == 0
    assert groups["2026-02"]["invoiced"] == {"count": 1, "amount": "300.00"}


def test_scope_and_authentication(company):
    assert_envelope(APIClient().get(URL), 401)
    assert_envelope(token_client(["customers:read"]).get(URL), 403)
    assert token_client(["metrics:write"]).get(URL).status_code == 200  # a write scope implies read
    assert token_client(["*:read"]).get(URL).status_code == 200
    assert token_client(["admin"]).get(URL).status_code == 200
    assert_envelope(token_client(["admin"]).post(URL, {}, format="json"), 405)


def _more(tree, n: int) -> None:
    for i in range(n):
        rep = UserFactory(org_unit=tree["dept2"])
        _book(rep, CustomerFactory(account_dept=tree["dept2"], tier="SABC"[i % 4]), scale=i + 5)


@pytest.mark.parametrize("group_by", [None, "owner", "month"])
def test_query_count_is_constant(company, tree, group_by, django_assert_num_queries):
    # Authentication (1 client lookup), the org unit and owner lookups (1 each), the funnel (7 queries),
    # with group_by the grouped funnel (7, or 6 for months: no open pipeline) and the labels (1 for units
    # and people).
    expected = {None: 10, "owner": 18, "month": 16}[group_by]
    http = token_client(["metrics:read"], org_unit=tree["region"])
    params = {"org_unit": tree["office"].pk, "owner": company["reps"]["dept2"].pk}
    if group_by:
        params["group_by"] = group_by
    http.get(URL, params)  # the first call records last_used_at
    with django_assert_num_queries(expected):
        _get(http, **params)
    _more(tree, 6)
    with django_assert_num_queries(expected):
        _get(http, **params)


def test_session_user_query_count_is_constant(company, tree, django_assert_num_queries):
    manager = session_client(company["manager"])
    manager.get(URL)
    # Session and user (2), the scope (1), the funnel (7).
    with django_assert_num_queries(10):
        _get(manager)
    _more(tree, 4)
    with django_assert_num_queries(10):
        _get(manager)


def test_the_schema_describes_the_endpoint():
    schema = APIClient().get(URL.replace("v1/metrics/funnel/", "schema/"), HTTP_ACCEPT="application/json")
    operation = schema.json()["paths"][URL]["get"]
    names = {param["name"] for param in operation["parameters"]}
    assert names == {"period_start", "period_end", "org_unit", "owner", "customer_tier", "group_by"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/FunnelOutput"
    }
    assert {"400", "401", "403"} <= set(operation["responses"])
    figure = schema.json()["components"]["schemas"]["FunnelFigure"]
    assert figure["properties"]["amount"]["type"] == "string"
