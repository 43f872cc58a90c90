"""The deal team: one AR/SR/FR each, credit shares, who may change it."""

from decimal import Decimal

import pytest

from accounts.models import User
from ltc.errors import ApplicationError, NotAllowed
from pipeline.models import OpportunityTeamMember
from pipeline.services.opportunities import opportunity_team_remove, opportunity_team_set, triangle_missing
from tests.factories import UserFactory, opportunity_deal

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(tree):
    return opportunity_deal(tree)


def roles(opp) -> dict[int, str]:
    return dict(OpportunityTeamMember.objects.filter(opportunity=opp).values_list("user_id", "role"))


def test_replacing_a_role_holder_moves_them_out(deal):
    new_sr = UserFactory(org_unit=deal.opp.org_unit, job_role=User.JobRole.SOLUTION_EXPERT)
    member = opportunity_team_set(opportunity=deal.opp, actor=deal.rep, user=new_sr, role="SR")
    assert member.role == "SR"
    assert roles(deal.opp) == {deal.rep.pk: "AR", new_sr.pk: "SR", deal.fr.pk: "FR"}
    assert member.history.first().history_user == deal.rep


def test_a_member_can_change_role_and_setting_it_again_changes_nothing(deal):
    member = opportunity_team_set(opportunity=deal.opp, actor=deal.rep, user=deal.fr, role="SUPPORT")
    assert roles(deal.opp)[deal.fr.pk] == "SUPPORT"
    assert triangle_missing(deal.opp) == ["FR"]
    updated = member.updated_at
    again = opportunity_team_set(opportunity=deal.opp, actor=deal.rep, user=deal.fr, role="SUPPORT")
    again.refresh_from_db()
    assert again.updated_at == updated


def test_credit_shares_stay_within_100(deal):
    opportunity_team_set(opportunity=deal.opp, actor=deal.rep, user=deal.rep, role="AR", credit_share=50)
    opportunity_team_set(opportunity=deal.opp, actor=deal.rep, user=deal.sr, role="SR", credit_share=30)
    with pytest.raises(ApplicationError) as err:
        opportunity_team_set(opportunity=deal.opp, actor=deal.rep, user=deal.fr, role="FR", credit_share=21)
    assert "more than 100%" in str(err.value) and "超过100%" in str(err.value)
    assert "credit_share" in err.value.extra
    opportunity_team_set(opportunity=deal.opp, actor=deal.rep, user=deal.fr, role="FR", credit_share=20)
    shares = OpportunityTeamMember.objects.filter(opportunity=deal.opp).values_list("credit_share", flat=True)
    assert sum(shares) == Decimal("100")
    # Replacing the SR frees their share for the newcomer.
    newcomer = UserFactory(org_unit=deal.opp.org_unit)
    opportunity_team_set(opportunity=deal.opp, actor=deal.rep, user=newcomer, role="SR", credit_share=30)
    assert roles(deal.opp)[newcomer.pk] == "SR"


@pytest.mark.parametrize("share", [-1, 101])
def test_a_credit_share_is_a_percentage(deal, share):
    with pytest.raises(ApplicationError) as err:
        opportunity_team_set(
            opportunity=deal.opp, actor=deal.rep, user=deal.sr, role="SR", credit_share=share
        )
    assert "0到100" in str(err.value) and "from 0 to 100" in str(err.value)


def test_only_owner_ar_or_manager_above_may_change_the_team(deal, tree):
    outsider = UserFactory(org_unit=deal.opp.org_unit)
    with pytest.raises(NotAllowed) as err:
        opportunity_team_set(opportunity=deal.opp, actor=deal.sr, user=outsider, role="SUPPORT")
    assert "Only the owner, the AR or a manager above" in str(err.value)
    assert "只有负责人、客户经理(AR)或上级主管" in str(err.value)
    with pytest.raises(NotAllowed):
        opportunity_team_set(opportunity=deal.opp, actor=deal.other_manager, user=outsider, role="SUPPORT")
    opportunity_team_set(opportunity=deal.opp, actor=deal.office_manager, user=outsider, role="SUPPORT")
    assert roles(deal.opp)[outsider.pk] == "SUPPORT"


def test_remove_is_safe_twice(deal):
    opportunity_team_remove(opportunity=deal.opp, actor=deal.rep, user=deal.sr)
    opportunity_team_remove(opportunity=deal.opp, actor=deal.rep, user=deal.sr)
    assert deal.sr.pk not in roles(deal.opp)
    assert triangle_missing(deal.opp) == ["SR"]


def test_unknown_role_and_inactive_user_are_refused(deal):
    with pytest.raises(ApplicationError):
        opportunity_team_set(opportunity=deal.opp, actor=deal.rep, user=deal.sr, role="BOSS")
    gone = UserFactory(org_unit=deal.opp.org_unit, is_active=False)
    with pytest.raises(ApplicationError):
        opportunity_team_set(opportunity=deal.opp, actor=deal.rep, user=gone, role="SUPPORT")
    assert len(roles(deal.opp)) == 3
