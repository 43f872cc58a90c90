"""Lead actions through the API: create (duplicates), qualify, assign a nurturer, the weekly review, convert,
close — 200/201, 400 with field errors and a bilingual message, 401, 403 (scope and authority), 404 (another
branch), 422 (an Idempotency-Key reused with another body) and a replayed convert."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient, APIRequestFactory

from accounts.models import User
from pipeline.models import Lead, LeadReview, Opportunity
from tests.api.conftest import session_client, token_client
from tests.api.test_auth import assert_envelope
from tests.factories import CustomerFactory, CustomerTeamMemberFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _json_bodies(monkeypatch):
    """The API takes JSON only: the test clients send JSON unless told otherwise."""
    monkeypatch.setattr(APIRequestFactory, "default_format", "json")


ANSWERS = {
    "is_lead_answer": "符合战略",
    "is_lead_score": 8,
    "how_far_answer": "预算明确",
    "how_far_score": 7,
    "can_win_answer": "关系良好",
    "can_win_score": 6,
}


def bilingual(message: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", message)) and bool(re.search(r"[A-Za-z]{3}", message))


@pytest.fixture
def world(tree):
    dept = tree["dept1"]
    rep = UserFactory(org_unit=dept, username="rep")
    customer = CustomerFactory(account_dept=dept, owner=rep)
    lead = LeadFactory(customer=customer, owner=rep, title="数据中心扩容")
    return {
        "rep": rep,
        "customer": customer,
        "lead": lead,
        "api": session_client(rep),
        "url": f"/api/v1/leads/{lead.pk}",
    }


def test_create_refuses_a_duplicate_unless_allowed(world):
    api, customer = world["api"], world["customer"]
    body = {"title": "数据中心扩容", "customer": customer.pk, "source": "VISIT"}
    error = assert_envelope(api.post("/api/v1/leads/", body, format="json"), 400, "duplicate")
    assert error["errors"]["duplicates"] == [str(world["lead"].pk)] and bilingual(error["message"])
    created = api.post("/api/v1/leads/", {**body, "allow_duplicate": True}, format="json")
    assert (
        created.status_code == 201
        and created["ETag"]
        and created["Location"].endswith(f"/{created.json()['id']}/")
    )
    assert created.json()["owner"] == world["rep"].pk and created.json()["status"] == "NEW"


def test_create_names_bad_fields(world, tree):
    api = world["api"]
    hidden = CustomerFactory(account_dept=tree["dept3"])
    error = assert_envelope(
        api.post("/api/v1/leads/", {"title": "", "customer": hidden.pk, "source": "NOPE"}, format="json"), 400
    )
    assert {"title", "customer", "source"} <= set(error["errors"]) and bilingual(error["message"])
    error = assert_envelope(
        api.post("/api/v1/leads/", {"title": "无客户", "source": "VISIT"}, format="json"), 400
    )
    assert "customer" in error["errors"] and bilingual(error["message"])


def test_qualify_nurture_review_and_close(world):
    api, url, lead = world["api"], world["url"], world["lead"]
    response = api.post(f"{url}/qualify/", ANSWERS, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "VALIDATING" and response.json()["grade"] == "B"
    lead.refresh_from_db()
    assert response["ETag"] and response.json()["qualification_score"] == 21
    error = assert_envelope(api.post(f"{url}/qualify/", {**ANSWERS, "can_win_score": 11}, format="json"), 400)
    assert "can_win_score" in error["errors"]

    nurturer = UserFactory(org_unit=lead.org_unit)
    response = api.post(f"{url}/assign-nurturer/", {"nurturer": nurturer.pk}, format="json")
    assert response.status_code == 200 and response.json()["nurturer"] == nurturer.pk
    assert response.json()["status"] == "NURTURING"

    response = api.post(f"{url}/reviews/", {"decision": "NURTURE", "reason": "等待预算"}, format="json")
    assert response.status_code == 201, response.content
    review = response.json()
    assert review["decision"] == "NURTURE" and review["lead"]["next_review_on"]
    assert LeadReview.objects.filter(lead=lead).count() == 1
    error = assert_envelope(
        api.post(f"{url}/reviews/", {"decision": "CLOSE", "reason": "改主意"}, format="json"),
        400,
        "already_reviewed",
    )
    assert bilingual(error["message"])

    error = assert_envelope(api.post(f"{url}/close/", {"reason": " "}, format="json"), 400)
    assert "reason" in error["errors"]
    response = api.post(f"{url}/close/", {"reason": "客户取消项目"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "CLOSED"
    error = assert_envelope(api.post(f"{url}/convert/", {}, format="json"), 400, "invalid_transition")
    assert bilingual(error["message"])


def test_there_is_no_raw_lead_update(world):
    assert_envelope(world["api"].patch(world["url"] + "/", {"status": "CONVERTED"}, format="json"), 405)


def test_401_403_and_404(world, tree):
    url = world["url"]
    assert_envelope(APIClient().post(f"{url}/qualify/", ANSWERS, format="json"), 401)
    assert_envelope(token_client(["leads:read"]).post(f"{url}/qualify/", ANSWERS, format="json"), 403)
    # A teammate on the customer's team sees the lead but may not act on it.
    peer = UserFactory(org_unit=tree["dept1"])
    CustomerTeamMemberFactory(customer=world["customer"], user=peer, role="SR")
    assert session_client(peer).get(url + "/").status_code == 200
    error = assert_envelope(session_client(peer).post(f"{url}/qualify/", ANSWERS, format="json"), 403)
    assert bilingual(error["message"])
    other = UserFactory(org_unit=tree["office2"], job_role=User.JobRole.MANAGER)
    assert_envelope(session_client(other).post(f"{url}/qualify/", ANSWERS, format="json"), 404)
    assert_envelope(
        token_client(["leads:write"], org_unit=tree["dept3"]).post(f"{url}/close/", {"reason": "x"}), 404
    )
    assert Lead.objects.get(pk=world["lead"].pk).status == Lead.Status.NEW


def test_a_client_with_the_write_scope_acts_in_its_unit(world, tree):
    client = token_client(["leads:write"], org_unit=tree["dept1"])
    response = client.post(f"{world['url']}/qualify/", ANSWERS, format="json")
    assert response.status_code == 200, response.content


def test_idempotency_key_reused_with_another_body_is_422(world):
    api, url = world["api"], world["url"]
    first = api.post(f"{url}/qualify/", ANSWERS, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    assert first.status_code == 200
    assert_envelope(
        api.post(
            f"{url}/qualify/", {**ANSWERS, "is_lead_score": 1}, format="json", HTTP_IDEMPOTENCY_KEY="q-1"
        ),
        422,
        "idempotency_key_reused",
    )
    assert world["lead"].qualifications.count() == 1


def test_a_replayed_convert_returns_the_same_opportunity(world):
    api, url = world["api"], world["url"]
    first = api.post(f"{url}/convert/", {"name": "扩容项目"}, format="json", HTTP_IDEMPOTENCY_KEY="conv-1")
    assert first.status_code == 201, first.content
    again = api.post(f"{url}/convert/", {"name": "扩容项目"}, format="json", HTTP_IDEMPOTENCY_KEY="conv-1")
    assert again.status_code == 201 and again.content == first.content
    assert again["Idempotent-Replayed"] == "true" and again["ETag"] == first["ETag"]
    assert Opportunity.objects.filter(lead=world["lead"]).count() == 1
    # Without the key, a second convert is refused, naming the opportunity.
    error = assert_envelope(api.post(f"{url}/convert/", {}, format="json"), 400, "already_converted")
    assert error["errors"]["opportunity"] == [str(first.json()["id"])]
