"""accounts.selectors.row_in: the row-by-row visibility test whose subquery SQL is compiled once (RowIn).

Which rows each role sees is tests/visibility/test_visibility_matrix.py's business (the oracle); these tests are
about the compiled-once SQL: kept, shared by clones, right wherever the query is used, refused where it
cannot be right. Expected sets come from the same oracle, on the matrix's world.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import OuterRef, Q, Subquery
from django.db.models.lookups import IsNull

from accounts.selectors import RowIn, outer_column, row_in, scope_for, scope_for_org_unit
from contracts.models import Contract, Receipt
from contracts.selectors import contract_scope_q, invoice_visible_to
from pipeline.models import Opportunity
from relationships.models import Customer
from relationships.selectors import customer_scope_q
from tests.factories import org_tree
from tests.visibility.oracle import actor_for_api_client, actor_for_user, build, expected_visible
from tests.visibility.test_visibility_matrix import _login, scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """The role matrix's world, and the rep (who sees CT_moved's invoice only through its deal's customer)."""
    spec = scenario()
    built = build(spec, existing_units=org_tree())
    return spec, built, _login(built, "rep")


def _pks(built, kind: str, keys) -> set[int]:
    return {built.records[kind][key].pk for key in keys}


def test_the_subquery_is_compiled_once_and_reused_by_every_clone(world):
    spec, built, rep = world
    expected = _pks(built, "invoice", expected_visible(spec, actor_for_user(spec, "rep"))["invoice"])
    assert expected == _pks(built, "invoice", {"N_rep", "N_moved"})
    invoice_visible_to.build_cache.cache_clear()  # a scope of an earlier test may have the same key
    first = invoice_visible_to(rep)
    rows = [node for node in first.query.where.children if isinstance(node, RowIn)]
    assert len(rows) == 1
    assert rows[0].compiled == {}
    assert {i.pk for i in first} == expected
    assert set(rows[0].compiled) == {connection.alias}
    kept = rows[0].compiled[connection.alias]
    again = invoice_visible_to(rep).filter(amount__gt=0)
    assert [node.compiled for node in again.query.where.children if isinstance(node, RowIn)][0] is rows[
        0
    ].compiled
    assert {i.pk for i in again} == expected
    assert rows[0].compiled[connection.alias] is kept


@pytest.mark.parametrize("viewer", ["rep", "office_mgr", "branch2_mgr", "office client"])
def test_used_as_a_subquery_of_another_query_the_outer_column_follows_its_alias(world, viewer):
    """The visible invoices inside a receipt query: Django renames the invoice table's alias (U0 …); the
    markers must take the renamed columns, not the table name the subquery was compiled with."""
    spec, built, rep = world
    if viewer == "office client":
        visible = invoice_visible_to(None, scope=scope_for_org_unit(built.units["office"]))
        expected_invoices = expected_visible(spec, actor_for_api_client("office"))["invoice"]
    else:
        visible = invoice_visible_to(_login(built, viewer))
        expected_invoices = expected_visible(spec, actor_for_user(spec, viewer))["invoice"]
    expected = {
        receipt.pk
        for receipt in built.records["receipt"].values()
        if receipt.invoice_id in _pks(built, "invoice", expected_invoices)
    }
    through_subquery = Receipt.objects.filter(invoice__in=visible.values("pk"))
    assert {r.pk for r in through_subquery} == expected
    as_row_in = Receipt.objects.filter(row_in(visible, "invoice_id"))
    assert {r.pk for r in as_row_in} == expected


def test_across_a_join_it_answers_as_django_s_own_correlated_subquery(world):
    spec, built, rep = world
    customers = Customer.objects.filter(customer_scope_q(scope_for(rep)))
    joined = Receipt.objects.filter(row_in(customers, "contract__customer_id"))
    plain = Receipt.objects.filter(
        IsNull(Subquery(customers.filter(pk=OuterRef("contract__customer_id")).values("pk")[:1]), False)
    )
    assert set(joined) == set(plain) and joined.exists()


def test_a_test_against_its_own_table_is_refused_rather_than_answered_wrongly(world):
    spec, built, rep = world
    contracts = Contract.objects.filter(contract_scope_q(scope_for(rep)))
    with pytest.raises(ValueError, match="same table"):
        list(Contract.objects.filter(row_in(contracts, "id")))


def test_two_tests_of_one_column_against_different_querysets_are_different_conditions(world):
    spec, built, rep = world
    mine = Customer.objects.filter(owner=rep)
    dept3 = Customer.objects.filter(account_dept=built.units["dept3"])
    one, other = RowIn(mine, "customer_id"), RowIn(dept3, "customer_id")
    assert one != other
    both = Contract.objects.filter(Q(one) | Q(other))
    expected = Contract.objects.filter(
        Q(customer__owner=rep) | Q(customer__account_dept=built.units["dept3"])
    )
    assert set(both) == set(expected) and len(set(both)) > 1


def test_an_outer_column_compares_the_tested_row_with_the_outer_one(world):
    """contract_scope_q looks the deal's customer up only when it is not the contract's own (outer_column)."""
    spec, built, rep = world
    sql = str(invoice_visible_to(rep).query)
    assert '"pipeline_opportunity"."customer_id" = ("contracts_contract"."customer_id")' in sql
    assert "__ltc_outer_" not in sql
    deals = Opportunity.objects.filter(~Q(customer_id=outer_column("customer_id")))
    other_customers = Contract.objects.filter(row_in(deals, "opportunity_id", outer_fields=("customer_id",)))
    assert list(other_customers) == [built.records["contract"]["CT_moved"]]
    with pytest.raises(ValueError, match="outer_fields"):
        list(Contract.objects.filter(row_in(deals, "opportunity_id")))
