"""Opportunity pages: the stage machine's refusals as messages, gates for deciders only, closing, winning."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contracts.models import Contract
from pipeline.models import GateDecision, Stage
from tests.factories import OpportunityTeamMemberFactory, UserFactory, opportunity_deal
from tests.web.conftest import login, negotiating

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_list_filters_by_stage(cast, as_rep):
    content = as_rep.get(reverse("opportunity-list"), {"stage": "VALIDATE"}).content.decode()
    assert cast.opp.name in content and cast.contract.opportunity.name not in content
    content = as_rep.get(reverse("opportunity-list"), {"stage": "WON"}).content.decode()
    assert cast.opp.name not in content and cast.contract.opportunity.name in content


def test_skipping_a_stage_is_a_bilingual_message_not_a_500(cast, as_rep):
    response = as_rep.post(reverse("opportunity-move", args=[cast.opp.pk]), {"to_stage": "BID"}, follow=True)
    assert response.status_code == 200
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "Stages cannot be skipped. 不能跳过阶段。" in text
    assert "Stages cannot be skipped. 不能跳过阶段。" in response.content.decode()
    cast.opp.refresh_from_db()
    assert cast.opp.stage == Stage.VALIDATE


def test_moving_without_the_gate_is_refused_then_allowed_after_a_go(tree):
    deal = opportunity_deal(tree)
    rep, manager = login(deal.rep), login(deal.dept_manager)
    url = reverse("opportunity-move", args=[deal.opp.pk])
    response = rep.post(url, {"to_stage": "GUIDE"}, follow=True)
    assert "进入该阶段前必须先通过ATI决策" in messages_of(response)[0][1]

    # The rep cannot decide; the form is not even shown to them.
    detail = rep.get(reverse("opportunity-detail", args=[deal.opp.pk])).content.decode()
    assert reverse("opportunity-gate", args=[deal.opp.pk]) not in detail
    response = rep.post(reverse("opportunity-gate", args=[deal.opp.pk]), {"outcome": "GO"}, follow=True)
    assert messages_of(response)[0][0] == "error"
    assert not GateDecision.objects.filter(opportunity=deal.opp).exists()

    detail = manager.get(reverse("opportunity-detail", args=[deal.opp.pk])).content.decode()
    assert reverse("opportunity-gate", args=[deal.opp.pk]) in detail
    response = manager.post(
        reverse("opportunity-gate", args=[deal.opp.pk]),
        {"outcome": "GO", "conditions": "控制毛利"},
        follow=True,
    )
    assert messages_of(response) == [("success", "Gate decision recorded. 决策已记录。")]
    decision = GateDecision.objects.get(opportunity=deal.opp)
    assert (decision.gate, decision.outcome, decision.decider, decision.conditions) == (
        "ATI",
        "GO",
        deal.dept_manager,
        "控制毛利",
    )
    rep.post(url, {"to_stage": "GUIDE"})
    deal.opp.refresh_from_db()
    assert deal.opp.stage == Stage.GUIDE
    history = rep.get(reverse("opportunity-detail", args=[deal.opp.pk])).content.decode()
    assert "Guide 标前引导" in history and deal.rep.full_name in history


def test_another_branchs_manager_cannot_see_the_deal(tree):
    deal = opportunity_deal(tree)
    assert login(deal.other_manager).get(reverse("opportunity-detail", args=[deal.opp.pk])).status_code == 404


def test_close_as_lost_needs_a_reason(cast, as_rep):
    url = reverse("opportunity-close", args=[cast.opp.pk])
    response = as_rep.post(url, {"outcome": "LOST", "reason": ""}, follow=True)
    assert messages_of(response)[0][0] == "error"
    as_rep.post(url, {"outcome": "LOST", "reason": "价格没有竞争力"})
    cast.opp.refresh_from_db()
    assert (cast.opp.stage, cast.opp.close_reason) == (Stage.LOST, "价格没有竞争力")
    # A closed deal shows no actions.
    content = as_rep.get(reverse("opportunity-detail", args=[cast.opp.pk])).content.decode()
    assert reverse("opportunity-move", args=[cast.opp.pk]) not in content


def test_abandon(cast, as_rep):
    as_rep.post(
        reverse("opportunity-close", args=[cast.opp.pk]), {"outcome": "ABANDONED", "reason": "客户搁置"}
    )
    cast.opp.refresh_from_db()
    assert cast.opp.stage == Stage.ABANDONED


def test_a_supporting_member_sees_the_deal_without_the_stage_actions(cast):
    helper = UserFactory(org_unit=cast.tree["dept3"])
    OpportunityTeamMemberFactory(opportunity=cast.opp, user=helper, role="SUPPORT")
    client = login(helper)
    content = client.get(reverse("opportunity-detail", args=[cast.opp.pk])).content.decode()
    assert cast.opp.name in content and reverse("opportunity-move", args=[cast.opp.pk]) not in content
    response = client.post(
        reverse("opportunity-move", args=[cast.opp.pk]), {"to_stage": "GUIDE"}, follow=True
    )
    assert "只有负责人、项目铁三角或上级主管可以修改该机会点" in messages_of(response)[0][1]


def test_win_opens_the_contract_once(cast, as_rep):
    opp = negotiating(cast.customer, owner=cast.rep, sr=cast.sr, fr=cast.fr, decider=cast.dept_mgr)
    detail = as_rep.get(reverse("opportunity-detail", args=[opp.pk])).content.decode()
    assert reverse("opportunity-win", args=[opp.pk]) in detail
    response = as_rep.post(
        reverse("opportunity-win", args=[opp.pk]), {"payment_terms": "DELIVERY", "signed_on": ""}
    )
    assert response.status_code == 200  # the signing date is required
    assert not Contract.objects.filter(opportunity=opp).exists()
    today = response.context["form"].fields["signed_on"].initial.isoformat()
    response = as_rep.post(
        reverse("opportunity-win", args=[opp.pk]), {"payment_terms": "DELIVERY", "signed_on": today}
    )
    contract = Contract.objects.get(opportunity=opp)
    assert response["Location"] == reverse("contract-detail", args=[contract.pk])
    assert contract.payment_terms == "DELIVERY" and contract.milestones.count() == 1
    opp.refresh_from_db()
    assert opp.stage == Stage.WON
    # Winning again goes to the same contract.
    again = as_rep.post(
        reverse("opportunity-win", args=[opp.pk]), {"payment_terms": "DELIVERY", "signed_on": today}
    )
    assert again["Location"] == reverse("contract-detail", args=[contract.pk])
    assert Contract.objects.filter(opportunity=opp).count() == 1


def test_winning_before_negotiation_is_a_message_not_a_500(cast, as_rep):
    response = as_rep.post(
        reverse("opportunity-win", args=[cast.opp.pk]),
        {"payment_terms": "STANDARD", "signed_on": "2026-01-05"},
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "不能跳过阶段：只有处于谈判阶段的机会点才能赢单。" in content
    assert not Contract.objects.filter(opportunity=cast.opp).exists()
