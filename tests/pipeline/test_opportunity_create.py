from decimal import Decimal

import pytest

from accounts.models import User
from ltc.errors import NotAllowed
from pipeline.models import Opportunity, Stage
from pipeline.services.opportunities import opportunity_create
from tests.factories import CustomerFactory, CustomerTeamMemberFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_create_copies_iron_triangle_and_sets_validate(tree):
    customer = CustomerFactory(account_dept=tree["dept1"])
    rep = UserFactory(org_unit=tree["dept1"])
    ar = UserFactory(org_unit=tree["dept1"])
    sr = UserFactory(org_unit=tree["dept1"], job_role=User.JobRole.SOLUTION_EXPERT)
    fr = UserFactory(org_unit=tree["dept1"], job_role=User.JobRole.DELIVERY_EXPERT)
    sponsor = UserFactory(org_unit=tree["hq"], job_role=User.JobRole.EXECUTIVE)
    for user, role in ((ar, "AR"), (sr, "SR"), (fr, "FR"), (sponsor, "SPONSOR"), (rep, "SUPPORT")):
        CustomerTeamMemberFactory(customer=customer, user=user, role=role)

    opp = opportunity_create(actor=rep, customer=customer, name="5G 扩容", amount=Decimal("300000"))

    assert opp.stage == Stage.VALIDATE
    assert opp.probability == 10
    assert opp.owner == rep
    assert opp.org_unit == tree["dept1"]
    assert opp.stage_changed_at is not None
    assert {(m.user_id, m.role) for m in opp.team.all()} == {(ar.pk, "AR"), (sr.pk, "SR"), (fr.pk, "FR")}
    assert opp.history.first().history_user == rep


def test_create_makes_owner_ar_when_customer_has_none(tree):
    customer = CustomerFactory(account_dept=tree["dept1"])
    rep = UserFactory(org_unit=tree["dept1"])
    CustomerTeamMemberFactory(customer=customer, user=rep)  # rep sees the customer through its team
    owner = UserFactory(org_unit=tree["dept1"])
    rep_membership = customer.team.get(user=rep)
    rep_membership.role = "SUPPORT"
    rep_membership.save()

    opp = opportunity_create(actor=rep, customer=customer, name="机房改造", owner=owner)

    assert opp.owner == owner
    assert list(opp.team.values_list("user_id", "role")) == [(owner.pk, "AR")]


def test_create_refuses_invisible_customer(tree):
    customer = CustomerFactory(account_dept=tree["dept1"])
    stranger = UserFactory(org_unit=tree["dept3"])
    with pytest.raises(NotAllowed) as err:
        opportunity_create(actor=stranger, customer=customer, name="x")
    assert "您无权查看该客户" in str(err.value) and "cannot see this customer" in str(err.value)
    assert not Opportunity.objects.exists()


def test_create_from_lead_twice_returns_the_same_opportunity(tree):
    customer = CustomerFactory(account_dept=tree["dept1"])
    manager = UserFactory(org_unit=tree["dept1"], job_role=User.JobRole.MANAGER)
    lead = LeadFactory(customer=customer, owner=manager)

    first = opportunity_create(actor=manager, customer=customer, name="从线索", lead=lead)
    second = opportunity_create(actor=manager, customer=customer, name="从线索", lead=lead)

    assert first.pk == second.pk
    assert first.lead == lead
    assert Opportunity.objects.count() == 1
