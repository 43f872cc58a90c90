"""The weekly lead review, lead merge and the full customer merge."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from ltc.errors import ApplicationError, NotAllowed
from ltc.models import KpiTarget
from pipeline.models import Lead, LeadReview, Opportunity
from pipeline.services.leads import (
    customer_merge,
    lead_close,
    lead_convert,
    lead_create,
    lead_merge,
    lead_qualify,
    lead_review_record,
)
from relationships.models import Customer, CustomerTeamMember
from relationships.selectors import week_start
from tests.factories import (
    ContactFactory,
    ContractFactory,
    CustomerFactory,
    CustomerTeamMemberFactory,
    OpportunityFactory,
    UserFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree):
    rep = UserFactory(org_unit=tree["dept1"])
    return {
        "tree": tree,
        "rep": rep,
        "peer": UserFactory(org_unit=tree["dept1"]),
        "sr": UserFactory(org_unit=tree["dept1"], job_role=User.JobRole.SOLUTION_EXPERT),
        "manager": UserFactory(org_unit=tree["office"], job_role=User.JobRole.MANAGER),
        "customer": CustomerFactory(account_dept=tree["dept1"], owner=rep),
    }


def new_lead(world, title="码头5G专网", **kwargs):
    params = {
        "actor": world["rep"],
        "title": title,
        "customer": world["customer"],
        "source": "MARKET_INSIGHT",
    }
    return lead_create(**{**params, **kwargs})


# --- weekly review ------------------------------------------------------------------------------------------


def test_nurture_decision_sets_next_review_to_next_monday(world):
    lead = new_lead(world)
    wednesday = week_start(timezone.localdate()) + dt.timedelta(days=2)

    review = lead_review_record(
        lead=lead, actor=world["manager"], decision="NURTURE", reason="预算未定", week=wednesday
    )

    lead.refresh_from_db()
    monday = week_start(wednesday)
    assert (review.week, review.decided_by, review.reason) == (monday, world["manager"], "预算未定")
    assert lead.next_review_on == monday + dt.timedelta(weeks=1)
    assert lead.history.first().history_user == world["manager"]


def test_same_decision_twice_returns_the_first_and_another_is_refused(world):
    lead = new_lead(world)
    first = lead_review_record(lead=lead, actor=world["rep"], decision="NURTURE", reason="继续跟进")
    again = lead_review_record(lead=lead, actor=world["rep"], decision="NURTURE", reason="再记一次")

    assert again.pk == first.pk and again.reason == "继续跟进"
    with pytest.raises(ApplicationError) as err:
        lead_review_record(lead=lead, actor=world["rep"], decision="CLOSE", reason="改主意")
    assert err.value.code == "already_reviewed"
    assert "本周已评审" in str(err.value)
    lead.refresh_from_db()
    assert lead.status == "NEW"
    # Next week is another review.
    next_week = lead_review_record(
        lead=lead,
        actor=world["rep"],
        decision="CLOSE",
        reason="客户放弃",
        week=timezone.localdate() + dt.timedelta(weeks=1),
    )
    lead.refresh_from_db()
    assert (next_week.decision, lead.status, lead.close_reason) == ("CLOSE", "CLOSED", "客户放弃")


def test_convert_decision_converts_and_repeating_it_makes_no_second_opportunity(world):
    lead = new_lead(world)
    review = lead_review_record(lead=lead, actor=world["manager"], decision="CONVERT", reason="ATI通过")
    again = lead_review_record(lead=lead, actor=world["manager"], decision="CONVERT", reason="ATI通过")

    lead.refresh_from_db()
    assert review.pk == again.pk
    assert lead.status == "CONVERTED"
    assert Opportunity.objects.filter(lead=lead).count() == 1
    assert Opportunity.objects.count() == 1


def test_reassign_decision_needs_a_user_and_assigns_the_nurturer(world):
    lead = new_lead(world)
    with pytest.raises(ApplicationError) as err:
        lead_review_record(lead=lead, actor=world["manager"], decision="REASSIGN", reason="换人")
    assert "reassign_to" in err.value.extra

    review = lead_review_record(
        lead=lead, actor=world["manager"], decision="REASSIGN", reason="SR更懂方案", reassign_to=world["sr"]
    )

    lead.refresh_from_db()
    assert (review.reassigned_to, lead.nurturer, lead.status) == (world["sr"], world["sr"], "NURTURING")


def test_review_refuses_missing_reason_peer_and_closed_lead(world):
    lead = new_lead(world)
    with pytest.raises(ApplicationError) as err:
        lead_review_record(lead=lead, actor=world["rep"], decision="NURTURE", reason=" ")
    assert "reason" in err.value.extra
    with pytest.raises(NotAllowed):
        lead_review_record(lead=lead, actor=world["peer"], decision="NURTURE", reason="越权")
    lead_close(lead=lead, actor=world["rep"], reason="无预算")
    with pytest.raises(ApplicationError) as closed:
        lead_review_record(lead=lead, actor=world["rep"], decision="NURTURE", reason="复活")
    assert closed.value.code == "invalid_transition"
    assert not LeadReview.objects.exists()


def test_failed_convert_decision_records_no_review(world):
    prospect = lead_create(actor=world["rep"], title="智慧港口", prospect_name="舟山港务", source="INBOUND")
    with pytest.raises(ApplicationError):
        lead_review_record(lead=prospect, actor=world["rep"], decision="CONVERT", reason="看好")
    assert not LeadReview.objects.exists()


# --- lead merge ----------------------------------------------------------------------------------------------


def _qualify(lead, actor, score):
    return lead_qualify(
        lead=lead,
        actor=actor,
        is_lead_answer="a",
        is_lead_score=score,
        how_far_answer="b",
        how_far_score=score,
        can_win_answer="c",
        can_win_score=score,
    )


def test_merge_closes_source_into_target_and_moves_its_work(world):
    target = new_lead(world)
    source = new_lead(world, title="港口专网二期", allow_duplicate=True)
    _qualify(source, world["rep"], 9)
    lead_review_record(lead=source, actor=world["rep"], decision="NURTURE", reason="等预算")

    result = lead_merge(actor=world["rep"], source=source, target=target)

    source.refresh_from_db()
    target.refresh_from_db()
    assert result.pk == target.pk
    assert (source.status, source.merged_into) == ("CLOSED", target)
    assert f"#{target.pk}" in source.close_reason
    assert target.qualifications.count() == 1 and target.reviews.count() == 1
    assert (target.grade, target.qualification_score) == ("A", 27)
    assert source.transitions.last().to_status == "CLOSED"
    assert source.history.first().history_user == world["rep"]
    # Merging again changes nothing.
    assert lead_merge(actor=world["rep"], source=source, target=target).pk == target.pk


def test_merge_refuses_different_customers_closed_target_and_peers(world):
    target = new_lead(world)
    other_customer = CustomerFactory(account_dept=world["tree"]["dept1"], owner=world["rep"])
    other = new_lead(world, customer=other_customer)
    with pytest.raises(ApplicationError):
        lead_merge(actor=world["rep"], source=other, target=target)
    with pytest.raises(ApplicationError):
        lead_merge(actor=world["rep"], source=target, target=target)
    source = new_lead(world, title="别的", allow_duplicate=True)
    with pytest.raises(NotAllowed):
        lead_merge(actor=world["peer"], source=source, target=target)
    lead_close(lead=target, actor=world["rep"], reason="取消")
    with pytest.raises(ApplicationError):
        lead_merge(actor=world["rep"], source=source, target=target)
    source.refresh_from_db()
    assert source.status == "NEW"


# --- customer merge ---------------------------------------------------------------------------------------


def test_customer_merge_moves_everything_and_deletes_the_source(world):
    target = world["customer"]
    source = CustomerFactory(
        account_dept=world["tree"]["dept2"], name="宁波港 (重复)", tax_id="TAX-1", summary="概况"
    )
    contact = ContactFactory(customer=source)
    visit = VisitFactory(customer=source, rep=world["rep"])
    CustomerTeamMemberFactory(customer=source, user=world["sr"], role="SR")
    CustomerTeamMemberFactory(customer=source, user=world["peer"], role="AR")
    CustomerTeamMemberFactory(customer=target, user=world["rep"], role="AR")
    lead = Lead.objects.create(
        title="x", customer=source, owner=world["rep"], org_unit=world["tree"]["dept2"], source="INBOUND"
    )
    opportunity = OpportunityFactory(customer=source, owner=world["rep"])
    source_pk = source.pk

    summary = customer_merge(actor=world["manager"], source=source, target=target)

    assert not Customer.objects.filter(pk=source_pk).exists()
    for row in (contact, visit, lead, opportunity):
        row.refresh_from_db()
        assert row.customer_id == target.pk
    target.refresh_from_db()
    assert (target.tax_id, target.summary) == ("TAX-1", "概况")
    assert set(target.team.values_list("user_id", "role")) == {
        (world["rep"].pk, "AR"),
        (world["sr"].pk, "SR"),
    }
    assert (summary["leads"], summary["opportunities"], summary["team"], summary["team_dropped"]) == (
        1,
        1,
        1,
        1,
    )
    deleted = Customer.history.filter(id=source_pk, history_type="-").get()
    assert deleted.history_user == world["manager"]
    assert lead.history.first().history_user == world["manager"]
    assert CustomerTeamMember.history.filter(user_id=world["sr"].pk).first().history_user == world["manager"]


def test_customer_merge_refuses_a_customer_with_contracts(world):
    source = CustomerFactory(account_dept=world["tree"]["dept1"])
    ContractFactory(customer=source, owner=world["rep"])
    lead = Lead.objects.create(
        title="x", customer=source, owner=world["rep"], org_unit=world["tree"]["dept1"], source="INBOUND"
    )

    with pytest.raises(ApplicationError) as err:
        customer_merge(actor=world["manager"], source=source, target=world["customer"])

    assert err.value.code == "merge_blocked"
    assert "有合同的客户不能合并" in str(err.value)
    lead.refresh_from_db()
    assert lead.customer_id == source.pk


def test_customer_merge_refuses_kpi_targets_and_non_managers(world):
    source = CustomerFactory(account_dept=world["tree"]["dept1"], owner=world["rep"])
    with pytest.raises(NotAllowed):
        customer_merge(actor=world["rep"], source=source, target=world["customer"])
    today = timezone.localdate()
    KpiTarget.objects.create(metric="ORDERS", period_start=today, period_end=today, customer=source)
    with pytest.raises(ApplicationError) as err:
        customer_merge(actor=world["manager"], source=source, target=world["customer"])
    assert err.value.code == "merge_blocked"
    assert Customer.objects.filter(pk=source.pk).exists()


# --- concurrency (PostgreSQL row locks) ------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_conversions_make_one_opportunity(tree, settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    rep = UserFactory(org_unit=tree["dept1"])
    customer = CustomerFactory(account_dept=tree["dept1"], owner=rep)
    lead = lead_create(actor=rep, title="并发转化", customer=customer, source="INBOUND")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def convert() -> None:
        try:
            actor = User.objects.get(pk=rep.pk)
            barrier.wait()
            lead_convert(lead=Lead.objects.get(pk=lead.pk), actor=actor)
            outcomes.append("converted")
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=convert) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["already_converted", "converted"]
    assert Opportunity.objects.filter(lead_id=lead.pk).count() == 1
