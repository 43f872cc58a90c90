"""Customer services: create with duplicate detection, update and archive completeness, tiers, the team."""

from decimal import Decimal

import pytest
from django.test import override_settings

from accounts.models import User
from ltc.errors import ApplicationError, NotAllowed
from relationships.models import Customer, CustomerTeamMember
from relationships.selectors import customer_duplicates, name_key
from relationships.services import (
    customer_create,
    customer_set_tier,
    customer_suggest_tier,
    customer_team_remove,
    customer_team_set,
    customer_update,
)
from tests.factories import CustomerFactory, CustomerTeamMemberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tree):
    return {
        "rep": UserFactory(org_unit=tree["dept1"]),
        "peer": UserFactory(org_unit=tree["dept1"]),
        "manager": UserFactory(org_unit=tree["office"], job_role=User.JobRole.MANAGER),
        "other_manager": UserFactory(org_unit=tree["office2"], job_role=User.JobRole.MANAGER),
        "admin": UserFactory(org_unit=tree["hq"], job_role=User.JobRole.ADMIN),
    }


# --- create and duplicates -------------------------------------------------------------------------------


def test_create_sets_owner_tier_completeness_and_history(tree, people):
    customer = customer_create(
        actor=people["rep"],
        name="浙江电力公司",
        account_dept=tree["dept1"],
        annual_purchase=Decimal("6000000"),
        tax_id=" 91330000 mk ",
        summary="省级电网公司",
        finance="营收稳定",
        swot_strengths="本地关系",
    )

    assert customer.owner == people["rep"]
    assert customer.tier == Customer.Tier.A
    assert customer.tax_id == "91330000MK"
    assert customer.archive_completeness == 33  # 3 of 9 archive fields
    assert customer.market_type == tree["dept1"].market_type
    assert customer.history.get().history_user == people["rep"]


def test_create_refuses_same_name_after_normalising_spaces_and_case(tree, people):
    first = customer_create(actor=people["rep"], name="中国移动浙江公司", account_dept=tree["dept1"])

    with pytest.raises(ApplicationError) as err:
        customer_create(actor=people["rep"], name="中国移动 浙江公司", account_dept=tree["dept1"])

    assert err.value.code == "duplicate"
    assert err.value.extra["duplicates"] == [first.pk]
    assert "已存在同名或名称相似的客户" in str(err.value) and "similar name" in str(err.value)
    assert Customer.objects.count() == 1


def test_create_refuses_similar_name_and_latin_case_punctuation(tree, people):
    first = customer_create(actor=people["rep"], name="中国移动浙江公司", account_dept=tree["dept1"])
    latin = customer_create(actor=people["rep"], name="Acme Networks, Ltd.", account_dept=tree["dept1"])

    with pytest.raises(ApplicationError) as similar:
        customer_create(actor=people["rep"], name="中国移动浙江分公司", account_dept=tree["dept1"])
    with pytest.raises(ApplicationError) as same_latin:
        customer_create(actor=people["rep"], name="ACME networks ltd", account_dept=tree["dept1"])

    assert similar.value.extra["duplicates"] == [first.pk]
    assert same_latin.value.extra["duplicates"] == [latin.pk]


def test_create_allows_a_different_name_and_a_forced_duplicate(tree, people):
    customer_create(actor=people["rep"], name="中国移动浙江公司", account_dept=tree["dept1"])

    other = customer_create(actor=people["rep"], name="浙江大学", account_dept=tree["dept1"])
    forced = customer_create(
        actor=people["rep"], name="中国移动 浙江公司", account_dept=tree["dept1"], allow_duplicate=True
    )

    assert other.pk and forced.pk
    assert Customer.objects.count() == 3


def test_duplicate_ids_name_only_what_the_actor_sees_but_still_refuse(tree, people):
    hidden = CustomerFactory(name="杭州地铁集团", account_dept=tree["dept3"])
    with pytest.raises(ApplicationError) as err:
        customer_create(actor=people["rep"], name="杭州地铁集团", account_dept=tree["dept1"])
    assert err.value.code == "duplicate"
    assert err.value.extra["duplicates"] == []
    assert customer_duplicates(name="杭州 地铁 集团") == [hidden]


