"""Writes of API clients: create (the one moment the token is seen), deactivate, rotate."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import OrgUnit, User
from ltc.api.authentication import KEY_PREFIX, hash_key
from ltc.api.scopes import ADMIN_SCOPE, unknown_scopes
from ltc.errors import ApplicationError, NotAllowed
from ltc.models import ApiClient


def _new_key() -> tuple[str, str]:
    """(prefix, full key): `ltc_<8 hex>_<43 url-safe chars>` (256 random bits in the secret)."""
    prefix = secrets.token_hex(4)
    return prefix, f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"


def _service_role(scopes: list[str], org_unit: OrgUnit | None) -> str:
    return User.JobRole.ADMIN if ADMIN_SCOPE in scopes and org_unit is None else User.JobRole.SALES_REP


@transaction.atomic
def api_client_create(
    *, name: str, scopes: list[str], org_unit: OrgUnit | None = None, acting_user: User | None = None
) -> tuple[ApiClient, str]:
    """Create an API client and its service user; returns (client, raw token). The token is not stored
    (only its SHA-256): show it once. `acting_user` is the person creating it (an ADMIN, or None from the
    command line)."""
    if acting_user is not None and not acting_user.sees_everything:
        raise NotAllowed(_("Only an administrator may create API clients. 只有管理员可以创建 API 客户端。"))
    name = (name or "").strip()
    errors: dict[str, list] = {}
    if not name or len(name) > 128:
        errors["name"] = [_("1 to 128 characters. 1 到 128 个字符。")]
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        errors["scopes"] = [_("A list of scopes. 权限范围列表。")]
    else:
        unknown = unknown_scopes(scopes)
        if unknown:
            errors["scopes"] = [_("Unknown scopes: %(s)s. 未知权限范围。") % {"s": ", ".join(unknown)}]
    if errors:
        raise ApplicationError(_("Please correct the errors below. 请更正以下错误。"), extra=errors)
    scopes = sorted(set(scopes))
    prefix, raw = _new_key()
    while ApiClient.objects.filter(key_prefix=prefix).exists():
        prefix, raw = _new_key()
    user = User(
        username=f"api-client-{prefix}",
        full_name=f"API: {name}"[:128],
        org_unit=org_unit,
        job_role=_service_role(scopes, org_unit),
        is_active=True,
        is_staff=False,
    )
    user.set_unusable_password()
    user.save()
    client = ApiClient.objects.create(
        name=name,
        key_prefix=prefix,
        key_hash=hash_key(raw),
        scopes=scopes,
        org_unit=org_unit,
        acting_user=user,
        created_by=acting_user,
    )
    return client, raw


@transaction.atomic
def api_client_set_active(*, client: ApiClient, is_active: bool) -> ApiClient:
    """Disable (or re-enable) a client and its service user; a disabled client's token answers 401."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    client.is_active = is_active
    client.save(update_fields=["is_active", "updated_at"])
    User.objects.filter(pk=client.acting_user_id).update(is_active=is_active)
    return client


@transaction.atomic
def api_client_rotate_key(*, client: ApiClient) -> tuple[ApiClient, str]:
    """Replace the token; the old one stops working at once. Returns (client, new raw token)."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    prefix, raw = _new_key()
    while ApiClient.objects.filter(key_prefix=prefix).exists():
        prefix, raw = _new_key()
    client.key_prefix, client.key_hash = prefix, hash_key(raw)
    client.save(update_fields=["key_prefix", "key_hash", "updated_at"])
    return client, raw
