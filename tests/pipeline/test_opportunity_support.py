"""Support requests (呼唤炮火): ask, assign an expert who joins the team, close; response time."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import User
from ltc.errors import ApplicationError, NotAllowed
from pipeline.models import OpportunityTeamMember, SupportRequest
from pipeline.selectors import (
    support_request_response_time,
    support_request_visible_to,
    support_response_summary,
)
from pipeline.services.opportunities import (
    support_request_assign,
    support_request_close,
    support_request_create,
)
from tests.factories import UserFactory, opportunity_deal

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(tree):
    return opportunity_deal(tree)


@pytest.fixture
def expert(tree):
    return UserFactory(org_unit=tree["hq"], job_role=User.JobRole.SOLUTION_EXPERT)


def ask(deal, **kwargs):
    values = {
        "expertise": "SOLUTION",
        "need": "核心网方案评审",
        "needed_by": timezone.localdate() + dt.timedelta(days=7),
    }
    values.update(kwargs)
    return support_request_create(opportunity=deal.opp, actor=deal.sr, **values)


def test_ask_assign_close_and_response_time(deal, expert):
    request = ask(deal)
    assert ask(deal).pk == request.pk  # the same open request is not doubled
    assert support_request_response_time(request) is None

    assigned = support_request_assign(request=request, actor=deal.office_manager, expert=expert)
    assert (assigned.status, assigned.expert) == ("ASSIGNED", expert)
    member = OpportunityTeamMember.objects.get(opportunity=deal.opp, user=expert)
    assert member.role == "SUPPORT"
    first_assigned_at = assigned.assigned_at
    assert support_request_response_time(assigned) == first_assigned_at - assigned.created_at

    # Assigning the same expert again changes nothing.
    again = support_request_assign(request=request, actor=deal.office_manager, expert=expert)
    assert again.assigned_at == first_assigned_at
    assert OpportunityTeamMember.objects.filter(opportunity=deal.opp, user=expert).count() == 1

    done = support_request_close(request=request, actor=deal.sr)
    assert done.status == "DONE"
    assert support_request_close(request=request, actor=deal.sr).status == "DONE"
    with pytest.raises(ApplicationError):
        support_request_close(request=request, actor=deal.sr, cancel=True)


def test_response_summary(deal, expert):
    answered = ask(deal)
    ask(deal, need="交付评估", expertise="DELIVERY")
    support_request_assign(request=answered, actor=deal.dept_manager, expert=expert)
    SupportRequest.objects.filter(pk=answered.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=5), assigned_at=timezone.now() - dt.timedelta(hours=2)
    )
    summary = support_response_summary(support_request_visible_to(deal.rep))
    assert summary["requests"] == 2
    assert summary["answered"] == 1
    assert abs(summary["average_response"] - dt.timedelta(hours=3)) < dt.timedelta(seconds=1)


def test_only_managers_assign(deal, expert):
    request = ask(deal)
    with pytest.raises(NotAllowed) as err:
        support_request_assign(request=request, actor=deal.rep, expert=expert)
    assert "只有主管或管理员可以指派专家" in str(err.value) and "Only a manager or an admin" in str(err.value)
    with pytest.raises(NotAllowed):
        support_request_assign(request=request, actor=deal.other_manager, expert=expert)
    request.refresh_from_db()
    assert request.status == "OPEN"


def test_request_validation_and_closing_rules(deal, expert):
    with pytest.raises(ApplicationError) as err:
        ask(deal, expertise="MAGIC", need=" ", needed_by=timezone.localdate() - dt.timedelta(days=1))
    assert set(err.value.extra) == {"expertise", "need", "needed_by"}
    request = ask(deal)
    with pytest.raises(ApplicationError):
        support_request_close(request=request, actor=deal.sr)  # nobody assigned yet: cannot be done
    cancelled = support_request_close(request=request, actor=deal.sr, cancel=True)
    assert cancelled.status == "CANCELLED"
    with pytest.raises(ApplicationError):
        support_request_assign(request=request, actor=deal.dept_manager, expert=expert)


def test_outsiders_cannot_ask(deal, tree):
    with pytest.raises(NotAllowed):
        support_request_create(
            opportunity=deal.opp,
            actor=UserFactory(org_unit=tree["dept3"]),
            expertise="RND",
            need="x",
            needed_by=timezone.localdate(),
        )
    assert not SupportRequest.objects.exists()
