"""Production settings (QUALITY.md R7): `check --deploy` is clean, secrets are required, sessions expire."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
LONG_SECRET = "x7#Qp9!vLm2@Zr4$Tn6^Wb8&Yc1*Hd3(Jf5)Kg0-Ns2+Pe4=Ua6_Io8~Ol1"


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LTC_"))}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=LONG_SECRET,
        DJANGO_ALLOWED_HOSTS="crm.example.com",
        LTC_VAR_DIR=str(tmp_path / "var"),
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def production_settings(tmp_path: Path, **extra: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k, None) for k in ["
        "'DEBUG', 'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SECURE_HSTS_SECONDS', 'SESSION_COOKIE_HTTPONLY', 'SESSION_COOKIE_AGE', 'ALLOWED_HOSTS', "
        "'X_FRAME_OPTIONS', 'SECURE_CONTENT_TYPE_NOSNIFF', 'AUTHENTICATION_BACKENDS']}, default=str))"
    )
    result = run(["-c", code], production_env(tmp_path, DJANGO_SETTINGS_MODULE="ltc.settings", **extra))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_has_no_warnings_in_production(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_does_warn_in_the_embedded_debug_mode(tmp_path):
    # The same check must be able to fail: with DEBUG on it reports the insecure settings.
    env = production_env(tmp_path, DJANGO_DEBUG="1")
    del env["DJANGO_SECRET_KEY"]
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W018" in result.stderr + result.stdout  # DEBUG on in deployment


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.fixture(scope="module")
def production_values(tmp_path_factory) -> dict:
    return production_settings(tmp_path_factory.mktemp("production"))


def test_production_settings_are_hardened(production_values):
    values = production_values
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["ALLOWED_HOSTS"] == ["crm.example.com"]
    assert values["AUTHENTICATION_BACKENDS"] == ["accounts.auth.LockoutModelBackend"]


def test_sessions_expire(production_values):
    values = production_values
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert 0 < values["SESSION_COOKIE_AGE"] <= 12 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


def test_health_check_is_exempt_from_the_https_redirect(tmp_path):
    code = (
        "import django; django.setup(); from django.test import Client; "
        "c = Client(HTTP_HOST='crm.example.com'); "
        "print(c.get('/healthz').status_code, c.get('/accounts/login/').status_code)"
    )
    result = run(["-c", code], production_env(tmp_path, DJANGO_SETTINGS_MODULE="ltc.settings"))
    assert result.returncode == 0, result.stderr
    healthz_status, login_status = result.stdout.split()[-2:]
    assert login_status == "301"  # plain HTTP is sent to HTTPS ...
    assert healthz_status != "301"  # ... but the probe is answered where it asked


def test_csrf_middleware_is_on():
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE


@pytest.mark.django_db
def test_session_cookie_carries_an_expiry(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get("/")
    assert response.status_code == 200
    # Expire-at-browser-close: the session cookie is a browser-session cookie, and the server side
    # record expires after SESSION_COOKIE_AGE.
    assert client.session.get_expire_at_browser_close() is True
    assert 0 < client.session.get_expiry_age() <= 12 * 60 * 60
