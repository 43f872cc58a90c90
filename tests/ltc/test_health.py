import pytest


@pytest.mark.django_db
def test_healthz_names_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["vendor"] in {"sqlite", "postgresql"}
    assert body["broker"]["ok"] is True
    assert body["broker"]["transport"] in {"filesystem", "redis"}


@pytest.mark.django_db
def test_login_page_served(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "csrfmiddlewaretoken" in response.content.decode()
