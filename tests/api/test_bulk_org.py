"""Bulk upsert of org units and people (the "admin" scope only): created / updated / unchanged, parents and
managers named within the request, materialised paths, bad rows write nothing, constant query count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import OrgUnit, User
from tests.api.conftest import session_client, token_client
from tests.api.test_auth import assert_envelope
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

UNITS = "/api/v1/org-units/bulk/"
USERS = "/api/v1/users/bulk/"


def post(http, url, rows):
    return http.post(url, {"rows": rows}, format="json")


def tree_rows(prefix: str, offices: int = 2, depts: int = 2) -> list[dict]:
    """A region under the existing HQ (by code), its offices and their departments — children before their
    parents in the list, to show the order of the rows does not matter."""
    rows = []
    for o in range(offices):
        for d in range(depts):
            rows.append(
                {
                    "external_id": f"{prefix}-D{o}{d}",
                    "code": f"{prefix}D{o}{d}",
                    "name": f"系统部{o}{d}",
                    "kind": "ACCOUNT_DEPT",
                    "parent": f"{prefix}O{o}",
                }
            )
        rows.append(
            {
                "external_id": f"{prefix}-O{o}",
                "code": f"{prefix}O{o}",
                "name": f"代表处{o}",
                "kind": "REP_OFFICE",
                "parent": f"{prefix}-R",
            }
        )
    rows.append(
        {
            "external_id": f"{prefix}-R",
            "code": f"{prefix}R",
            "name": "西北地区部",
            "kind": "REGION",
            "parent": "HQ",
        }
    )
    return rows


@pytest.fixture
def hq(tree):
    OrgUnit.objects.filter(pk=tree["hq"].pk).update(code="HQ")
    return tree["hq"]


def test_units_created_with_their_paths_then_unchanged_then_moved(hq, tree):
    admin = token_client(["admin"])
    rows = tree_rows("NW")
    assert post(admin, UNITS, rows).json() == {"created": 7, "updated": 0, "unchanged": 0}
    region = OrgUnit.objects.get(code="NWR")
    office = OrgUnit.objects.get(code="NWO1")
    dept = OrgUnit.objects.get(code="NWD11")
    assert (region.parent, office.parent, dept.parent) == (hq, region, office)
    assert dept.path == f"{hq.path}{region.pk}/{office.pk}/{dept.pk}/" and dept.depth == 3
    assert dept.subtree().count() == 1 and region.subtree().count() == 7
    stamps = dict(OrgUnit.objects.values_list("code", "updated_at"))
    assert post(admin, UNITS, rows).json() == {"created": 0, "updated": 0, "unchanged": 7}
    assert dict(OrgUnit.objects.values_list("code", "updated_at")) == stamps
    # Move office 1 (and its departments) under the existing region of the tree.
    OrgUnit.objects.filter(pk=tree["region"].pk).update(external_id="EAST")
    moved = [
        {"external_id": "NW-O1", "code": "NWO1", "name": "代表处1", "kind": "REP_OFFICE", "parent": "EAST"}
    ]
    assert post(admin, UNITS, moved).json() == {"created": 0, "updated": 1, "unchanged": 0}
    dept.refresh_from_db()
    office.refresh_from_db()
    assert office.path == f"{tree['region'].path}{office.pk}/"
    assert dept.path == f"{office.path}{dept.pk}/" and dept.depth == 3
    assert OrgUnit.objects.get(code="NWD00").path.startswith(region.path)


def test_bad_unit_rows_write_nothing(hq):
    admin = token_client(["admin"])
    rows = tree_rows("NW", offices=1, depts=1)
    rows[0]["parent"] = "NW-R"  # a department directly under a region
    rows[1]["kind"] = "BOSS"
    rows.append(
        {"external_id": "NW-X", "code": "NWX", "name": "孤儿", "kind": "REP_OFFICE", "parent": "NOPE"}
    )
    rows.append({"external_id": "NW-Y", "code": "HQ", "name": "重码", "kind": "REP_OFFICE", "parent": "NW-R"})
    body = assert_envelope(post(admin, UNITS, rows), 400)
    named = {(e["index"], e["field"]) for e in body["errors"]["rows"]}
    assert named == {(1, "kind"), (3, "parent"), (4, "code")}, body
    body = assert_envelope(
        post(admin, UNITS, [{**tree_rows("NW", 1, 1)[0], "parent": "NW-R"}, *tree_rows("NW", 1, 1)[1:]]), 400
    )
    assert {(e["index"], e["field"]) for e in body["errors"]["rows"]} == {(0, "parent")}
    assert not OrgUnit.objects.filter(code__startswith="NW").exists()
    existing = [{"external_id": "NW-R", "code": "NWR", "name": "x", "kind": "REGION", "parent": "HQ"}]
    post(admin, UNITS, existing)
    body = assert_envelope(post(admin, UNITS, [{**existing[0], "kind": "REP_OFFICE", "parent": "NWR"}]), 400)
    assert {e["field"] for e in body["errors"]["rows"]} == {"kind"}


def test_only_the_admin_scope_writes(hq, tree):
    rows = tree_rows("NW", 1, 1)
    assert_envelope(post(token_client(["org-units:write"]), UNITS, rows), 403)
    assert_envelope(
        post(token_client(["users:write"]), USERS, [{"external_id": "E1", "username": "u1"}]), 403
    )
    assert_envelope(
        post(session_client(UserFactory(org_unit=tree["dept1"], job_role=User.JobRole.MANAGER)), UNITS, rows),
        403,
    )
    assert (
        post(session_client(UserFactory(org_unit=hq, job_role=User.JobRole.ADMIN)), UNITS, rows).status_code
        == 200
    )


def test_people_with_managers_in_the_same_request(tree):
    admin = token_client(["admin"])
    boss = UserFactory(org_unit=tree["office"], username="boss", external_id="HR-BOSS")
    rows = [
        {
            "external_id": "HR-2",
            "username": "li.si",
            "full_name": "李四",
            "org_unit": tree["dept1"].code,
            "manager": "zhang.san",
            "job_role": "SALES_REP",
        },
        {
            "external_id": "HR-1",
            "username": "zhang.san",
            "full_name": "张三",
            "org_unit": tree["dept1"].code,
            "manager": "HR-BOSS",
            "job_role": "MANAGER",
        },
    ]
    assert post(admin, USERS, rows).json() == {"created": 2, "updated": 0, "unchanged": 0}
    li, zhang = User.objects.get(username="li.si"), User.objects.get(username="zhang.san")
    assert (li.manager, zhang.manager, li.org_unit) == (zhang, boss, tree["dept1"])
    assert not li.has_usable_password() and not zhang.has_usable_password()
    assert post(admin, USERS, rows).json() == {"created": 0, "updated": 0, "unchanged": 2}
    rows[0]["full_name"] = "李四四"
    assert post(admin, USERS, rows).json() == {"created": 0, "updated": 1, "unchanged": 1}
    assert User.objects.get(username="li.si").full_name == "李四四"
    bad = [
        {**rows[1], "username": "boss"},
        {
            "external_id": "HR-3",
            "username": "bad name!",
            "full_name": "",
            "org_unit": "NOPE",
            "manager": None,
            "job_role": "KING",
        },
    ]
    body = assert_envelope(post(admin, USERS, bad), 400)
    assert {(e["index"], e["field"]) for e in body["errors"]["rows"]} == {
        (0, "username"),
        (1, "username"),
        (1, "org_unit"),
        (1, "job_role"),
    }
    # Cross-row rules are checked once every row is well-formed: nobody reports to themselves.
    for manager in ("HR-2", "li.si"):
        body = assert_envelope(post(admin, USERS, [rows[1], {**rows[0], "manager": manager}]), 400)
        assert [(e["index"], e["field"]) for e in body["errors"]["rows"]] == [(1, "manager")]
    new = {
        "external_id": "HR-9",
        "username": "wang.wu",
        "org_unit": None,
        "manager": "HR-9",
        "job_role": "SALES_REP",
        "full_name": "王五",
    }
    body = assert_envelope(post(admin, USERS, [new]), 400)
    assert [(e["index"], e["field"]) for e in body["errors"]["rows"]] == [(0, "manager")]
    assert User.objects.get(username="li.si").manager == zhang


@pytest.mark.parametrize("url", [UNITS, USERS])
def test_query_count_does_not_grow_with_rows(hq, tree, url):
    admin = token_client(["admin"])

    def rows(n: int, start: int) -> list[dict]:
        if url == UNITS:
            out = [
                {
                    "external_id": f"R{start}",
                    "code": f"R{start}",
                    "name": "地区部",
                    "kind": "REGION",
                    "parent": "HQ",
                }
            ]
            out += [
                {
                    "external_id": f"O{i}",
                    "code": f"O{i}",
                    "name": f"代表处{i}",
                    "kind": "REP_OFFICE",
                    "parent": f"R{start}",
                }
                for i in range(start, start + n - 1)
            ]
            return out
        return [
            {
                "external_id": f"E{i}",
                "username": f"user.{i}",
                "org_unit": tree["dept1"].code,
                "manager": f"E{start}" if i != start else None,
            }
            for i in range(start, start + n)
        ]

    post(admin, url, rows(2, 90_000))  # the first request also stamps last_used_at
    counts = []
    for n, start in ((10, 0), (1000, 100)):
        with CaptureQueriesContext(connection) as queries:
            response = post(admin, url, rows(n, start))
        assert response.json()["created"] == n, response.content
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 20
