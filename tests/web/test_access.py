"""Every page: 200 for a user who may see it, 404 for a record of another branch, 302 to log in for anonymous."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.web.conftest import login

pytestmark = pytest.mark.django_db

LIST_PAGES = [
    "home",
    "my-week",
    "visit-create",
    "customer-list",
    "lead-list",
    "lead-create",
    "opportunity-list",
    "contract-list",
]

# (url name, attribute of the cast holding the rep's record, the other branch's record)
DETAIL_PAGES = [
    ("customer-detail", "customer", "other_customer"),
    ("lead-detail", "lead", "other_lead"),
    ("opportunity-detail", "opp", "other_opp"),
    ("opportunity-win", "opp", "other_opp"),
    ("contract-detail", "contract", "other_contract"),
]

# POST-only actions on a record: (url name, record attribute, other branch's record attribute)
ACTIONS = [
    ("lead-qualify", "lead", "other_lead"),
    ("lead-nurturer", "lead", "other_lead"),
    ("lead-review", "lead", "other_lead"),
    ("lead-convert", "lead", "other_lead"),
    ("lead-close", "lead", "other_lead"),
    ("opportunity-move", "opp", "other_opp"),
    ("opportunity-gate", "opp", "other_opp"),
    ("opportunity-close", "opp", "other_opp"),
    ("contract-confirm", "contract", "other_contract"),
    ("invoice-issue", "contract", "other_contract"),
    ("receipt-record", "contract", "other_contract"),
]


@pytest.mark.parametrize("name", LIST_PAGES)
def test_pages_answer_the_rep(cast, as_rep, name):
    response = as_rep.get(reverse(name))
    assert response.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in response.content  # log-out and language forms at least


@pytest.mark.parametrize("name", LIST_PAGES)
def test_pages_send_anonymous_to_log_in(cast, name):
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "mine", "theirs"), DETAIL_PAGES)
def test_detail_pages(cast, as_rep, name, mine, theirs):
    assert as_rep.get(reverse(name, args=[getattr(cast, mine).pk])).status_code == 200
    assert as_rep.get(reverse(name, args=[getattr(cast, theirs).pk])).status_code == 404
    anonymous = Client().get(reverse(name, args=[getattr(cast, mine).pk]))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "mine", "theirs"), DETAIL_PAGES)
def test_the_other_branch_sees_its_own_records_only(cast, name, mine, theirs):
    client = login(cast.other_rep)
    assert client.get(reverse(name, args=[getattr(cast, theirs).pk])).status_code == 200
    assert client.get(reverse(name, args=[getattr(cast, mine).pk])).status_code == 404


@pytest.mark.parametrize(("name", "mine", "theirs"), ACTIONS)
def test_actions_on_another_branch_are_404_and_write_nothing(cast, as_rep, name, mine, theirs):
    record = getattr(cast, theirs)
    before = type(record).objects.get(pk=record.pk).updated_at
    response = as_rep.post(reverse(name, args=[record.pk]), {"reason": "x", "to_stage": "GUIDE"})
    assert response.status_code == 404
    assert type(record).objects.get(pk=record.pk).updated_at == before


@pytest.mark.parametrize(("name", "mine", "theirs"), ACTIONS)
def test_actions_refuse_get_and_anonymous(cast, as_rep, name, mine, theirs):
    url = reverse(name, args=[getattr(cast, mine).pk])
    assert as_rep.get(url).status_code == 405
    anonymous = Client().post(url, {})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))


def test_milestone_of_another_branch_is_404(cast, as_rep):
    milestone = cast.other_contract.milestones.first()
    url = reverse("milestone-achieve", args=[cast.other_contract.pk, milestone.pk])
    assert as_rep.post(url, {}).status_code == 404
    # A visible contract with another contract's milestone: 404 too.
    url = reverse("milestone-achieve", args=[cast.contract.pk, milestone.pk])
    assert as_rep.post(url, {}).status_code == 404
    milestone.refresh_from_db()
    assert milestone.achieved_on is None


def test_lead_form_from_a_visit_of_another_branch_is_404(cast, as_rep):
    assert as_rep.get(reverse("lead-create") + f"?visit={cast.other_visit.pk}").status_code == 404


def test_lists_show_mine_and_never_another_branch(cast, as_rep):
    for name, mine, theirs in [
        ("customer-list", cast.customer.name, cast.other_customer.name),
        ("lead-list", cast.lead.title, cast.other_lead.title),
        ("opportunity-list", cast.opp.name, cast.other_opp.name),
        ("contract-list", cast.contract.number, cast.other_contract.number),
    ]:
        content = as_rep.get(reverse(name), {"whose": "team"}).content.decode()
        assert mine in content, name
        assert theirs not in content, name
    picker = as_rep.get(reverse("visit-create")).content.decode()
    assert cast.customer.name in picker and cast.other_customer.name not in picker


JUNK = [
    {},
    {"reason": "", "to_stage": "WON", "outcome": "MAYBE", "decision": "CONVERT", "amount": "-5"},
    {"amount": "1e400", "number": "x" * 300, "milestone": "999999", "invoice": "abc", "nurturer": "0"},
    {"is_lead_score": "NaN", "how_far_score": "-1", "can_win_score": "99", "achieved_on": "2099-13-40"},
    {"to_stage": "GUIDE", "reason": "\x00"},
]


@pytest.mark.parametrize(("name", "mine", "theirs"), ACTIONS)
@pytest.mark.parametrize("data", JUNK)
def test_junk_posts_never_give_a_500(cast, name, mine, theirs, data):
    url = reverse(name, args=[getattr(cast, mine).pk])
    for user, expected in ((cast.rep, 302), (cast.dept_mgr, 302), (cast.peer, 404)):
        assert login(user).post(url, data).status_code == expected, user


@pytest.mark.parametrize("data", JUNK)
def test_junk_on_the_form_pages_never_gives_a_500(cast, as_rep, data):
    for url in (
        reverse("visit-create"),
        reverse("lead-create"),
        reverse("lead-create") + f"?visit={cast.visit.pk}",
        reverse("opportunity-win", args=[cast.opp.pk]),
        reverse("milestone-achieve", args=[cast.contract.pk, cast.contract.milestones.first().pk]),
    ):
        assert as_rep.post(url, {**data, "customer": "12abc", "visited_on": "yesterday"}).status_code in (
            200,
            302,
        )