def test_same_tax_id_is_refused_even_when_duplicates_are_allowed(tree, people):
    CustomerFactory(name="甲公司", tax_id="91330000MK", account_dept=tree["dept1"], owner=people["rep"])
    with pytest.raises(ApplicationError) as err:
        customer_create(
            actor=people["rep"],
            name="乙公司",
            tax_id="91330000mk",
            account_dept=tree["dept1"],
            allow_duplicate=True,
        )
    assert err.value.code == "duplicate"
    assert "tax_id" in err.value.extra


def test_create_outside_own_department_is_not_allowed(tree, people):
    with pytest.raises(NotAllowed):
        customer_create(actor=people["rep"], name="华南银行", account_dept=tree["dept3"])
    # A manager above the department may.
    assert customer_create(actor=people["manager"], name="上海银行", account_dept=tree["dept2"]).pk


def test_create_refuses_bad_fields(tree, people):
    with pytest.raises(ApplicationError) as err:
        customer_create(
            actor=people["rep"],
            name=" ",
            account_dept=tree["office"],
            industry="SPACE",
            annual_purchase=Decimal("-1"),
        )
    assert set(err.value.extra) >= {"name", "industry", "annual_purchase", "account_dept"}
    with pytest.raises(ApplicationError) as unknown:
        customer_create(actor=people["rep"], name="x", account_dept=tree["dept1"], tier="S")
    assert "tier" in unknown.value.extra


def test_name_key_ignores_width_case_space_and_punctuation():
    assert name_key("中国移动（浙江）公司") == name_key("中国移动 浙江 公司") == "中国移动浙江公司"
    assert name_key("ＡＣＭＥ Co., Ltd.") == "acmecoltd"


# --- update, completeness, tier ------------------------------------------------------------------------


def test_update_recomputes_completeness_and_suggested_tier(tree, people):
    customer = customer_create(
        actor=people["rep"], name="宁波港", account_dept=tree["dept1"], annual_purchase=Decimal("500000")
    )
    assert customer.tier == Customer.Tier.C

    customer = customer_update(
        actor=people["rep"],
        customer=customer,
        annual_purchase=Decimal("12000000"),
        summary="港口",
        industry_competition="竞争激烈",
    )

    customer.refresh_from_db()
    assert customer.archive_completeness == 22
    assert customer.tier == Customer.Tier.S
    assert customer.history.first().history_user == people["rep"]


def test_update_refuses_tier_and_unknown_fields_and_peers(tree, people):
    customer = customer_create(actor=people["rep"], name="宁波港", account_dept=tree["dept1"])
    with pytest.raises(ApplicationError) as err:
        customer_update(actor=people["rep"], customer=customer, tier="S")
    assert "tier" in err.value.extra
    with pytest.raises(NotAllowed):
        customer_update(actor=people["peer"], customer=customer, summary="偷看")
    with pytest.raises(ApplicationError) as neg:
        customer_update(actor=people["rep"], customer=customer, annual_purchase=Decimal("-5"))
    assert "annual_purchase" in neg.value.extra


@pytest.mark.parametrize(
    ("amount", "repeat", "named", "tier"),
    [
        ("10000000", False, False, "S"),
        ("100", False, True, "S"),
        ("9999999.99", False, False, "A"),
        ("5000000", False, False, "A"),
        ("1000000", True, False, "B"),
        ("1000000", False, False, "C"),
        ("999999", True, False, "C"),
    ],
)
def test_suggest_tier_follows_thresholds(amount, repeat, named, tier):
    customer = Customer(annual_purchase=Decimal(amount), repeat_purchase=repeat, named_top_account=named)
    assert customer_suggest_tier(customer) == tier


@override_settings(LTC={"TIER_THRESHOLDS": {"S": 100, "A": 50, "B": 10}})
def test_suggest_tier_reads_settings():
    assert customer_suggest_tier(Customer(annual_purchase=Decimal(60))) == "A"


