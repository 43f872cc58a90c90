"""A contact's private relationship card through every API path: its text reaches the owner and the people
above the owner (relationships.selectors.private_notes_visible), never a peer who sees the contact."""

from __future__ import annotations

import pytest

from accounts.models import User
from ltc.models import WebhookEvent
from relationships.models import CustomerTeamMember
from tests.api.conftest import session_client, token_client
from tests.factories import ContactFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

CARD = "Plays badminton on Sundays. 周日打羽毛球。"
PATHS = (
    "/api/v1/contacts/",
    "/api/v1/contacts/?fields=private_notes",
    "/api/v1/contacts/?fields=id,private_notes",
    "/api/v1/contacts/?customer={customer}&decision_role=INFLUENCER",
    "/api/v1/contacts/{contact}/",
    "/api/v1/contacts/{contact}/?fields=private_notes",
)


@pytest.fixture
def card(tree):
    rep = UserFactory(org_unit=tree["dept1"], job_role=User.JobRole.SALES_REP)
    peer = UserFactory(org_unit=tree["dept1"], job_role=User.JobRole.SOLUTION_EXPERT)
    manager = UserFactory(org_unit=tree["dept1"], job_role=User.JobRole.MANAGER)
    customer = CustomerFactory(account_dept=tree["dept1"], owner=rep, external_id="CUS-CARD")
    CustomerTeamMember.objects.create(customer=customer, user=peer, role="SR")
    contact = ContactFactory(customer=customer, owner=rep, private_notes=CARD, decision_role="INFLUENCER")
    return {"rep": rep, "peer": peer, "manager": manager, "customer": customer, "contact": contact}


def _get(http, path: str, card) -> dict:
    response = http.get(path.format(customer=card["customer"].pk, contact=card["contact"].pk))
    assert response.status_code == 200, response.content
    return response.json()


def _rows(body: dict) -> list[dict]:
    return body.get("results", [body])


@pytest.mark.parametrize("path", PATHS)
def test_a_peer_who_sees_the_contact_never_reads_the_card(card, path):
    body = _get(session_client(card["peer"]), path, card)
    assert [row["private_notes"] for row in _rows(body)] == [None]
    assert "羽毛球" not in str(body)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("reader", ["rep", "manager"])
def test_the_owner_and_those_above_read_the_card(card, path, reader):
    body = _get(session_client(card[reader]), path, card)
    assert [row["private_notes"] for row in _rows(body)] == [CARD]


def test_a_peers_update_answers_without_the_card_and_cannot_take_the_contact(card):
    http = session_client(card["peer"])
    url = f"/api/v1/contacts/{card['contact'].pk}/"
    etag = http.get(url)["ETag"]
    response = http.patch(url, {"intimacy": 3}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content
    assert response.json()["private_notes"] is None and "羽毛球" not in response.content.decode()
    # Taking the contact over would open its card: refused like writing the card.
    etag = response["ETag"]
    for change in ({"owner": card["peer"].pk}, {"private_notes": "x"}):
        assert http.patch(url, change, format="json", HTTP_IF_MATCH=etag).status_code == 403


def test_bulk_load_neither_takes_nor_answers_the_card(card):
    row = {
        "external_id": card["contact"].external_id,
        "customer": "CUS-CARD",
        "name": "王总",
        "private_notes": "x",
    }
    response = token_client(["admin"]).post("/api/v1/contacts/bulk/", {"rows": [row]}, format="json")
    assert response.status_code == 400, response.content
    assert {"index": 0, "field": "private_notes"}.items() <= response.json()["errors"]["rows"][0].items()
    assert "羽毛球" not in response.content.decode()


def test_contact_writes_put_no_card_in_webhook_payloads(card):
    http = session_client(card["rep"])
    created = http.post(
        "/api/v1/contacts/",
        {"customer": card["customer"].pk, "name": "陈总", "private_notes": CARD},
        format="json",
    )
    assert created.status_code == 201, created.content
    url = f"/api/v1/contacts/{created.json()['id']}/"
    updated = http.patch(url, {"private_notes": CARD + "!"}, format="json", HTTP_IF_MATCH=created["ETag"])
    assert updated.status_code == 200, updated.content
    assert not any(
        "羽毛球" in str(payload) for payload in WebhookEvent.objects.values_list("payload", flat=True)
    )
