"""The weekly lead-review reminder task: one reminder per person and week, mail only for new reminders."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from pipeline.models import Lead, LeadReviewReminder
from pipeline.services.leads import lead_review_reminders_send
from pipeline.tasks import lead_review_reminders_task
from relationships.selectors import week_start
from tests.factories import CustomerFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def due(tree):
    """rep: two due leads (one never reviewed, one due Friday); nurturer: one lead found by someone else;
    later: only a lead due next week; closer: only a closed lead."""
    monday = week_start(timezone.localdate())
    customer = CustomerFactory(account_dept=tree["dept1"])
    rep = UserFactory(org_unit=tree["dept1"], email="rep@example.com")
    nurturer = UserFactory(org_unit=tree["dept1"], email="nurturer@example.com")
    finder = UserFactory(org_unit=tree["dept1"], email="finder@example.com")
    later = UserFactory(org_unit=tree["dept1"], email="later@example.com")
    closer = UserFactory(org_unit=tree["dept1"], email="closer@example.com")
    LeadFactory(customer=customer, owner=rep, title="待评审A", next_review_on=None)
    LeadFactory(customer=customer, owner=rep, title="待评审B", next_review_on=monday + dt.timedelta(days=4))
    LeadFactory(
        customer=customer, owner=finder, nurturer=nurturer, status=Lead.Status.NURTURING, title="培育中"
    )
    LeadFactory(customer=customer, owner=later, title="下周", next_review_on=monday + dt.timedelta(days=7))
    LeadFactory(customer=customer, owner=closer, status=Lead.Status.CLOSED, close_reason="无预算")
    return {"monday": monday, "rep": rep, "nurturer": nurturer}


def test_task_twice_in_a_week_sends_once(due, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = lead_review_reminders_task()

    assert first == {
        "week": due["monday"].isoformat(),
        "due_leads": 3,
        "users": 2,
        "created": 2,
        "already_sent": 0,
        "emails": 2,
    }
    reminders = {r.user_id: r.lead_count for r in LeadReviewReminder.objects.filter(week=due["monday"])}
    assert reminders == {due["rep"].pk: 2, due["nurturer"].pk: 1}
    assert sorted(m.to[0] for m in mail.outbox) == ["nurturer@example.com", "rep@example.com"]
    rep_mail = next(m for m in mail.outbox if m.to == ["rep@example.com"])
    assert "待评审A" in rep_mail.body and "待评审B" in rep_mail.body and "培育中" not in rep_mail.body
    assert "本周待评审线索" in rep_mail.subject

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = lead_review_reminders_task()

    assert (second["created"], second["already_sent"], second["emails"]) == (0, 2, 0)
    assert callbacks == []
    assert len(mail.outbox) == 2
    assert LeadReviewReminder.objects.count() == 2


def test_next_week_is_a_new_reminder(due, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lead_review_reminders_task()
        following = lead_review_reminders_task(week=(due["monday"] + dt.timedelta(days=9)).isoformat())
    # Next week also brings in the lead due on that Monday.
    assert (following["week"], following["users"], following["created"]) == (
        (due["monday"] + dt.timedelta(weeks=1)).isoformat(),
        3,
        3,
    )
    assert len(mail.outbox) == 5


def test_no_mail_before_commit_and_none_for_users_without_address(tree, django_capture_on_commit_callbacks):
    quiet = UserFactory(org_unit=tree["dept1"], email="")
    LeadFactory(customer=CustomerFactory(account_dept=tree["dept1"]), owner=quiet)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        summary = lead_review_reminders_send()

    assert (summary["created"], summary["emails"]) == (1, 0)
    assert callbacks == [] and mail.outbox == []
    assert LeadReviewReminder.objects.get().user == quiet


def test_task_is_registered_for_beat_and_acks_late():
    assert lead_review_reminders_task.name == "pipeline.tasks.lead_review_reminders_task"
    assert lead_review_reminders_task.acks_late is True
