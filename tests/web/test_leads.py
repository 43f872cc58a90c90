"""Lead pages: list, create with the duplicate warning, from a visit, and the actions on a lead."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pipeline.models import Lead, LeadReview, Opportunity
from tests.factories import LeadFactory
from tests.web.conftest import login

pytestmark = pytest.mark.django_db


def test_list_filters_mine_and_status(cast, as_rep):
    theirs = LeadFactory(customer=cast.customer, owner=cast.peer, title="同事的线索")
    closed = LeadFactory(
        customer=cast.customer, owner=cast.rep, title="已关闭线索", status="CLOSED", close_reason="x"
    )
    mine = as_rep.get(reverse("lead-list")).content.decode()
    assert cast.lead.title in mine and closed.title in mine and theirs.title not in mine
    team = as_rep.get(reverse("lead-list"), {"whose": "team"}).content.decode()
    assert theirs.title in team  # a lead of the rep's own customer
    only_closed = as_rep.get(reverse("lead-list"), {"status": "CLOSED"}).content.decode()
    assert closed.title in only_closed and cast.lead.title not in only_closed


def test_create_for_a_customer(cast, as_rep):
    response = as_rep.post(
        reverse("lead-create"),
        {
            "title": "数据中心改造",
            "customer": cast.customer.pk,
            "source": "INBOUND",
            "estimated_amount": "300000",
        },
    )
    lead = Lead.objects.get(title="数据中心改造")
    assert response.status_code == 302 and response["Location"] == reverse("lead-detail", args=[lead.pk])
    assert (lead.customer, lead.owner, lead.source, lead.estimated_amount) == (
        cast.customer,
        cast.rep,
        "INBOUND",
        300000,
    )


def test_create_for_a_prospect(cast, as_rep):
    as_rep.post(
        reverse("lead-create"), {"title": "智慧园区", "prospect_name": "某新区管委会", "source": "MARKETING"}
    )
    lead = Lead.objects.get(title="智慧园区")
    assert (
        lead.customer is None and lead.prospect_name == "某新区管委会" and lead.org_unit == cast.rep.org_unit
    )


def test_a_duplicate_shows_the_candidates_and_create_anyway_creates_it(cast, as_rep):
    data = {"title": "5G专网扩容", "customer": cast.customer.pk, "source": "VISIT"}
    response = as_rep.post(reverse("lead-create"), data)
    assert response.status_code == 200
    content = response.content.decode()
    assert "A similar open lead already exists for this customer. 该客户已有相似的未关闭线索。" in content
    assert reverse("lead-detail", args=[cast.lead.pk]) in content  # the candidate, linked
    assert 'name="allow_duplicate"' in content
    assert Lead.objects.filter(title="5G专网扩容").count() == 1

    response = as_rep.post(reverse("lead-create"), {**data, "allow_duplicate": "on"})
    assert response.status_code == 302
    assert Lead.objects.filter(title="5G专网扩容").count() == 2


def test_a_lead_from_a_visit_is_prefilled_and_linked(cast, as_rep):
    cast.visit.next_step = "做专网方案"
    cast.visit.save(update_fields=["next_step"])
    form = as_rep.get(reverse("lead-create"), {"visit": cast.visit.pk}).context["form"]
    assert form.initial["title"] == "做专网方案" and form.initial["need"] == "谈了5G专网"
    response = as_rep.post(
        reverse("lead-create"), {"visit": cast.visit.pk, "title": "做专网方案", "need": "谈了5G专网"}
    )
    assert response.status_code == 302
    lead = Lead.objects.get(title="做专网方案")
    assert (lead.source_visit, lead.customer, lead.source) == (cast.visit, cast.customer, Lead.Source.VISIT)


def test_qualify_assign_review(cast, as_rep):
    url = reverse("lead-qualify", args=[cast.lead.pk])
    answers = {"is_lead_answer": "符合战略", "how_far_answer": "预算已批", "can_win_answer": "关系好"}
    response = as_rep.post(
        url, {**answers, "is_lead_score": 9, "how_far_score": 8, "can_win_score": 8}, follow=True
    )
    assert "Lead qualified. 线索已验证。" in response.content.decode()
    cast.lead.refresh_from_db()
    assert (cast.lead.status, cast.lead.qualification_score, cast.lead.grade) == ("VALIDATING", 25, "A")

    as_rep.post(reverse("lead-nurturer", args=[cast.lead.pk]), {"nurturer": cast.peer.pk})
    cast.lead.refresh_from_db()
    assert (cast.lead.status, cast.lead.nurturer) == ("NURTURING", cast.peer)

    as_rep.post(reverse("lead-review", args=[cast.lead.pk]), {"decision": "NURTURE", "reason": "继续跟进"})
    assert LeadReview.objects.get(lead=cast.lead).decision == "NURTURE"


def test_a_score_out_of_range_is_a_message_and_writes_nothing(cast, as_rep):
    url = reverse("lead-qualify", args=[cast.lead.pk])
    data = {"is_lead_answer": "a", "how_far_answer": "b", "can_win_answer": "c"}
    response = as_rep.post(
        url, {**data, "is_lead_score": 11, "how_far_score": 1, "can_win_score": 1}, follow=True
    )
    assert response.status_code == 200
    assert not cast.lead.qualifications.exists()
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_convert_then_converting_twice_is_a_bilingual_message(cast, as_rep):
    url = reverse("lead-convert", args=[cast.lead.pk])
    response = as_rep.post(url, {"name": "杭州专网项目"})
    opp = Opportunity.objects.get(lead=cast.lead)
    assert response["Location"] == reverse("opportunity-detail", args=[opp.pk])
    assert opp.name == "杭州专网项目"

    response = as_rep.post(url, {"name": "再来一次"}, follow=True)
    assert response.status_code == 200
    content = response.content.decode()
    assert "A lead converts once: this lead is already converted. 线索只能转化一次：该线索已转化。" in content
    assert Opportunity.objects.filter(lead=cast.lead).count() == 1


def test_close_needs_a_reason_and_a_peer_is_refused(cast, as_rep):
    url = reverse("lead-close", args=[cast.lead.pk])
    peer = login(cast.peer)  # a peer rep does not see the rep's lead
    assert peer.post(url, {"reason": "不做了"}).status_code == 404
    cast.lead.refresh_from_db()
    assert cast.lead.status == "NEW"
    response = as_rep.post(url, {"reason": ""}, follow=True)
    assert cast.lead.status == "NEW" and [m.level_tag for m in response.context["messages"]] == ["error"]
    as_rep.post(url, {"reason": "客户取消预算"})
    cast.lead.refresh_from_db()
    assert (cast.lead.status, cast.lead.close_reason) == ("CLOSED", "客户取消预算")


def test_a_manager_above_may_act_and_sees_the_actions(cast):
    manager = login(cast.dept_mgr)
    content = manager.get(reverse("lead-detail", args=[cast.lead.pk])).content.decode()
    assert reverse("lead-convert", args=[cast.lead.pk]) in content


def test_a_team_member_who_may_not_act_sees_no_actions_and_is_refused(cast):
    from tests.factories import CustomerTeamMemberFactory

    CustomerTeamMemberFactory(customer=cast.customer, user=cast.other_rep, role="SUPPORT")
    client = login(cast.other_rep)
    content = client.get(reverse("lead-detail", args=[cast.lead.pk])).content.decode()
    assert reverse("lead-convert", args=[cast.lead.pk]) not in content
    response = client.post(reverse("lead-close", args=[cast.lead.pk]), {"reason": "越权"}, follow=True)
    assert response.status_code == 200
    assert "只有线索发现人、培育人或上级主管可以操作" in response.content.decode()
    cast.lead.refresh_from_db()
    assert cast.lead.status == "NEW"
