"""Lead services: create with duplicate warnings, qualify, nurture, convert once, close, permissions, audit."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from ltc.errors import ApplicationError, NotAllowed
from pipeline.models import Lead, LeadQualification, LeadTransition, Opportunity, Stage
from pipeline.selectors import lead_visible_to
from pipeline.services.leads import (
    grade_for,
    lead_assign_nurturer,
    lead_close,
    lead_convert,
    lead_create,
    lead_from_visit,
    lead_link_customer,
    lead_qualify,
)
from tests.factories import CustomerFactory, LeadFactory, UserFactory, VisitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree):
    rep = UserFactory(org_unit=tree["dept1"])
    return {
        "tree": tree,
        "rep": rep,
        "peer": UserFactory(org_unit=tree["dept1"]),
        "sr": UserFactory(org_unit=tree["dept2"], job_role=User.JobRole.SOLUTION_EXPERT),
        "manager": UserFactory(org_unit=tree["office"], job_role=User.JobRole.MANAGER),
        "other_manager": UserFactory(org_unit=tree["office2"], job_role=User.JobRole.MANAGER),
        "customer": CustomerFactory(account_dept=tree["dept1"], owner=rep, name="宁波港集团"),
    }


def new_lead(world, **kwargs):
    params = {
        "actor": world["rep"],
        "title": "码头5G专网",
        "customer": world["customer"],
        "source": Lead.Source.MARKET_INSIGHT,
    }
    return lead_create(**{**params, **kwargs})


def qualify(lead, actor, scores=(8, 8, 8)):
    return lead_qualify(
        lead=lead,
        actor=actor,
        is_lead_answer="符合战略",
        is_lead_score=scores[0],
        how_far_answer="预算已批",
        how_far_score=scores[1],
        can_win_answer="关系良好",
        can_win_score=scores[2],
    )


# --- create ----------------------------------------------------------------------------------------------


def test_create_for_customer_sets_owner_unit_maturity_and_records_creation(world):
    lead = new_lead(world, budget_known=True, estimated_amount=Decimal("3000000"))

    assert (lead.owner, lead.org_unit, lead.status) == (world["rep"], world["tree"]["dept1"], Lead.Status.NEW)
    assert lead.maturity == Lead.Maturity.MATURE
    transition = LeadTransition.objects.get(lead=lead)
    assert (transition.from_status, transition.to_status, transition.actor) == ("", "NEW", world["rep"])
    assert lead.history.get().history_user == world["rep"]


def test_create_for_prospect_uses_the_actors_unit_and_is_early(world):
    lead = lead_create(actor=world["peer"], title="智慧港口", prospect_name="舟山港务", source="INBOUND")
    assert (lead.customer, lead.org_unit, lead.maturity) == (None, world["tree"]["dept1"], "EARLY")


def test_create_refuses_missing_fields(world):
    with pytest.raises(ApplicationError) as err:
        lead_create(actor=world["rep"], title=" ", source="RUMOUR", estimated_amount=Decimal("-1"))
    assert {"title", "customer", "source", "estimated_amount"} <= set(err.value.extra)
    assert "请更正" in str(err.value)
    assert not Lead.objects.exists()


def test_create_for_invisible_customer_is_not_allowed(world):
    with pytest.raises(NotAllowed):
        new_lead(world, actor=world["peer"])


def test_create_with_nurturer_starts_nurturing(world):
    lead = new_lead(world, nurturer=world["sr"])
    assert (lead.status, lead.nurturer) == (Lead.Status.NURTURING, world["sr"])
    assert list(lead.transitions.values_list("from_status", "to_status")) == [
        ("", "NEW"),
        ("NEW", "NURTURING"),
    ]


def test_duplicate_open_lead_of_the_same_customer_is_refused_unless_allowed(world):
    first = new_lead(world, title="码头 5G 专网")

    with pytest.raises(ApplicationError) as err:
        new_lead(world, title="码头5G专网建设")

    assert err.value.code == "duplicate"
    assert err.value.extra["duplicates"] == [first.pk]
    assert "相似的未关闭线索" in str(err.value)
    forced = new_lead(world, title="码头5G专网建设", allow_duplicate=True)
    assert forced.pk != first.pk


def test_not_duplicates_other_title_other_customer_or_closed_lead(world):
    first = new_lead(world, title="码头5G专网")
    assert new_lead(world, title="集团财务云").pk
    other = CustomerFactory(account_dept=world["tree"]["dept1"], owner=world["rep"])
    assert new_lead(world, title="码头5G专网", customer=other).pk
    lead_close(lead=first, actor=world["rep"], reason="客户取消")
    assert new_lead(world, title="码头5G专网").pk


def test_duplicate_prospect_lead_by_similar_prospect_name(world):
    first = lead_create(actor=world["rep"], title="智慧港口", prospect_name="舟山港务集团", source="INBOUND")
    with pytest.raises(ApplicationError) as err:
        lead_create(actor=world["rep"], title="智慧港口平台", prospect_name="舟山 港务集团", source="INBOUND")
    assert err.value.extra["duplicates"] == [first.pk]
    assert lead_create(actor=world["rep"], title="智慧港口", prospect_name="厦门航空", source="INBOUND").pk


def test_duplicate_ids_hide_leads_the_actor_cannot_see(world):
    hidden_owner = UserFactory(org_unit=world["tree"]["dept1"])
    LeadFactory(customer=None, prospect_name="舟山港务", owner=hidden_owner, title="智慧港口")
    with pytest.raises(ApplicationError) as err:
        lead_create(actor=world["rep"], title="智慧港口", prospect_name="舟山港务", source="INBOUND")
    assert err.value.code == "duplicate"
    assert err.value.extra["duplicates"] == []


def test_external_id_makes_create_safe_to_repeat(world):
    first = new_lead(world, external_id="CRM-1")
    again = new_lead(world, external_id="CRM-1")
    assert first.pk == again.pk
    assert Lead.objects.count() == 1


def test_lead_from_visit_links_the_visit(world):
    visit = VisitFactory(customer=world["customer"], rep=world["rep"])
    lead = lead_from_visit(actor=world["rep"], visit=visit, title="机房扩容", need="机柜不足")
    assert (lead.source, lead.source_visit, lead.customer) == ("VISIT", visit, world["customer"])
    with pytest.raises(NotAllowed):
        lead_from_visit(actor=world["peer"], visit=visit, title="偷看")


# --- qualify ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "grade"),
    [(30, "A"), (24, "A"), (23, "B"), (18, "B"), (17, "C"), (12, "C"), (11, "D"), (0, "D")],
)
def test_grade_thresholds(total, grade):
    assert grade_for(total) == grade


def test_qualify_stores_scores_grade_and_moves_new_to_validating(world):
    lead = new_lead(world)

    qualification = qualify(lead, world["rep"], scores=(9, 8, 7))

    lead.refresh_from_db()
    assert (qualification.total_score, qualification.grade, qualification.qualified_by) == (
        24,
        "A",
        world["rep"],
    )
    assert (lead.status, lead.grade, lead.qualification_score) == ("VALIDATING", "A", 24)
    assert lead.transitions.last().to_status == "VALIDATING"

    qualify(lead, world["rep"], scores=(5, 5, 5))
    lead.refresh_from_db()
    assert (lead.status, lead.grade, lead.qualification_score) == ("VALIDATING", "C", 15)
    assert lead.transitions.count() == 2  # created, NEW → VALIDATING; re-qualifying is no transition


def test_qualify_keeps_nurturing_status(world):
    lead = new_lead(world, nurturer=world["sr"])
    qualify(lead, world["sr"])
    lead.refresh_from_db()
    assert lead.status == "NURTURING"


def test_qualify_refuses_out_of_range_scores_and_blank_answers(world):
    lead = new_lead(world)
    with pytest.raises(ApplicationError) as err:
        lead_qualify(
            lead=lead,
            actor=world["rep"],
            is_lead_answer="",
            is_lead_score=11,
            how_far_answer="x",
            how_far_score=-1,
            can_win_answer="x",
            can_win_score=5,
        )
    assert {"is_lead_answer", "is_lead_score", "how_far_score"} <= set(err.value.extra)
    assert not LeadQualification.objects.exists()


# --- nurture ---------------------------------------------------------------------------------------------


def test_assign_nurturer_by_owner_then_by_nurturer_then_idempotent(world):
    lead = new_lead(world)
    lead = lead_assign_nurturer(lead=lead, actor=world["rep"], nurturer=world["sr"])
    assert (lead.status, lead.nurturer) == ("NURTURING", world["sr"])

    other = UserFactory(org_unit=world["tree"]["dept1"])
    lead = lead_assign_nurturer(lead=lead, actor=world["sr"], nurturer=other)
    assert lead.nurturer == other
    count = lead.transitions.count()
    lead_assign_nurturer(lead=lead, actor=other, nurturer=other)
    assert lead.transitions.count() == count
    assert lead.history.first().history_user == world["sr"]


def test_assign_nurturer_refused_for_peer_and_other_branch_manager(world):
    lead = new_lead(world)
    with pytest.raises(NotAllowed):
        lead_assign_nurturer(lead=lead, actor=world["peer"], nurturer=world["peer"])
    with pytest.raises(NotAllowed):
        lead_assign_nurturer(lead=lead, actor=world["other_manager"], nurturer=world["peer"])
    assert (
        lead_assign_nurturer(lead=lead, actor=world["manager"], nurturer=world["peer"]).nurturer
        == world["peer"]
    )


# --- convert ---------------------------------------------------------------------------------------------


def test_convert_creates_one_opportunity_and_marks_converted(world):
    lead = new_lead(world, estimated_amount=Decimal("2500000"))
    qualify(lead, world["rep"])
    sign_on = timezone.localdate() + dt.timedelta(days=60)

    opportunity = lead_convert(lead=lead, actor=world["rep"], expected_sign_on=sign_on)

    lead.refresh_from_db()
    assert (opportunity.lead, opportunity.customer, opportunity.stage) == (
        lead,
        world["customer"],
        Stage.VALIDATE,
    )
    assert (opportunity.name, opportunity.amount, opportunity.expected_sign_on) == (
        "码头5G专网",
        Decimal("2500000.00"),
        sign_on,
    )
    assert lead.status == "CONVERTED" and lead.converted_at is not None
    last = lead.transitions.last()
    assert (last.from_status, last.to_status, last.actor) == ("VALIDATING", "CONVERTED", world["rep"])
    assert lead.history.first().history_user == world["rep"]


def test_a_lead_converts_once(world):
    lead = new_lead(world)
    opportunity = lead_convert(lead=lead, actor=world["rep"], name="码头专网一期", amount=Decimal(100))

    with pytest.raises(ApplicationError) as err:
        lead_convert(lead=lead, actor=world["rep"])

    assert err.value.code == "already_converted"
    assert "线索只能转化一次" in str(err.value) and "converts once" in str(err.value)
    assert err.value.extra["opportunity"] == [opportunity.pk]
    assert Opportunity.objects.count() == 1


def test_convert_refuses_closed_lead_and_unlinked_prospect(world):
    closed = new_lead(world)
    lead_close(lead=closed, actor=world["rep"], reason="客户预算取消")
    with pytest.raises(ApplicationError) as err:
        lead_convert(lead=closed, actor=world["rep"])
    assert err.value.code == "invalid_transition"
    assert "只有未关闭的线索才能转化" in str(err.value)

    prospect = lead_create(actor=world["rep"], title="智慧港口", prospect_name="宁波港", source="INBOUND")
    with pytest.raises(ApplicationError) as unlinked:
        lead_convert(lead=prospect, actor=world["rep"])
    assert "customer" in unlinked.value.extra
    assert not Opportunity.objects.exists()

    prospect = lead_link_customer(actor=world["rep"], lead=prospect, customer=world["customer"])
    assert prospect.org_unit == world["customer"].account_dept
    assert lead_convert(lead=prospect, actor=world["rep"]).customer == world["customer"]


def test_link_customer_needs_a_visible_customer(world):
    prospect = lead_create(actor=world["peer"], title="智慧港口", prospect_name="宁波港", source="INBOUND")
    with pytest.raises(NotAllowed):
        lead_link_customer(actor=world["peer"], lead=prospect, customer=world["customer"])


# --- close -----------------------------------------------------------------------------------------------


def test_close_needs_a_reason_and_is_safe_to_repeat(world):
    lead = new_lead(world)
    with pytest.raises(ApplicationError) as err:
        lead_close(lead=lead, actor=world["rep"], reason="  ")
    assert "reason" in err.value.extra
    assert "关闭线索必须填写原因" in str(err.value)

    closed = lead_close(lead=lead, actor=world["rep"], reason="客户预算取消")
    again = lead_close(lead=lead, actor=world["rep"], reason="另一个原因")

    assert (closed.status, again.close_reason) == ("CLOSED", "客户预算取消")
    assert lead.transitions.filter(to_status="CLOSED").count() == 1
    assert lead.history.first().history_user == world["rep"]


def test_close_refuses_converted_lead(world):
    lead = new_lead(world)
    lead_convert(lead=lead, actor=world["rep"])
    with pytest.raises(ApplicationError) as err:
        lead_close(lead=lead, actor=world["rep"], reason="改主意")
    assert err.value.code == "invalid_transition"
    lead.refresh_from_db()
    assert lead.status == "CONVERTED"


# --- who may act -------------------------------------------------------------------------------------------


def test_peer_rep_cannot_see_or_act_on_anothers_lead(world):
    lead = new_lead(world)
    peer = world["peer"]

    assert not lead_visible_to(peer).filter(pk=lead.pk).exists()
    for action in (
        lambda: lead_convert(lead=lead, actor=peer),
        lambda: lead_close(lead=lead, actor=peer, reason="抢单"),
        lambda: qualify(lead, peer),
    ):
        with pytest.raises(NotAllowed):
            action()
    lead.refresh_from_db()
    assert lead.status == "NEW"
    assert not Opportunity.objects.exists()


def test_manager_above_may_act_and_the_history_names_them(world):
    lead = new_lead(world)
    lead_close(lead=lead, actor=world["manager"], reason="主管决定 manager decision")
    lead.refresh_from_db()
    assert lead.status == "CLOSED"
    assert lead.history.first().history_user == world["manager"]
    assert lead.transitions.last().actor == world["manager"]
    with pytest.raises(NotAllowed):
        lead_close(lead=new_lead(world, title="另一条线索"), actor=world["other_manager"], reason="跨区")
