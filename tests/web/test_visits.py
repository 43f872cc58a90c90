"""Log a visit from the phone page (QUALITY.md P6): customer and notes are enough, the rest has defaults."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from relationships.models import Visit
from tests.factories import CustomerFactory, CustomerTeamMemberFactory, VisitFactory
from tests.web.conftest import login

pytestmark = pytest.mark.django_db


def test_customer_and_notes_are_enough(cast, as_rep):
    response = as_rep.post(
        reverse("visit-create"), {"customer": cast.customer.pk, "outcome": "客户同意下周技术交流"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("my-week")
    visit = Visit.objects.get(outcome="客户同意下周技术交流")
    assert visit.customer == cast.customer
    assert visit.rep == cast.rep and visit.org_unit == cast.rep.org_unit
    assert visit.visit_type == Visit.Type.ROUTINE
    assert visit.visited_on == timezone.localdate()
    assert (visit.next_step, visit.next_step_on, visit.purpose) == ("", None, "")


def test_after_saving_my_week_shows_the_visit_and_a_message(cast, as_rep):
    response = as_rep.post(
        reverse("visit-create"), {"customer": cast.customer.pk, "outcome": "演示了新方案"}, follow=True
    )
    content = response.content.decode()
    assert response.redirect_chain == [(reverse("my-week"), 302)]
    assert "已记录对浙江移动的拜访" in content and "Visit to 浙江移动 logged" in content
    assert "演示了新方案" in content
    visit = Visit.objects.get(outcome="演示了新方案")
    assert f"{reverse('lead-create')}?visit={visit.pk}" in content  # "create a lead from this visit"


def test_every_field(cast, as_rep):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    as_rep.post(
        reverse("visit-create"),
        {
            "customer": cast.customer.pk,
            "visit_type": Visit.Type.EXECUTIVE_VISIT,
            "visited_on": yesterday.isoformat(),
            "outcome": "高层拜访顺利",
            "purpose": "建立高层关系",
            "next_step": "发送方案建议书",
            "next_step_on": (yesterday + dt.timedelta(days=3)).isoformat(),
        },
    )
    visit = Visit.objects.get(outcome="高层拜访顺利")
    assert visit.visit_type == Visit.Type.EXECUTIVE_VISIT and visit.visited_on == yesterday
    assert (visit.purpose, visit.next_step) == ("建立高层关系", "发送方案建议书")
    assert visit.next_step_on == yesterday + dt.timedelta(days=3)


def test_the_form_has_the_defaults_and_collapses_the_next_step(cast, as_rep):
    content = as_rep.get(reverse("visit-create")).content.decode()
    assert f'value="{timezone.localdate().isoformat()}"' in content
    assert '<option value="ROUTINE" selected>' in content
    details = content[content.index("<details>") : content.index("</details>", content.index("<details>"))]
    assert 'name="next_step"' in details and 'name="next_step_on"' in details


def test_a_customer_of_another_branch_is_refused_without_writing(cast, as_rep):
    before = Visit.objects.count()
    response = as_rep.post(reverse("visit-create"), {"customer": cast.other_customer.pk, "outcome": "x"})
    assert response.status_code == 200
    assert "请选择您有权查看的客户" in response.content.decode()
    assert Visit.objects.count() == before


def test_missing_notes_or_customer_are_field_errors(cast, as_rep):
    response = as_rep.post(reverse("visit-create"), {"customer": "", "outcome": ""})
    assert response.status_code == 200
    assert "请选择客户" in response.content.decode()
    assert response.context["form"].errors.keys() == {"customer", "outcome"}


def test_a_service_refusal_is_a_form_message_not_a_500(cast, as_rep):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = as_rep.post(
        reverse("visit-create"),
        {"customer": cast.customer.pk, "outcome": "未来的拜访", "visited_on": tomorrow.isoformat()},
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "Please correct the errors below. 请更正以下错误。" in content
    assert "A visit cannot be logged in the future. 拜访日期不能晚于今天。" in content
    assert not Visit.objects.filter(outcome="未来的拜访").exists()


def test_the_picker_lists_recently_visited_customers_first(cast, as_rep):
    old = CustomerFactory(name="阿里云", account_dept=cast.tree["dept1"], owner=cast.rep)
    recent = CustomerFactory(name="中兴通讯", account_dept=cast.tree["dept1"], owner=cast.rep)
    VisitFactory(customer=old, rep=cast.rep, visited_on=timezone.localdate() - dt.timedelta(days=30))
    VisitFactory(customer=recent, rep=cast.rep, visited_on=timezone.localdate() - dt.timedelta(days=1))
    never = CustomerFactory(name="百度", account_dept=cast.tree["dept1"], owner=cast.rep)
    choices = [
        pk for pk, _label in as_rep.get(reverse("visit-create")).context["form"].fields["customer"].choices
    ]
    # Today's visit (cast.visit) first, then by the last visit, then the never-visited.
    assert choices[1:4] == [cast.customer.pk, recent.pk, old.pk]
    assert never.pk in choices[4:]


def test_search_finds_a_customer_beyond_the_list_and_preselects_a_single_match(cast, as_rep):
    for n in range(3):
        CustomerFactory(name=f"客户{n}", account_dept=cast.tree["dept1"], owner=cast.rep)
    response = as_rep.get(reverse("visit-create"), {"q": "浙江"})
    form = response.context["form"]
    assert [pk for pk, _ in form.fields["customer"].choices][1:] == [cast.customer.pk]
    assert form.initial["customer"] == cast.customer.pk
    # A search never finds another branch's customer.
    response = as_rep.get(reverse("visit-create"), {"q": "广发"})
    assert len(response.context["form"].fields["customer"].choices) == 1


def test_a_team_member_of_another_branch_may_log_a_visit_to_the_teams_customer(cast):
    CustomerTeamMemberFactory(customer=cast.customer, user=cast.other_rep, role="SUPPORT")
    client = login(cast.other_rep)
    response = client.post(reverse("visit-create"), {"customer": cast.customer.pk, "outcome": "支撑拜访"})
    assert response.status_code == 302
    assert Visit.objects.get(outcome="支撑拜访").rep == cast.other_rep


def test_customer_page_links_to_a_prefilled_visit_form(cast, as_rep):
    content = as_rep.get(reverse("customer-detail", args=[cast.customer.pk])).content.decode()
    assert f"{reverse('visit-create')}?customer={cast.customer.pk}" in content
    response = as_rep.get(reverse("visit-create"), {"customer": cast.customer.pk})
    assert response.context["form"].initial["customer"] == cast.customer.pk
