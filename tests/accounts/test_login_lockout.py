"""Brute-force lock-out on the log-in page (QUALITY.md R7): 5 failures per user name and address → 15 minutes."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from accounts.auth import login_locked_until
from accounts.models import LoginFailure
from tests.factories import DEMO_PASSWORD, UserFactory

LOGIN = "/accounts/login/"
WRONG = "not-the-password"
ADDRESS = "10.1.2.3"


def attempt(client: Client, username: str, password: str, address: str = ADDRESS):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail_until_locked(client: Client, username: str, address: str = ADDRESS) -> None:
    for _ in range(settings.LTC["LOGIN_MAX_FAILURES"]):
        response = attempt(client, username, WRONG, address)
        assert response.status_code == 200
        assert not is_logged_in(client)


@pytest.fixture
def rep(db):
    return UserFactory(username="zhang.wei")


def test_settings_carry_the_r7_defaults():
    assert settings.LTC["LOGIN_MAX_FAILURES"] == 5
    assert settings.LTC["LOGIN_LOCKOUT_MINUTES"] == 15


def test_right_password_logs_in_and_lands_on_home(client, rep):
    response = attempt(client, "zhang.wei", DEMO_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert is_logged_in(client)


def test_wrong_password_shows_a_bilingual_error(client, rep):
    response = attempt(client, "zhang.wei", WRONG)
    body = response.content.decode()
    assert response.status_code == 200
    assert "did not match" in body and "用户名或密码错误" in body
    assert LoginFailure.objects.filter(username="zhang.wei", ip_address=ADDRESS).count() == 1


def test_sixth_attempt_with_the_right_password_is_refused_while_locked(client, rep):
    with freeze_time("2026-03-02 09:00:00") as frozen:
        fail_until_locked(client, "zhang.wei")
        frozen.tick(timedelta(seconds=30))
        response = attempt(client, "zhang.wei", DEMO_PASSWORD)
        body = response.content.decode()
        assert response.status_code == 200
        assert not is_logged_in(client)
        assert "locked" in body and "锁定" in body
        assert "15 more minutes" in body  # 15 minutes after the last failure, rounded up


def test_right_password_works_again_after_fifteen_minutes(client, rep):
    with freeze_time("2026-03-02 09:00:00") as frozen:
        fail_until_locked(client, "zhang.wei")
        frozen.tick(timedelta(minutes=14, seconds=59))
        assert not is_logged_in(client) and attempt(client, "zhang.wei", DEMO_PASSWORD).status_code == 200
        assert not is_logged_in(client)
        frozen.tick(timedelta(seconds=2))
        response = attempt(client, "zhang.wei", DEMO_PASSWORD)
        assert response.status_code == 302
        assert is_logged_in(client)
    # A success clears the slate for this user name and address.
    assert not LoginFailure.objects.filter(username="zhang.wei", ip_address=ADDRESS).exists()


def test_attempts_refused_while_locked_do_not_extend_the_lock(client, rep):
    with freeze_time("2026-03-02 09:00:00") as frozen:
        fail_until_locked(client, "zhang.wei")
        for _ in range(10):
            frozen.tick(timedelta(minutes=1))
            attempt(client, "zhang.wei", WRONG)
        assert LoginFailure.objects.filter(username="zhang.wei").count() == 5
        frozen.tick(timedelta(minutes=5, seconds=1))
        assert attempt(client, "zhang.wei", DEMO_PASSWORD).status_code == 302


def test_lock_is_per_address(client, rep):
    fail_until_locked(client, "zhang.wei", address=ADDRESS)
    assert attempt(client, "zhang.wei", DEMO_PASSWORD, address=ADDRESS).status_code == 200
    other = Client()
    assert attempt(other, "zhang.wei", DEMO_PASSWORD, address="10.9.9.9").status_code == 302
    assert is_logged_in(other)


def test_lock_is_per_user_name(client, rep):
    UserFactory(username="li.na")
    fail_until_locked(client, "zhang.wei")
    assert attempt(client, "li.na", DEMO_PASSWORD).status_code == 302


def test_unknown_user_names_are_locked_out_too(client, db):
    fail_until_locked(client, "ghost")
    response = attempt(client, "ghost", WRONG)
    assert "锁定" in response.content.decode()
    assert LoginFailure.objects.filter(username="ghost").count() == 5


def test_four_failures_then_success_resets_the_count(client, rep):
    for _ in range(4):
        attempt(client, "zhang.wei", WRONG)
    assert attempt(client, "zhang.wei", DEMO_PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        attempt(client, "zhang.wei", WRONG)
    assert attempt(client, "zhang.wei", DEMO_PASSWORD).status_code == 302


def test_failures_spread_wider_than_the_window_do_not_lock(client, rep):
    with freeze_time("2026-03-02 09:00:00") as frozen:
        for _ in range(4):
            attempt(client, "zhang.wei", WRONG)
        frozen.tick(timedelta(minutes=16))
        attempt(client, "zhang.wei", WRONG)
        assert login_locked_until(username="zhang.wei", ip_address=ADDRESS) is None
        assert attempt(client, "zhang.wei", DEMO_PASSWORD).status_code == 302


def test_lock_ends_fifteen_minutes_after_the_last_failure(rep):
    with freeze_time("2026-03-02 09:00:00") as frozen:
        for _ in range(5):
            LoginFailure.objects.create(username="zhang.wei", ip_address=ADDRESS)
            frozen.tick(timedelta(minutes=2))
        last = timezone.now() - timedelta(minutes=2)
        assert login_locked_until(username="zhang.wei", ip_address=ADDRESS) == last + timedelta(minutes=15)


def test_admin_login_is_locked_out_too(client, db):
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    for _ in range(5):
        client.post("/admin/login/", {"username": "boss", "password": WRONG}, REMOTE_ADDR=ADDRESS)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "boss", "password": DEMO_PASSWORD}, REMOTE_ADDR=ADDRESS
    )
    assert response.status_code == 200
    assert not is_logged_in(client)


def test_log_ins_failures_and_lock_outs_are_logged(client, rep, caplog):
    caplog.set_level(logging.INFO, logger="ltc.security")
    assert attempt(client, "zhang.wei", DEMO_PASSWORD).status_code == 302
    client.post(reverse("logout"))
    fail_until_locked(client, "zhang.wei")
    attempt(client, "zhang.wei", DEMO_PASSWORD)
    messages = [r.getMessage() for r in caplog.records if r.name == "ltc.security"]
    assert any(m.startswith("login succeeded user='zhang.wei'") and ADDRESS in m for m in messages)
    assert sum(m.startswith("login failed user='zhang.wei'") for m in messages) == 5
    assert sum(m.startswith("login lock-out started user='zhang.wei'") for m in messages) == 1
    assert any(m.startswith("login refused (locked out) user='zhang.wei'") for m in messages)


def test_forwarded_address_is_used_only_when_trusted(client, rep, settings):
    def forwarded_attempt(password: str, hop: str):
        return client.post(
            LOGIN,
            {"username": "zhang.wei", "password": password},
            REMOTE_ADDR="172.16.0.1",
            HTTP_X_FORWARDED_FOR=f"1.1.1.1, {hop}",
        )

    settings.LTC = {**settings.LTC, "TRUST_X_FORWARDED_FOR": True}
    for _ in range(5):
        forwarded_attempt(WRONG, "203.0.113.7")
    assert LoginFailure.objects.filter(ip_address="203.0.113.7").count() == 5
    assert forwarded_attempt(DEMO_PASSWORD, "203.0.113.7").status_code == 200
    assert forwarded_attempt(DEMO_PASSWORD, "203.0.113.8").status_code == 302

    settings.LTC = {**settings.LTC, "TRUST_X_FORWARDED_FOR": False}
    client.post(reverse("logout"))
    forwarded_attempt(WRONG, "203.0.113.9")
    assert LoginFailure.objects.filter(ip_address="172.16.0.1").count() == 1


def test_login_form_needs_the_csrf_token(rep):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(LOGIN, {"username": "zhang.wei", "password": DEMO_PASSWORD})
    assert response.status_code == 403
    page = strict.get(LOGIN)
    token = page.cookies["csrftoken"].value
    response = strict.post(
        LOGIN, {"username": "zhang.wei", "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_logged_in_user_visiting_login_goes_home(client, rep):
    client.force_login(rep)
    response = client.get(LOGIN)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
