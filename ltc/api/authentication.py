"""`Authorization: Token <key>` for API clients.

A key looks like `ltc_<prefix>_<secret>`: the prefix finds the row (one indexed query), the SHA-256 of the
whole key is compared in constant time. The secret has 256 bits of entropy, so a plain hash (no salt, no
slow KDF) is enough: nothing to brute-force.

What a token request runs as:
- `request.auth` is the `ApiClient`;
- `request.user` is the client's service user (`client.acting_user`): services record it as the actor. Its
  visibility is the client's, not a person's: the authentication sets `user._ltc_scope` to
  `scope_for_org_unit(client.org_unit)` (the whole company when the client has no org unit), and
  `accounts.selectors.scope_for(user)` returns that cached scope, so every `*_visible_to(request.user)`
  selector filters by the client's org unit. The service user is an ADMIN only for a client holding the
  "admin" scope with no org unit; otherwise a SALES_REP (no authority of its own) filed in the client's unit.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.selectors import scope_for_org_unit
from ltc.models import ApiClient

KEYWORD = "Token"
KEY_PREFIX = "ltc"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def split_key(raw_key: str) -> tuple[str, str] | None:
    """("<prefix>", "<secret>") of `ltc_<prefix>_<secret>`, or None when the key is not of that shape."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid token header: use 'Authorization: Token <key>'. 令牌格式错误。")
            )
        try:
            raw_key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token. 令牌无效。")) from exc
        return self.authenticate_key(raw_key)

    def authenticate_key(self, raw_key: str):
        invalid = exceptions.AuthenticationFailed(_("Invalid token. 令牌无效。"))
        parts = split_key(raw_key)
        if parts is None:
            raise invalid
        # key_prefix is unique: no ORDER BY (first() would add one, and compiling it costs more than the read).
        client = next(
            iter(ApiClient.objects.select_related("acting_user", "org_unit").filter(key_prefix=parts[0])[:1]),
            None,
        )
        if client is None or not hmac.compare_digest(client.key_hash, hash_key(raw_key)):
            raise invalid
        user = client.acting_user
        if not client.is_active or not user.is_active:
            raise exceptions.AuthenticationFailed(_("This API client is disabled. 该 API 客户端已停用。"))
        # The service user's unit is the client's (already loaded): no query when a service reads it.
        if user.org_unit_id == client.org_unit_id:
            user.org_unit = client.org_unit
        user._ltc_scope = scope_for_org_unit(client.org_unit)  # type: ignore[attr-defined]
        self._touch(client)
        return user, client

    @staticmethod
    def _touch(client: ApiClient) -> None:
        """Record use at most once a minute (a conditional UPDATE, no row lock)."""
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at >= LAST_USED_RESOLUTION:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
            client.last_used_at = now

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD
