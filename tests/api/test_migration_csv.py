"""Migration from another CRM: load its CSV export through the API only, then check the funnel metrics.

The export (tests/api/data/crm_export/) has the shape of the public "CRM sales opportunities" sample data set:
accounts.csv, sales_teams.csv (agents, their managers and regional offices), products.csv and
sales_pipeline.csv (deal stages Prospecting / Engaging / Won / Lost). Everything is loaded with HTTP calls
under an admin-scope API client; the expected figures are computed from the CSV rows with the csv module
and plain Python, never from the database.

The mapping (what an integrator would decide):
- org tree: HQ → one REGION per regional office → one REP_OFFICE per manager (the manager's team, with the
  manager as its head) → one ACCOUNT_DEPT per office, where the team's agents and its accounts are filed.
  An account goes to the department of the team whose agents work it (the export has one team per account).
- people: agents are sales reps reporting to their manager; managers are MANAGERs of their office. The
  export has no solution or delivery experts, so the migration adds one of each per regional office (the
  iron triangle must be complete before the bid decision).
- products: code = name, series = product line, sales_price = list price (USD).
- deals: external_id = opportunity_id, owner = the agent; amount = close_value when the export has one
  above zero, else one unit of the product on the bill of quantities (its list price).
  Prospecting → VALIDATE (where a deal opens); Engaging → GUIDE (ATI decided GO, then moved); Won → through
  the ATI/ATB/ATC gates to /win/, the contract signed on the export's close_date; Lost → /lose/ with a reason.
- dates: the API does not let a client backdate a deal's created_at or closed_at (they are the server's
  clock), so deals count as created and closed today; the signing date of a won deal's contract is business
  data and keeps the export's close_date. The checked period runs from the first export date to today.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import OrgUnit
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db

EXPORT = Path(__file__).parent / "data" / "crm_export"
API = "/api/v1"
CENT = Decimal("0.01")
SECTOR_TO_INDUSTRY = {
    "technolgy": "INTERNET",  # sic: the export's spelling
    "software": "INTERNET",
    "medical": "HEALTHCARE",
    "retail": "RETAIL",
    "finance": "FINANCE",
    "telecommunications": "TELECOM",
}
STAGE_OF = {"Prospecting": "VALIDATE", "Engaging": "GUIDE", "Won": "WON", "Lost": "LOST"}


def read(name: str) -> list[dict[str, str]]:
    with open(EXPORT / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.upper()).strip("-")


def username(person: str) -> str:
    return person.lower().replace(" ", ".")


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:2000])
    return response.json()


# --- What the export says, computed with plain Python -------------------------------------------------------


class Export:
    def __init__(self) -> None:
        self.teams = read("sales_teams.csv")
        self.accounts = read("accounts.csv")
        self.products = read("products.csv")
        self.deals = read("sales_pipeline.csv")
        self.manager_of = {row["sales_agent"]: row["manager"] for row in self.teams}
        self.region_of_manager = {row["manager"]: row["regional_office"] for row in self.teams}
        self.price = {row["product"]: Decimal(row["sales_price"]) for row in self.products}
        teams_of_account: dict[str, set[str]] = defaultdict(set)
        for deal in self.deals:
            teams_of_account[deal["account"]].add(self.manager_of[deal["sales_agent"]])
        assert all(len(teams) == 1 for teams in teams_of_account.values()), "one team per account"
        self.team_of_account = {account: teams.pop() for account, teams in teams_of_account.items()}

    @staticmethod
    def amount(deal: dict[str, str], price: dict[str, Decimal]) -> Decimal:
        value = Decimal(deal["close_value"] or "0")
        return (value if value > 0 else price[deal["product"]]).quantize(CENT)

    def expected(self, deals: list[dict[str, str]]) -> dict:
        """The funnel the export implies for these deals: counts and amounts per stage, the win rate."""
        by_stage: dict[str, list[Decimal]] = defaultdict(list)
        for deal in deals:
            by_stage[deal["deal_stage"]].append(self.amount(deal, self.price))
        won, lost = len(by_stage["Won"]), len(by_stage["Lost"])
        return {
            "opportunities": (len(deals), sum((self.amount(d, self.price) for d in deals), Decimal("0"))),
            "won": (won, sum(by_stage["Won"], Decimal("0"))),
            "lost": (lost, sum(by_stage["Lost"], Decimal("0"))),
            "contracted": (won, sum(by_stage["Won"], Decimal("0"))),
            "VALIDATE": (len(by_stage["Prospecting"]), sum(by_stage["Prospecting"], Decimal("0"))),
            "GUIDE": (len(by_stage["Engaging"]), sum(by_stage["Engaging"], Decimal("0"))),
            "win_rate": round(won / (won + lost), 4) if won + lost else None,
        }


def observed(body: dict) -> dict:
    """The same figures read from a funnel of the metrics endpoint."""

    def pair(figure: dict) -> tuple[int, Decimal]:
        return figure["count"], Decimal(figure["amount"])

    stages, pipeline = body["stages"], body["open_pipeline"]
    return {
        "opportunities": pair(stages["opportunities"]),
        "won": pair(stages["won"]),
        "lost": pair(stages["lost"]),
        "contracted": pair(stages["contracted"]),
        "VALIDATE": pair(pipeline["VALIDATE"]),
        "GUIDE": pair(pipeline["GUIDE"]),
        "win_rate": body["rates"]["win_rate"],
    }


# --- Loading it through the API -----------------------------------------------------------------------------


def bulk(http, resource: str, rows: list[dict]) -> dict:
    return ok(http.post(f"{API}/{resource}/bulk/", {"rows": rows}, format="json"))


def ids_by(http, resource: str, key: str) -> dict[str, int]:
    """Every row of a list endpoint (following the cursor), as {key: id}."""
    found: dict[str, int] = {}
    url = f"{API}/{resource}/?page_size=500"
    while url:
        body = ok(http.get(url))
        found.update({row[key]: row["id"] for row in body["results"]})
        url = body["next"]
    return found


def load(export: Export) -> dict:
    http = token_client(["admin"], name="CRM migration")
    managers = sorted({row["manager"] for row in export.teams})
    regions = sorted({row["regional_office"] for row in export.teams})

    # Org units: HQ, regions, an office per manager, a department per office (no heads yet: people next).
    # Every row of one request carries the same fields (an update touches only the fields sent).
    units = [{"external_id": "HQ", "code": "HQ", "name": "Headquarters 总部", "kind": "HQ", "parent": None}]
    units += [
        {"external_id": f"R-{slug(r)}", "code": f"R-{slug(r)}", "name": r, "kind": "REGION", "parent": "HQ"}
        for r in regions
    ]
    head_of: dict[str, str] = {}
    for manager in managers:
        region = f"R-{slug(export.region_of_manager[manager])}"
        office, dept = f"O-{slug(manager)}", f"D-{slug(manager)}"
        head_of[office] = username(manager)
        units.append(
            {
                "external_id": office,
                "code": office,
                "name": f"{manager} team",
                "kind": "REP_OFFICE",
                "parent": region,
            }
        )
        units.append(
            {
                "external_id": dept,
                "code": dept,
                "name": f"{manager} accounts",
                "kind": "ACCOUNT_DEPT",
                "parent": office,
            }
        )
    assert bulk(http, "org-units", units) == {"created": len(units), "updated": 0, "unchanged": 0}

    # People: managers, agents reporting to them (in the same request), two experts per region.
    people = [
        {
            "external_id": username(m),
            "username": username(m),
            "full_name": m,
            "job_role": "MANAGER",
            "org_unit": f"O-{slug(m)}",
            "manager": None,
        }
        for m in managers
    ]
    people += [
        {
            "external_id": username(row["sales_agent"]),
            "username": username(row["sales_agent"]),
            "full_name": row["sales_agent"],
            "job_role": "SALES_REP",
            "org_unit": f"D-{slug(row['manager'])}",
            "manager": username(row["manager"]),
        }
        for row in export.teams
    ]
    for region in regions:
        for role, tag in (("SOLUTION_EXPERT", "sr"), ("DELIVERY_EXPERT", "fr")):
            name = f"{tag}.{slug(region).lower()}"
            people.append(
                {
                    "external_id": name,
                    "username": name,
                    "full_name": name,
                    "job_role": role,
                    "org_unit": f"R-{slug(region)}",
                    "manager": None,
                }
            )
    assert bulk(http, "users", people) == {"created": len(people), "updated": 0, "unchanged": 0}

    # The managers head their offices: the same rows again with `manager` set — only the offices change.
    rows = [dict(row, manager=head_of.get(row["code"])) for row in units]
    assert bulk(http, "org-units", rows) == {
        "created": 0,
        "updated": len(head_of),
        "unchanged": len(units) - len(head_of),
    }

    customers = [
        {
            "external_id": f"ACC-{slug(row['account'])}",
            "name": row["account"],
            "name_en": row["account"],
            "industry": SECTOR_TO_INDUSTRY.get(row["sector"], "OTHER"),
            "account_dept": f"D-{slug(export.team_of_account[row['account']])}",
        }
        for row in export.accounts
    ]
    assert bulk(http, "customers", customers)["created"] == len(customers)
    products = [
        {
            "external_id": f"PRD-{slug(row['product'])}",
            "code": slug(row["product"]),
            "name": row["product"],
            "product_line": row["series"],
            "series": row["series"],
            "list_price": row["sales_price"],
            "currency": "USD",
        }
        for row in export.products
    ]
    assert bulk(http, "products", products)["created"] == len(products)

    user_ids = ids_by(http, "users", "username")
    customer_ids = ids_by(http, "customers", "external_id")
    product_ids = ids_by(http, "products", "code")
    for deal in export.deals:
        open_deal(http, export, deal, user_ids=user_ids, customer_ids=customer_ids, product_ids=product_ids)
    return {"http": http, "user_ids": user_ids}


def open_deal(http, export: Export, deal: dict[str, str], *, user_ids, customer_ids, product_ids) -> None:
    close_value = Decimal(deal["close_value"] or "0")
    body = {
        "external_id": deal["opportunity_id"],
        "name": f"{deal['account']} — {deal['product']}",
        "customer": customer_ids[f"ACC-{slug(deal['account'])}"],
        "owner": user_ids[username(deal["sales_agent"])],
        "currency": "USD",
    }
    if close_value > 0:
        body["amount"] = str(close_value)
    opp = ok(http.post(f"{API}/opportunities/", body, format="json"), 201)
    url = f"{API}/opportunities/{opp['id']}"
    if close_value <= 0:
        line = {"product": product_ids[slug(deal["product"])], "quantity": "1"}
        ok(http.post(f"{url}/lines/", line, format="json"))

    def gate(name: str) -> None:
        ok(http.post(f"{url}/gate-decisions/", {"gate": name, "outcome": "GO"}, format="json"), 201)

    def move(stage: str) -> None:
        assert ok(http.post(f"{url}/move-stage/", {"to_stage": stage}, format="json"))["stage"] == stage

    stage = deal["deal_stage"]
    if stage == "Engaging":
        gate("ATI")
        move("GUIDE")
    elif stage == "Lost":
        ok(http.post(f"{url}/lose/", {"reason": "Lost in the source CRM 原系统中丢单"}, format="json"))
    elif stage == "Won":
        region = slug(export.region_of_manager[export.manager_of[deal["sales_agent"]]]).lower()
        for tag, role in (("sr", "SR"), ("fr", "FR")):
            ok(http.post(f"{url}/team/", {"user": user_ids[f"{tag}.{region}"], "role": role}, format="json"))
        gate("ATI")
        move("GUIDE")
        move("BID")
        gate("ATB")
        move("NEGOTIATE")
        gate("ATC")
        ok(http.post(f"{url}/win/", {"signed_on": deal["close_date"]}, format="json"), 201)
    else:
        assert stage == "Prospecting", stage


# --- The test -----------------------------------------------------------------------------------------------


def test_crm_export_loaded_through_the_api_gives_the_funnel_computed_from_the_csv():
    export = Export()
    loaded = load(export)
    http = loaded["http"]
    dates = [d for deal in export.deals for d in (deal["engage_date"], deal["close_date"]) if d]
    period = {"period_start": min(dates), "period_end": timezone.localdate().isoformat()}

    # The whole company.
    body = ok(http.get(f"{API}/metrics/funnel/", period))
    assert observed(body) == export.expected(export.deals)
    assert Counter(deal["deal_stage"] for deal in export.deals) == {
        "Won": body["stages"]["won"]["count"],
        "Lost": body["stages"]["lost"]["count"],
        "Engaging": body["open_pipeline"]["GUIDE"]["count"],
        "Prospecting": body["open_pipeline"]["VALIDATE"]["count"],
    }

    # Per agent (group_by=owner) and per regional office (org_unit filter).
    by_owner = ok(http.get(f"{API}/metrics/funnel/", {**period, "group_by": "owner"}))
    per_agent = {group["label"]: observed(group) for group in by_owner["groups"]}
    agents = sorted({deal["sales_agent"] for deal in export.deals})
    assert sorted(per_agent) == agents
    for agent in agents:
        assert per_agent[agent] == export.expected([d for d in export.deals if d["sales_agent"] == agent]), (
            agent
        )
    region_ids = ids_by(http, "org-units", "code")
    for region in sorted({row["regional_office"] for row in export.teams}):
        figures = ok(
            http.get(f"{API}/metrics/funnel/", {**period, "org_unit": region_ids[f"R-{slug(region)}"]})
        )
        deals = [
            d for d in export.deals if export.region_of_manager[export.manager_of[d["sales_agent"]]] == region
        ]
        assert observed(figures) == export.expected(deals), region

    # A client scoped to one manager's office sees exactly that team's deals (its org-unit scope is set by
    # whoever creates the client, like the admin token above).
    manager = "Rocco Neubert"
    scoped = token_client(["metrics:read"], org_unit=OrgUnit.objects.get(code=f"O-{slug(manager)}"))
    team_deals = [d for d in export.deals if export.manager_of[d["sales_agent"]] == manager]
    assert observed(ok(scoped.get(f"{API}/metrics/funnel/", period))) == export.expected(team_deals)

    # Contracts keep the export's close_date: contracted per month follows the CSV.
    by_month = ok(http.get(f"{API}/metrics/funnel/", {**period, "group_by": "month"}))
    contracted = {
        group["key"]: (
            group["stages"]["contracted"]["count"],
            Decimal(group["stages"]["contracted"]["amount"]),
        )
        for group in by_month["groups"]
        if group["stages"]["contracted"]["count"]
    }
    expected_months: dict[str, tuple[int, Decimal]] = {}
    for deal in export.deals:
        if deal["deal_stage"] == "Won":
            month = deal["close_date"][:7]
            count, amount = expected_months.get(month, (0, Decimal("0")))
            expected_months[month] = (count + 1, amount + export.amount(deal, export.price))
    assert contracted == expected_months
    # Deals themselves are created and closed today (no backdating through the API).
    this_month = timezone.localdate().strftime("%Y-%m")
    deal_months = {g["key"] for g in by_month["groups"] if g["stages"]["opportunities"]["count"]}
    assert deal_months == {this_month}
    assert dt.date.fromisoformat(min(dates)) < timezone.localdate()
