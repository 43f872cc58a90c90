"""Health check and the home page."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from pipeline.views import my_week


def _check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        ok, error = True, ""
    except Exception as exc:  # any failure is reported, not raised: this is the health check
        ok, error = False, str(exc)
    return {
        "ok": ok,
        "vendor": connection.vendor,
        "name": str(settings.DATABASES["default"]["NAME"]),
        "ms": round((time.monotonic() - started) * 1000, 1),
        **({"error": error} if error else {}),
    }


def _check_broker() -> dict:
    from ltc.celery import app

    started = time.monotonic()
    url = app.conf.broker_url or ""
    transport = url.split("://", 1)[0]
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        ok, error = True, ""
    except Exception as exc:  # reported, not raised
        ok, error = False, str(exc)
    return {
        "ok": ok,
        "transport": transport,
        "url": url.split("@")[-1] if transport.startswith("redis") else url,
        "ms": round((time.monotonic() - started) * 1000, 1),
        **({"error": error} if error else {}),
    }


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database, broker = _check_database(), _check_broker()
    ok = database["ok"] and broker["ok"]
    return JsonResponse(
        {"status": "ok" if ok else "error", "database": database, "broker": broker},
        status=200 if ok else 503,
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The home page is the user's week (pipeline.views.my_week)."""
    return my_week(request)
