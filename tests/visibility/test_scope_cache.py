"""Visibility selectors built once per scope (accounts.selectors.scope_cached) answer as if built anew."""

from __future__ import annotations

import pytest

from accounts.models import User
from accounts.selectors import scope_for
from contracts.selectors import invoice_visible_to
from relationships.selectors import customer_visible_to
from tests.factories import CustomerFactory, UserFactory, org_tree

pytestmark = pytest.mark.django_db


def test_rows_written_after_the_first_call_are_seen():
    tree = org_tree()
    manager = UserFactory(org_unit=tree["office"], job_role=User.JobRole.MANAGER)
    first = CustomerFactory(account_dept=tree["dept1"])
    assert list(customer_visible_to(manager)) == [first]
    later = CustomerFactory(account_dept=tree["dept2"])
    CustomerFactory(account_dept=tree["dept3"])  # another branch
    assert set(customer_visible_to(manager)) == {first, later}


def test_a_changed_scope_is_a_new_query():
    tree = org_tree()
    rep = UserFactory(org_unit=tree["dept1"], job_role=User.JobRole.SALES_REP)
    theirs = CustomerFactory(account_dept=tree["dept1"], owner=rep)
    other = CustomerFactory(account_dept=tree["dept2"])
    assert list(customer_visible_to(rep)) == [theirs]
    # Promoted to manager of the rep office: the scope (and with it the cache key) changes.
    rep.job_role = User.JobRole.MANAGER
    rep.org_unit = tree["office"]
    rep.save(update_fields=["job_role", "org_unit"])
    promoted = User.objects.get(pk=rep.pk)
    assert scope_for(promoted) != scope_for(rep)
    assert set(customer_visible_to(promoted)) == {theirs, other}
    # The same people, the same scope: equal scopes share one built query, and answer alike.
    twin = User.objects.get(pk=rep.pk)
    assert set(customer_visible_to(twin)) == {theirs, other}


def test_each_call_is_its_own_clone():
    tree = org_tree()
    manager = UserFactory(org_unit=tree["office"], job_role=User.JobRole.MANAGER)
    CustomerFactory(account_dept=tree["dept1"])
    one = customer_visible_to(manager)
    two = customer_visible_to(manager)
    assert one is not two and one.query is not two.query
    narrowed = one.filter(name="nobody")
    narrowed.query.clear_ordering(force=True)  # changing a caller's copy leaves the cached one alone
    assert list(narrowed) == []
    assert len(two) == 1
    assert str(customer_visible_to(manager).query) == str(two.query)
    assert invoice_visible_to(manager).model.__name__ == "Invoice"
