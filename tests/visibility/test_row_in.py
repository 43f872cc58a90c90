"""accounts.selectors.row_in: the row-by-row visibility test whose subquery SQL is compiled once (RowIn)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import OuterRef, Q, Subquery
from django.db.models.lookups import IsNull

from accounts.models import User
from accounts.selectors import RowIn, outer_column, row_in, scope_for, scope_for_org_unit
from contracts.models import Contract, Invoice, Receipt
from contracts.selectors import contract_scope_q, invoice_visible_to
from pipeline.models import Opportunity, OpportunityTeamMember
from relationships.models import Customer
from relationships.selectors import customer_scope_q
from tests.factories import (
    ContractFactory,
    CustomerFactory,
    CustomerTeamMemberFactory,
    InvoiceFactory,
    OpportunityFactory,
    ReceiptFactory,
    UserFactory,
    org_tree,
)

pytestmark = pytest.mark.django_db


def plain_row_in(queryset, outer_field: str) -> Q:
    """What row_in compiled before RowIn: Django's own correlated subquery, compiled on every use."""
    return Q(IsNull(Subquery(queryset.filter(pk=OuterRef(outer_field)).values("pk")[:1]), False))


def _world():
    """Invoices visible through each path (contract unit, contract owner, customer, customer team, the
    opportunity's unit, owner and customer), and some through none, for a rep and an org-unit client."""
    tree = org_tree()
    rep = UserFactory(org_unit=tree["dept1"], job_role=User.JobRole.SALES_REP)
    stranger = UserFactory(org_unit=tree["dept3"])
    elsewhere = CustomerFactory(account_dept=tree["dept3"], owner=stranger)
    teamed = CustomerFactory(account_dept=tree["dept3"], owner=stranger)
    CustomerTeamMemberFactory(customer=teamed, user=rep)

    def invoice(customer, owner=stranger, opportunity=None):
        contract = ContractFactory(
            customer=customer, org_unit=customer.account_dept, owner=owner, opportunity=opportunity
        )
        return InvoiceFactory(contract=contract)

    def deal(customer, unit):
        return OpportunityFactory(customer=customer, org_unit=unit, owner=stranger)

    invoices = [
        invoice(
            CustomerFactory(account_dept=tree["dept1"]), owner=UserFactory(org_unit=tree["dept1"])
        ),  # 0: units
        invoice(elsewhere, owner=rep),  # 1: the contract's owner
        invoice(teamed),  # 2: the customer's team
        invoice(elsewhere, opportunity=deal(elsewhere, tree["dept2"])),  # 3: the opportunity's unit
        invoice(elsewhere, opportunity=deal(teamed, tree["dept3"])),  # 4: the opportunity's customer's team
        invoice(elsewhere),  # 5: none
    ]
    return tree, rep, invoices


def _plain_invoice_filter(scope) -> Q:
    """The invoice visibility filter spelt with plain_row_in at every level, as a reference."""
    customers = Customer.objects.filter(customer_scope_q(scope))
    opportunity_q = (
        scope.units_q("org_unit") | scope.people_q("owner") | plain_row_in(customers, "customer_id")
    )
    if scope.user_id is not None:
        opportunity_q |= Q(
            pk__in=OpportunityTeamMember.objects.filter(user_id=scope.user_id).values("opportunity_id")
        )
    contracts = Contract.objects.filter(
        scope.units_q("org_unit")
        | scope.people_q("owner")
        | plain_row_in(customers, "customer_id")
        | plain_row_in(Opportunity.objects.filter(opportunity_q), "opportunity_id")
    )
    return plain_row_in(contracts, "contract_id")


def _expected(scope) -> set[int]:
    return set(Invoice.objects.filter(_plain_invoice_filter(scope)).values_list("pk", flat=True))


def test_the_compiled_once_test_selects_what_django_s_own_subquery_selects():
    tree, rep, invoices = _world()
    everything = {i.pk for i in invoices}
    seen = set()
    for scope in (scope_for(rep), scope_for_org_unit(tree["office"]), scope_for_org_unit(tree["dept3"])):
        expected = _expected(scope)
        assert expected and expected != everything
        assert set(invoice_visible_to(None, scope=scope).values_list("pk", flat=True)) == expected
        seen |= expected
    # the rep through the contract's owner, the customer's team and the opportunity's customer's team
    assert _expected(scope_for(rep)) == {invoices[1].pk, invoices[2].pk, invoices[4].pk}
    # the office through the customer's department (the contract's too), the contract's owner (the rep works
    # there) and the opportunity's unit
    assert _expected(scope_for_org_unit(tree["office"])) == {invoices[0].pk, invoices[1].pk, invoices[3].pk}
    assert seen == everything


