"""Webhooks for ERP/BI integrations: signed, retried, logged deliveries of business events.

- `ltc.events.emit` / `emit_for` write an event in the business transaction (the outbox);
- `ltc.webhooks.services` fans events out to subscriptions (one delivery each) and delivers them;
- `ltc.webhooks.verify_signature` is what a receiver uses to check a delivery (see docs/WEBHOOKS.md).
"""

from ltc.webhooks.signing import (
    HEADER_DELIVERY,
    HEADER_EVENT,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    new_secret,
    sign,
    verify_signature,
)

__all__ = (
    "HEADER_DELIVERY",
    "HEADER_EVENT",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "new_secret",
    "sign",
    "verify_signature",
)
