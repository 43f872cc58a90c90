"""Fixtures of the webhook tests: a real HTTP receiver on 127.0.0.1, subscriptions, and the contracts cast."""

from __future__ import annotations

import http.server
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from ltc.models import WebhookSubscription
from ltc.webhooks import verify_signature
from ltc.webhooks.services import subscription_create
from tests.contracts.conftest import cast, executing  # noqa: F401  (fixtures reused here)


@dataclass
class Received:
    path: str
    headers: Any  # http.client.HTTPMessage: names are case-insensitive, as in HTTP
    body: bytes
    verified: bool

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the receiver got, and what it answers next (`status`, `body`, extra `headers`)."""

    url: str = ""
    secret: str = ""
    status: int = 200
    delay: float = 0.0  # seconds to wait before answering
    body: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            verified = verify_signature(
                state.secret,
                self.headers.get("X-LTC-Timestamp", ""),
                body,
                self.headers.get("X-LTC-Signature", ""),
            )
            state.requests.append(Received(self.path, self.headers, body, verified))
            time.sleep(state.delay)
            self.send_response(state.status)
            for name, value in state.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/ltc"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def subscribe(url: str, event_types: list[str], **kwargs) -> tuple[WebhookSubscription, str]:
    return subscription_create(
        name=kwargs.pop("name", "ERP hook"), target_url=url, event_types=event_types, **kwargs
    )