def test_the_subquery_is_compiled_once_and_reused_by_every_clone():
    tree, rep, invoices = _world()
    invoice_visible_to.build_cache.cache_clear()  # a scope of an earlier test may have the same key
    first = invoice_visible_to(rep)
    rows = [node for node in first.query.where.children if isinstance(node, RowIn)]
    assert len(rows) == 1
    assert rows[0].compiled == {}
    list(first)
    assert set(rows[0].compiled) == {connection.alias}
    kept = rows[0].compiled[connection.alias]
    again = invoice_visible_to(rep).filter(amount__gt=0)
    assert [node.compiled for node in again.query.where.children if isinstance(node, RowIn)][0] is rows[
        0
    ].compiled
    assert {i.pk for i in again} == _expected(scope_for(rep))
    assert rows[0].compiled[connection.alias] is kept


def test_used_as_a_subquery_of_another_query_the_outer_column_follows_its_alias():
    """The visible invoices inside a receipt query: Django renames the invoice table's alias (U0 …); the
    marker must take the renamed column, not the table name the subquery was compiled with."""
    tree, rep, invoices = _world()
    receipts = {invoice.pk: ReceiptFactory(invoice=invoice) for invoice in invoices}
    expected = {receipts[pk].pk for pk in _expected(scope_for(rep))}
    visible = invoice_visible_to(rep)
    through_subquery = Receipt.objects.filter(invoice__in=visible.values("pk"))
    assert {r.pk for r in through_subquery} == expected
    as_row_in = Receipt.objects.filter(row_in(visible, "invoice_id"))
    assert {r.pk for r in as_row_in} == expected
    # and across a join: the receipt's contract's customer, tested row by row
    customers = Customer.objects.filter(customer_scope_q(scope_for(rep)))
    joined = Receipt.objects.filter(row_in(customers, "contract__customer_id"))
    expected = Receipt.objects.filter(plain_row_in(customers, "contract__customer_id"))
    assert set(joined) == set(expected) and joined.exists()


def test_a_test_against_its_own_table_is_refused_rather_than_answered_wrongly():
    tree, rep, invoices = _world()
    contracts = Contract.objects.filter(contract_scope_q(scope_for(rep)))
    with pytest.raises(ValueError, match="same table"):
        list(Contract.objects.filter(row_in(contracts, "id")))


def test_two_tests_of_one_column_against_different_querysets_are_different_conditions():
    tree, rep, invoices = _world()
    mine = Customer.objects.filter(owner=rep)
    dept3 = Customer.objects.filter(account_dept=tree["dept3"])
    one, other = RowIn(mine, "customer_id"), RowIn(dept3, "customer_id")
    assert one != other
    both = Contract.objects.filter(Q(one) | Q(other))
    assert set(both) == set(
        Contract.objects.filter(Q(customer__owner=rep) | Q(customer__account_dept=tree["dept3"]))
    )


def test_an_outer_column_compares_the_tested_row_with_the_outer_one():
    """contract_scope_q looks the deal's customer up only when it is not the contract's own (outer_column)."""
    tree, rep, invoices = _world()
    sql = str(invoice_visible_to(rep).query)
    assert '"pipeline_opportunity"."customer_id" = ("contracts_contract"."customer_id")' in sql
    assert "__ltc_outer_" not in sql
    # a contract of one customer whose deal is another's, seen only through the deal's customer
    elsewhere = invoices[4].contract.customer
    deals = Opportunity.objects.filter(~Q(customer_id=outer_column("customer_id")))
    other_customers = Contract.objects.filter(row_in(deals, "opportunity_id", outer_fields=("customer_id",)))
    assert list(other_customers) == [invoices[4].contract]
    assert invoices[4].contract.opportunity.customer_id != elsewhere.pk
    with pytest.raises(ValueError, match="outer_fields"):
        list(Contract.objects.filter(row_in(deals, "opportunity_id")))
