"""Small cross-cutting middleware."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ServerTimingMiddleware:
    """Add `Server-Timing: app;dur=<ms>`: the time Django spent on the request, from this middleware in.

    First in MIDDLEWARE, so the figure covers the other middleware, the view, the queries and rendering, but
    not the WSGI server or the network. Benchmarks read it (bench/list_latency.py); browsers show it in their
    developer tools. It reveals nothing beyond what a client can time itself.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        timing = f"app;dur={elapsed_ms:.2f}"
        existing = response.get("Server-Timing")
        response["Server-Timing"] = f"{existing}, {timing}" if existing else timing
        return response
