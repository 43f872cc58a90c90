"""Admin actions on leads and opportunities go through the pipeline services: a success changes the row and
records who did it; a refusal is an error message naming the row (never a 500), and the other rows go on."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import User
from pipeline.models import Lead, Opportunity, Stage, StageTransition
from tests.factories import (
    CustomerTeamMemberFactory,
    GateDecisionFactory,
    LeadFactory,
    OpportunityFactory,
    UserFactory,
)

OPP_CHANGELIST = "admin:pipeline_opportunity_changelist"
LEAD_CHANGELIST = "admin:pipeline_lead_changelist"


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True, job_role=User.JobRole.ADMIN)


def run_action(client, user, changelist: str, action: str, objects, **extra) -> list[tuple[int, str]]:
    """Post the action and follow the redirect back to the changelist, which shows (and so consumes) the
    messages of this request."""
    client.force_login(user)
    response = client.post(
        reverse(changelist),
        {"action": action, "_selected_action": [obj.pk for obj in objects], **extra},
        follow=True,
    )
    assert response.redirect_chain and response.redirect_chain[0][1] == 302
    assert response.status_code == 200
    return [(message.level, str(message)) for message in response.context["messages"]]


def errors(messages_) -> list[str]:
    return [text for level, text in messages_ if level >= 40]


def successes(messages_) -> list[str]:
    return [text for level, text in messages_ if level == 25]


def test_advance_moves_a_deal_past_its_gate_and_refuses_one_without(client, root, tree):
    ready = OpportunityFactory(name="有立项决策", customer__account_dept=tree["dept1"])
    GateDecisionFactory(opportunity=ready, gate="ATI", outcome="GO")
    blocked = OpportunityFactory(name="无立项决策", customer__account_dept=tree["dept1"])

    messages_ = run_action(client, root, OPP_CHANGELIST, "advance_stage", [ready, blocked])

    ready.refresh_from_db()
    blocked.refresh_from_db()
    assert ready.stage == Stage.GUIDE
    assert blocked.stage == Stage.VALIDATE
    transition = StageTransition.objects.get(opportunity=ready)
    assert (transition.from_stage, transition.to_stage, transition.actor_id) == ("VALIDATE", "GUIDE", root.pk)
    assert successes(messages_) == ["Advanced 已推进: 1 succeeded. 成功 1 条。"]
    [refusal] = errors(messages_)
    assert refusal.startswith("无立项决策: ")
    assert "ATI" in refusal


def test_advance_from_negotiation_points_to_the_win_action(client, root, tree):
    opp = OpportunityFactory(stage=Stage.NEGOTIATE, customer__account_dept=tree["dept1"])
    messages_ = run_action(client, root, OPP_CHANGELIST, "advance_stage", [opp])
    opp.refresh_from_db()
    assert opp.stage == Stage.NEGOTIATE
    [refusal] = errors(messages_)
    assert "赢单" in refusal


def test_mark_lost_needs_a_reason(client, root, tree):
    opp = OpportunityFactory(customer__account_dept=tree["dept1"])

    refused = run_action(client, root, OPP_CHANGELIST, "mark_lost", [opp], reason="")
    opp.refresh_from_db()
    assert opp.stage == Stage.VALIDATE
    assert len(errors(refused)) == 1 and "丢单必须填写原因" in errors(refused)[0]
    assert successes(refused) == []

    done = run_action(client, root, OPP_CHANGELIST, "mark_lost", [opp], reason="价格高于竞争对手")
    opp.refresh_from_db()
    assert (opp.stage, opp.close_reason) == (Stage.LOST, "价格高于竞争对手")
    assert opp.closed_at is not None
    assert errors(done) == []


def test_abandon_needs_a_reason(client, root, tree):
    opp = OpportunityFactory(customer__account_dept=tree["dept1"])

    refused = run_action(client, root, OPP_CHANGELIST, "abandon", [opp], reason=" ")
    opp.refresh_from_db()
    assert opp.stage == Stage.VALIDATE
    assert len(errors(refused)) == 1 and "放弃机会点必须填写原因" in errors(refused)[0]

    done = run_action(client, root, OPP_CHANGELIST, "abandon", [opp], reason="客户预算取消")
    opp.refresh_from_db()
    assert (opp.stage, opp.close_reason) == (Stage.ABANDONED, "客户预算取消")
    assert errors(done) == [] and len(successes(done)) == 1


def test_a_team_member_who_may_not_drive_the_deal_gets_a_message(client, db, tree):
    """The customer's team sees the deal, but only the owner, the deal's triangle or a manager drives it."""
    opp = OpportunityFactory(customer__account_dept=tree["dept1"])
    GateDecisionFactory(opportunity=opp, gate="ATI", outcome="GO")
    member = UserFactory(org_unit=tree["dept1"], job_role=User.JobRole.SALES_REP, is_staff=True)
    member.user_permissions.set(
        Permission.objects.filter(codename__in=["view_opportunity", "change_opportunity"])
    )
    CustomerTeamMemberFactory(customer=opp.customer, user=member, role="SUPPORT")

    messages_ = run_action(client, member, OPP_CHANGELIST, "advance_stage", [opp])

    opp.refresh_from_db()
    assert opp.stage == Stage.VALIDATE
    [refusal] = errors(messages_)
    assert "只有负责人、项目铁三角或上级主管可以修改该机会点" in refusal


def test_a_manager_cannot_act_on_another_branch(client, db, tree):
    opp = OpportunityFactory(customer__account_dept=tree["dept3"])
    GateDecisionFactory(opportunity=opp, gate="ATI", outcome="GO")
    east = UserFactory(org_unit=tree["region"], job_role=User.JobRole.MANAGER, is_staff=True)
    east.user_permissions.set(
        Permission.objects.filter(codename__in=["view_opportunity", "change_opportunity"])
    )

    messages_ = run_action(client, east, OPP_CHANGELIST, "advance_stage", [opp])

    opp.refresh_from_db()
    assert opp.stage == Stage.VALIDATE  # the row is not in the manager's queryset: nothing to act on
    assert successes(messages_) == []


def test_close_and_convert_leads(client, root, tree):
    to_close = LeadFactory(title="预算取消", customer__account_dept=tree["dept1"])
    to_convert = LeadFactory(title="核心网扩容", customer__account_dept=tree["dept1"])

    refused = run_action(client, root, LEAD_CHANGELIST, "close_leads", [to_close], reason=" ")
    to_close.refresh_from_db()
    assert to_close.status == Lead.Status.NEW
    assert "关闭线索必须填写原因" in errors(refused)[0]

    closed = run_action(client, root, LEAD_CHANGELIST, "close_leads", [to_close], reason="客户取消项目")
    to_close.refresh_from_db()
    assert (to_close.status, to_close.close_reason) == (Lead.Status.CLOSED, "客户取消项目")
    assert successes(closed) == ["Closed 已关闭: 1 succeeded. 成功 1 条。"]

    converted = run_action(client, root, LEAD_CHANGELIST, "convert_leads", [to_convert, to_close])
    to_convert.refresh_from_db()
    assert to_convert.status == Lead.Status.CONVERTED
    assert Opportunity.objects.filter(lead=to_convert, name="核心网扩容").count() == 1
    assert not Opportunity.objects.filter(lead=to_close).exists()
    assert successes(converted) == ["Converted 已转化: 1 succeeded. 成功 1 条。"]
    [refusal] = errors(converted)
    assert refusal.startswith("预算取消: ")

    # A second conversion is refused by the service and makes no second opportunity.
    again = run_action(client, root, LEAD_CHANGELIST, "convert_leads", [to_convert])
    assert len(errors(again)) == 1
    assert Opportunity.objects.filter(lead=to_convert).count() == 1


def test_the_stage_field_is_read_only_in_the_form(client, root, tree):
    opp = OpportunityFactory(customer__account_dept=tree["dept1"])
    client.force_login(root)
    form = client.get(reverse("admin:pipeline_opportunity_change", args=[opp.pk])).context["adminform"].form
    assert "stage" not in form.fields
