"""One HTTP POST of a webhook body, with a short timeout and no redirects (standard library only)."""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

USER_AGENT = "LTC-CRM-Webhooks/1"
RESPONSE_LIMIT = 2000


@dataclass(frozen=True)
class HttpResult:
    """What came back: a status code and the (truncated) body, or an error when nothing did."""

    status_code: int | None
    body: str
    error: str
    duration_ms: int
    retry_after: int | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer, not an instruction: re-posting a signed body elsewhere is not ours to decide."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _read(response, limit: int) -> str:
    try:
        return response.read(limit).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return ""


def _retry_after(headers) -> int | None:
    value = headers.get("Retry-After") if headers is not None else None
    if value is None:
        return None
    try:
        return max(0, int(value.strip()))
    except ValueError:
        return None  # an HTTP date: ignored, the backoff applies


def post_json(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> HttpResult:
    """POST `body` to `url`. Never raises for network or HTTP errors: they come back in the result."""
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json; charset=utf-8")
    request.add_header("User-Agent", USER_AGENT)
    for name, value in headers.items():
        request.add_header(name, value)
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        with _OPENER.open(request, timeout=timeout) as response:
            text = _read(response, RESPONSE_LIMIT)
            return HttpResult(response.status, text, "", elapsed())
    except urllib.error.HTTPError as exc:
        text = _read(exc, RESPONSE_LIMIT)
        return HttpResult(exc.code, text, "", elapsed(), _retry_after(exc.headers))
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return HttpResult(None, "", f"{type(exc).__name__}: {reason}"[:500], elapsed())
    except (http.client.HTTPException, ValueError) as exc:
        return HttpResult(None, "", f"{type(exc).__name__}: {exc}"[:500], elapsed())
