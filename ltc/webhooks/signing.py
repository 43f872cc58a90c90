"""The signature scheme of webhook deliveries (standard library only, so a receiver can copy it).

Each POST carries:

    X-LTC-Event:      the event type, e.g. "opportunity.won"
    X-LTC-Delivery:   the delivery id (the same for every retry and replay of one event to one subscription:
                      receivers deduplicate on it)
    X-LTC-Timestamp:  unix seconds when this attempt was signed
    X-LTC-Signature:  "sha256=" + hex(HMAC-SHA256(secret, f"{timestamp}.{body}"))

where `body` is the exact bytes of the request body (UTF-8 JSON). Signing the timestamp with the body lets a
receiver refuse replays of an old captured request (`tolerance`, default 5 minutes).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_PREFIX = "sha256="
SECRET_PREFIX = "whsec_"
HEADER_EVENT = "X-LTC-Event"
HEADER_DELIVERY = "X-LTC-Delivery"
HEADER_TIMESTAMP = "X-LTC-Timestamp"
HEADER_SIGNATURE = "X-LTC-Signature"
DEFAULT_TOLERANCE = 300


def new_secret() -> str:
    """A signing secret: `whsec_` and 43 URL-safe characters (256 random bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def sign(secret: str, timestamp: int | str, body: bytes | str) -> str:
    """The X-LTC-Signature value for `body` sent at `timestamp` (unix seconds)."""
    message = f"{int(timestamp)}.".encode() + _as_bytes(body)
    digest = hmac.new(_as_bytes(secret), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(
    secret: str,
    timestamp: int | str,
    body: bytes | str,
    signature: str,
    tolerance: int = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> bool:
    """True when `signature` is the X-LTC-Signature of `body` at `timestamp` and the timestamp is within
    `tolerance` seconds of now (either side). Compares in constant time; never raises on malformed input."""
    try:
        ts = int(str(timestamp).strip())
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if tolerance is not None and abs(current - ts) > tolerance:
        return False
    if not isinstance(signature, str) or not signature.startswith(SIGNATURE_PREFIX):
        return False
    try:
        expected = sign(secret, ts, body)
    except (TypeError, ValueError):
        return False
    return hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace"))
