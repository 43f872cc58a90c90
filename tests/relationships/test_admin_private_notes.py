"""A contact's private relationship card in the admin: a staff peer who sees the contact never reads the card
(change page, history list and versions, changelist filters, the customer page's contact rows) and cannot
move the contact to where the card would open; the owner's manager reads it and may move the contact."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import User
from relationships.models import Contact, CustomerTeamMember
from relationships.services import contact_update
from tests.factories import ContactFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

CARD = "Plays badminton on Sundays. 周日打羽毛球。"
PERMISSIONS = ("view_contact", "change_contact", "view_customer", "change_customer")


def staff(unit, job_role) -> User:
    user = UserFactory(org_unit=unit, job_role=job_role, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=PERMISSIONS))
    return user


@pytest.fixture
def card(tree):
    rep = UserFactory(org_unit=tree["dept1"], job_role=User.JobRole.SALES_REP)
    peer = staff(tree["dept1"], User.JobRole.SOLUTION_EXPERT)
    manager = staff(tree["dept1"], User.JobRole.MANAGER)
    customer = CustomerFactory(account_dept=tree["dept1"], owner=rep)
    CustomerTeamMember.objects.create(customer=customer, user=peer, role="SR")
    contact = ContactFactory(customer=customer, owner=rep, private_notes="Likes tea. 喜欢喝茶。")
    # A second version, so the history page has a change of the card to list (old → new).
    contact = contact_update(actor=rep, contact=contact, private_notes=CARD)
    return {"rep": rep, "peer": peer, "manager": manager, "customer": customer, "contact": contact}


def _pages(card) -> list[str]:
    contact = card["contact"]
    return [
        reverse("admin:relationships_contact_changelist"),
        reverse("admin:relationships_contact_change", args=[contact.pk]),
        reverse("admin:relationships_contact_history", args=[contact.pk]),
        *(
            reverse("admin:relationships_contact_simple_history", args=[contact.pk, version.history_id])
            for version in contact.history.all()
        ),
        reverse("admin:relationships_customer_change", args=[card["customer"].pk]),
    ]


def _form_data(response) -> dict[str, object]:
    """What the change page's forms (the object's and its inlines') would post back, unchanged."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict[str, object] = {}
    for form in forms:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            data[bound.html_name] = "on" if value is True else value
    return data


def test_a_staff_peer_reads_no_card_on_any_admin_page(client, card):
    client.force_login(card["peer"])
    for url in _pages(card):
        response = client.get(url)
        assert response.status_code == 200, url
        content = response.content.decode()
        assert "羽毛球" not in content and "喝茶" not in content, url


def test_the_owners_manager_reads_the_card_and_its_history(client, card):
    client.force_login(card["manager"])
    contact = card["contact"]
    assert (
        "羽毛球"
        in client.get(reverse("admin:relationships_contact_change", args=[contact.pk])).content.decode()
    )
    history = client.get(reverse("admin:relationships_contact_history", args=[contact.pk])).content.decode()
    assert "喝茶" in history and "羽毛球" in history


def test_a_staff_peer_cannot_filter_contacts_by_the_card(client, card):
    client.force_login(card["peer"])
    changelist = reverse("admin:relationships_contact_changelist")
    for query in ("private_notes__contains=羽毛球", "private_notes__startswith=P", "private_notes=x"):
        assert client.get(f"{changelist}?{query}").status_code == 400, query
    response = client.get(f"{changelist}?q=羽毛球")
    assert response.status_code == 200 and list(response.context["cl"].result_list) == []


def test_a_staff_peer_cannot_take_the_contact_over(client, card):
    client.force_login(card["peer"])
    contact = card["contact"]
    url = reverse("admin:relationships_contact_change", args=[contact.pk])
    data = _form_data(client.get(url))
    assert "owner" not in data and "customer" not in data  # shown read-only
    response = client.post(url, {**data, "owner": card["peer"].pk, "intimacy": 4})
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    contact.refresh_from_db()
    assert (contact.owner, contact.intimacy) == (card["rep"], 4)


def test_a_staff_peer_cannot_take_the_contact_over_from_the_customer_page(client, card):
    client.force_login(card["peer"])
    url = reverse("admin:relationships_customer_change", args=[card["customer"].pk])
    data = _form_data(client.get(url))
    row = next(key for key, value in data.items() if key.endswith("-id") and value == card["contact"].pk)
    prefix = row.removesuffix("-id")
    response = client.post(url, {**data, f"{prefix}-owner": card["peer"].pk, f"{prefix}-intimacy": 4})
    assert response.status_code == 302, response.context and response.context["errors"]
    contact = Contact.objects.get(pk=card["contact"].pk)
    assert (contact.owner, contact.intimacy) == (card["rep"], 4)


def test_the_owners_manager_may_move_the_contact(client, card):
    client.force_login(card["manager"])
    contact = card["contact"]
    url = reverse("admin:relationships_contact_change", args=[contact.pk])
    response = client.post(url, {**_form_data(client.get(url)), "owner": card["manager"].pk})
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    contact.refresh_from_db()
    assert contact.owner == card["manager"] and contact.private_notes == CARD