def test_manager_overrides_tier_with_reason_and_update_keeps_it(tree, people):
    customer = customer_create(actor=people["rep"], name="宁波港", account_dept=tree["dept1"])

    customer = customer_set_tier(
        actor=people["manager"], customer=customer, tier="S", reason="省重点项目 key provincial account"
    )

    assert (customer.tier, customer.tier_overridden_by) == ("S", people["manager"])
    assert customer.history.first().history_user == people["manager"]
    customer_update(actor=people["rep"], customer=customer, annual_purchase=Decimal("10"))
    customer.refresh_from_db()
    assert customer.tier == "S"


def test_tier_override_needs_reason_and_a_manager_above(tree, people):
    customer = customer_create(actor=people["rep"], name="宁波港", account_dept=tree["dept1"])
    with pytest.raises(ApplicationError) as err:
        customer_set_tier(actor=people["manager"], customer=customer, tier="S", reason="  ")
    assert "reason" in err.value.extra
    with pytest.raises(NotAllowed):
        customer_set_tier(actor=people["rep"], customer=customer, tier="S", reason="我想要")
    with pytest.raises(NotAllowed):
        customer_set_tier(actor=people["other_manager"], customer=customer, tier="S", reason="跨区")
    customer.refresh_from_db()
    assert customer.tier == "C"
    assert customer_set_tier(actor=people["admin"], customer=customer, tier="A", reason="审计").tier == "A"


# --- the team ------------------------------------------------------------------------------------------------


def test_team_set_one_holder_per_role_and_ar_owns(tree, people):
    customer = customer_create(actor=people["manager"], name="宁波港", account_dept=tree["dept1"])
    sr1, sr2 = UserFactory(org_unit=tree["dept1"]), UserFactory(org_unit=tree["dept1"])

    customer_team_set(actor=people["manager"], customer=customer, user=people["rep"], role="AR")
    customer_team_set(actor=people["manager"], customer=customer, user=sr1, role="SR")
    customer_team_set(actor=people["manager"], customer=customer, user=sr2, role="SR")
    again = customer_team_set(actor=people["manager"], customer=customer, user=sr2, role="SR")

    customer.refresh_from_db()
    assert customer.owner == people["rep"]
    assert set(customer.team.values_list("user_id", "role")) == {(people["rep"].pk, "AR"), (sr2.pk, "SR")}
    assert again.pk == customer.team.get(role="SR").pk
    removed = CustomerTeamMember.history.filter(user_id=sr1.pk, history_type="-").get()
    assert removed.history_user == people["manager"]

    # The AR may now staff the rest; a peer may not.
    customer_team_set(actor=people["rep"], customer=customer, user=people["peer"], role="SUPPORT")
    with pytest.raises(NotAllowed):
        customer_team_set(actor=people["peer"], customer=customer, user=people["peer"], role="FR")
    customer_team_remove(actor=people["rep"], customer=customer, user=people["peer"], role="SUPPORT")
    assert not customer.team.filter(user=people["peer"]).exists()


def test_team_set_refuses_unknown_role_and_inactive_user(tree, people):
    customer = CustomerFactory(account_dept=tree["dept1"], owner=people["rep"])
    gone = UserFactory(org_unit=tree["dept1"], is_active=False)
    with pytest.raises(ApplicationError) as err:
        customer_team_set(actor=people["rep"], customer=customer, user=gone, role="BOSS")
    assert {"role", "user"} <= set(err.value.extra)


def test_team_member_sees_but_a_peer_does_not(tree, people):
    customer = CustomerFactory(account_dept=tree["dept1"], owner=people["rep"])
    CustomerTeamMemberFactory(customer=customer, user=people["peer"], role="SR")
    assert customer_update(actor=people["peer"], customer=customer, summary="团队可改").summary == "团队可改"
    stranger = UserFactory(org_unit=tree["dept1"])
    with pytest.raises(NotAllowed):
        customer_update(actor=stranger, customer=customer, summary="x")
