"""The visibility selectors are SQL filters: a constant number of queries whatever the number of rows, and
subtree filters that the org-unit path index answers (`path LIKE '/1/4/%'`)."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from accounts.models import User
from accounts.selectors import scope_for
from pipeline.selectors import opportunity_visible_to
from tests.factories import (
    ContractFactory,
    CustomerFactory,
    CustomerTeamMemberFactory,
    InvoiceFactory,
    OpportunityFactory,
    OpportunityTeamMemberFactory,
    ReceiptFactory,
    UserFactory,
    org_tree,
)
from tests.visibility.oracle import selectors

pytestmark = pytest.mark.django_db


def _people(tree):
    rep = UserFactory(org_unit=tree["dept1"])
    manager = UserFactory(org_unit=tree["office"], job_role=User.JobRole.MANAGER)
    # Named manager of a unit in the other branch too: scope_for must fetch both subtrees in one query.
    tree["dept3"].manager = manager
    tree["dept3"].save(update_fields=["manager"])
    return {"rep": rep, "manager": manager}


def _deals(tree, people, count: int) -> None:
    other = UserFactory(org_unit=tree["dept3"])
    for i in range(count):
        dept = (tree["dept1"], tree["dept2"], tree["dept3"])[i % 3]
        customer = CustomerFactory(account_dept=dept, owner=people["rep"] if i % 4 == 0 else other)
        if i % 5 == 0:
            CustomerTeamMemberFactory(customer=customer, user=people["rep"], role="SR")
        opp = OpportunityFactory(customer=customer, owner=other)
        if i % 7 == 0:
            OpportunityTeamMemberFactory(opportunity=opp, user=people["rep"], role="FR")
        contract = ContractFactory(customer=customer, opportunity=opp, owner=other)
        ReceiptFactory(invoice=InvoiceFactory(contract=contract))


@pytest.mark.parametrize("rows", [3, 60])
@pytest.mark.parametrize("who", ["rep", "manager"])
def test_opportunity_list_takes_at_most_two_queries(django_assert_max_num_queries, who, rows):
    tree = org_tree()
    people = _people(tree)
    _deals(tree, people, rows)
    user = User.objects.get(pk=people[who].pk)  # fresh: the scope is not cached yet
    with django_assert_max_num_queries(2):
        page = list(opportunity_visible_to(user)[:50])
        names = [(o.customer.name, o.owner.username, o.org_unit.path) for o in page]  # select_related
    assert names, "the user sees some opportunities"
    assert len(page) == min(50, opportunity_visible_to(user).count())


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_every_selector_takes_at_most_two_queries(django_assert_max_num_queries, who):
    tree = org_tree()
    people = _people(tree)
    _deals(tree, people, 12)
    for kind, selector in selectors().items():
        user = User.objects.get(pk=people[who].pk)
        with django_assert_max_num_queries(2):
            list(selector(user)[:50])
        # With the scope already known, the list is exactly one statement.
        scope = scope_for(user)
        with django_assert_max_num_queries(1):
            rows = list(selector(user, scope=scope)[:50])
        assert rows or kind in {
            "assessment",
            "gate",
            "milestone",
            "visit",
            "contact",
            "issue",
            "plan",
            "lead",
        }, kind


def test_scope_for_costs_one_query(django_assert_num_queries):
    tree = org_tree()
    people = _people(tree)
    manager = User.objects.get(pk=people["manager"].pk)
    with django_assert_num_queries(1):
        scope = scope_for(manager)
    assert scope.unit_paths == tuple(sorted((tree["office"].path, tree["dept3"].path)))
    with django_assert_num_queries(0):
        assert scope_for(manager) is scope  # cached on the user for the request


def test_subtree_filter_is_a_path_prefix_in_sql():
    tree = org_tree()
    people = _people(tree)
    manager = User.objects.get(pk=people["manager"].pk)
    sql = str(opportunity_visible_to(manager).query)
    for path in (tree["office"].path, tree["dept3"].path):
        assert re.search(rf"\"path\"(::text)? LIKE '?{re.escape(path)}%", sql), sql
    # No subtree is expanded into a list of ids in Python.
    assert "accounts_orgunit" in sql and " IN (SELECT" in sql


@pytest.mark.postgres_only
def test_postgres_answers_the_subtree_filter_from_the_path_index():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    tree = org_tree()
    people = _people(tree)
    _deals(tree, people, 5)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'accounts_orgunit' AND indexdef LIKE '%%(path%%'"
        )
        definitions = [row[0] for row in cursor.fetchall()]
    assert any("varchar_pattern_ops" in d for d in definitions), definitions

    manager = User.objects.get(pk=people["manager"].pk)
    qs = opportunity_visible_to(manager)
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # The subtree probes are index range scans on the path index (LIKE 'prefix%' → ~>=~ … ~<~), never a
    # sequential scan of the org units nor a LIKE applied as a row filter.
    assert "Seq Scan on accounts_orgunit" not in plan, plan
    path_probes = re.findall(r"Index Scan (?:using|on) (accounts_orgunit_path_\w+)", plan)
    assert len(path_probes) >= 2, plan  # one per manager subtree (own office, named unit dept3)
    # PostgreSQL rechecks LIKE on the rows it fetched; each prefix must also bound an index range scan.
    like_prefixes = set(re.findall(r"\(path\)::text ~~ '([^'%]*)%'", plan))
    indexed_prefixes = set(re.findall(r"\(path\)::text ~>=~ '([^']*)'", plan))
    assert like_prefixes == {tree["office"].path, tree["dept3"].path}, plan
    assert like_prefixes <= indexed_prefixes, plan
