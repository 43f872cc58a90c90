"""The scope vocabulary of API clients: "<resource>:read", "<resource>:write", "*:read" and "admin"."""

from __future__ import annotations

from collections.abc import Iterable

# Every resource of /api/v1/. Wave-2 resources (metrics, webhooks) are listed so clients can be given them.
API_RESOURCES: tuple[str, ...] = (
    "customers",
    "contacts",
    "products",
    "visits",
    "users",
    "org-units",
    "leads",
    "opportunities",
    "contracts",
    "invoices",
    "receipts",
    "metrics",
    "webhooks",
)
READ, WRITE = "read", "write"
ADMIN_SCOPE = "admin"
READ_ALL_SCOPE = "*:read"


def all_scopes() -> list[str]:
    return [ADMIN_SCOPE, READ_ALL_SCOPE] + [f"{r}:{a}" for r in API_RESOURCES for a in (READ, WRITE)]


def unknown_scopes(scopes: Iterable[str]) -> list[str]:
    known = set(all_scopes())
    return [scope for scope in scopes if scope not in known]


def scopes_allow(scopes: Iterable[str], resource: str, action: str, *, admin_only: bool = False) -> bool:
    """Does a client holding `scopes` pass for `action` on `resource`?

    "admin" passes everything. A resource whose writes are admin-only (users, org units) needs "admin" to
    write. A write scope implies the read scope of the same resource; "*:read" reads every resource.
    """
    held = set(scopes)
    if ADMIN_SCOPE in held:
        return True
    if action == WRITE:
        return not admin_only and f"{resource}:{WRITE}" in held
    return bool({f"{resource}:{READ}", f"{resource}:{WRITE}", READ_ALL_SCOPE} & held)
