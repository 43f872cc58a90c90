"""The admin shows each staff user only what the visibility selectors allow (R1, admin column).

Two branches of the org tree (华东 region with two account departments, 华南 region with one), a staff manager
at the top of each, a staff rep in 华东, and a superuser. The staff users hold the model permissions, so every
refusal below comes from visibility, not from Django's permission check.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import User
from contracts.models import Contract, Invoice
from pipeline.models import Opportunity
from relationships.models import Customer
from tests.factories import (
    ContractFactory,
    CustomerFactory,
    InvoiceFactory,
    OpportunityFactory,
    UserFactory,
    org_tree,
)

MODELS = {"customer": Customer, "opportunity": Opportunity, "contract": Contract, "invoice": Invoice}
ADMIN_NAMES = {
    "customer": "relationships_customer",
    "opportunity": "pipeline_opportunity",
    "contract": "contracts_contract",
    "invoice": "contracts_invoice",
}


def staff(username: str, unit, job_role=User.JobRole.MANAGER) -> User:
    user = UserFactory(username=username, org_unit=unit, job_role=job_role, is_staff=True)
    codenames = [f"{action}_{name}" for name in MODELS for action in ("view", "change", "delete")]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def world(db):
    tree = org_tree()
    east = staff("east-manager", tree["region"])
    south = staff("south-manager", tree["region2"])
    rep = staff("east-rep", tree["dept1"], job_role=User.JobRole.SALES_REP)
    root = UserFactory(username="root", is_staff=True, is_superuser=True, job_role=User.JobRole.ADMIN)
    records: dict[str, dict[str, list]] = {"east": {}, "south": {}, "rep": {}}
    for branch, dept, owner in (
        ("east", tree["dept1"], None),
        ("east", tree["dept2"], None),
        ("south", tree["dept3"], None),
        ("rep", tree["dept1"], rep),
    ):
        customer = CustomerFactory(account_dept=dept, owner=owner, name=f"{branch}客户{dept.pk}")
        opportunity = OpportunityFactory(customer=customer, owner=owner or UserFactory(org_unit=dept))
        contract = ContractFactory(customer=customer, owner=opportunity.owner)
        invoice = InvoiceFactory(contract=contract)
        for name, obj in (
            ("customer", customer),
            ("opportunity", opportunity),
            ("contract", contract),
            ("invoice", invoice),
        ):
            records[branch].setdefault(name, []).append(obj.pk)
    return {"tree": tree, "east": east, "south": south, "rep": rep, "root": root, "records": records}


def changelist_pks(client, user, name: str) -> set[int]:
    client.force_login(user)
    response = client.get(reverse(f"admin:{ADMIN_NAMES[name]}_changelist"))
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


@pytest.mark.parametrize("name", ["customer", "opportunity", "invoice", "contract"])
def test_branch_managers_see_exactly_their_branch(client, world, name):
    records = world["records"]
    east_expected = set(records["east"][name]) | set(records["rep"][name])  # the rep sits in 华东
    assert changelist_pks(client, world["east"], name) == east_expected
    assert changelist_pks(client, world["south"], name) == set(records["south"][name])


@pytest.mark.parametrize("name", ["customer", "opportunity", "invoice", "contract"])
def test_rep_sees_only_own_records(client, world, name):
    assert changelist_pks(client, world["rep"], name) == set(world["records"]["rep"][name])


@pytest.mark.parametrize("name", ["customer", "opportunity", "invoice", "contract"])
def test_superuser_sees_everything(client, world, name):
    everything = set().union(*(world["records"][branch][name] for branch in ("east", "south", "rep")))
    assert changelist_pks(client, world["root"], name) == everything


@pytest.mark.parametrize("name", ["customer", "opportunity", "invoice", "contract"])
def test_other_branch_change_page_is_refused(client, world, name):
    admin_name = ADMIN_NAMES[name]
    own, foreign = world["records"]["east"][name][0], world["records"]["south"][name][0]
    client.force_login(world["east"])
    assert client.get(reverse(f"admin:{admin_name}_change", args=[own])).status_code == 200
    response = client.get(reverse(f"admin:{admin_name}_change", args=[foreign]))
    # Django's admin answers a row outside get_queryset like a missing one: back to the index, no details.
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert client.get(reverse(f"admin:{admin_name}_history", args=[foreign])).status_code == 404
    assert client.get(reverse(f"admin:{admin_name}_delete", args=[own])).status_code == 200
    assert client.get(reverse(f"admin:{admin_name}_delete", args=[foreign])).status_code == 302
    client.post(reverse(f"admin:{admin_name}_delete", args=[foreign]), {"post": "yes"})
    assert MODELS[name].objects.filter(pk=foreign).exists()
    before = MODELS[name].objects.get(pk=foreign)
    client.post(reverse(f"admin:{admin_name}_change", args=[foreign]), {"name": "hijacked"})
    after = MODELS[name].objects.get(pk=foreign)
    assert after.updated_at == before.updated_at


def test_search_does_not_reach_other_branches(client, world):
    client.force_login(world["east"])
    response = client.get(reverse("admin:relationships_customer_changelist"), {"q": "south"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_autocomplete_offers_only_visible_customers(client, world):
    client.force_login(world["east"])
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "pipeline", "model_name": "opportunity", "field_name": "customer", "term": "客户"},
    )
    assert response.status_code == 200
    offered = {int(item["id"]) for item in response.json()["results"]}
    records = world["records"]
    assert offered == set(records["east"]["customer"]) | set(records["rep"]["customer"])


def test_foreign_key_to_an_invisible_customer_is_a_form_error(client, world):
    """A forged raw id in the form is refused like an unknown id; the opportunity keeps its customer."""
    client.force_login(world["east"])
    opp = Opportunity.objects.get(pk=world["records"]["east"]["opportunity"][0])
    foreign_customer = world["records"]["south"]["customer"][0]
    url = reverse("admin:pipeline_opportunity_change", args=[opp.pk])
    form = client.get(url).context["adminform"].form
    data = {key: value for key, value in form.initial.items() if value is not None}
    data.update(
        {
            "customer": foreign_customer,
            "owner": opp.owner_id,
            "org_unit": opp.org_unit_id,
            "expected_sign_on": opp.expected_sign_on.isoformat(),
            **{
                f"{prefix}-{key}": value
                for prefix in ("team", "lines", "gate_decisions")
                for key, value in (("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0))
            },
        }
    )
    data.pop("visits", None)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "customer" in response.context["adminform"].form.errors
    opp.refresh_from_db()
    assert opp.customer_id != foreign_customer
