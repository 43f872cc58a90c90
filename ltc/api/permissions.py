"""Who may call an endpoint: scopes for API clients, role for browser users; throttling per client."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from ltc.api.scopes import ADMIN_SCOPE, READ, WRITE, scopes_allow
from ltc.models import ApiClient


def api_client_of(request: Request) -> ApiClient | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiClient) else None


def api_action_of(request: Request, view) -> str:
    """ "read" for GET/HEAD/OPTIONS, "write" otherwise; a view may pin it with `api_action`."""
    pinned = getattr(view, "api_action", None)
    if pinned:
        return pinned
    return READ if request.method in SAFE_METHODS else WRITE


class ApiScopePermission(BasePermission):
    """An API client needs the scope for the view's `api_resource` and the action (read/write).

    Browser (session) users are checked by role: writes to an `admin_write_only` resource (users, org units)
    need an ADMIN; everything else is left to the visibility selectors (404) and the services (403).
    Anonymous requests are refused with a 401 (the token authentication supplies WWW-Authenticate).
    """

    def has_permission(self, request: Request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            raise exceptions.NotAuthenticated()
        resource = getattr(view, "api_resource", "")
        action = api_action_of(request, view)
        admin_only = action == WRITE and getattr(view, "admin_write_only", False)
        client = api_client_of(request)
        if client is not None:
            if not scopes_allow(client.scopes, resource, action, admin_only=admin_only):
                needed = ADMIN_SCOPE if admin_only else f"{resource}:{action}"
                raise exceptions.PermissionDenied(
                    _("This API client lacks the scope %(scope)s. 该 API 客户端缺少权限范围 %(scope)s。")
                    % {"scope": needed}
                )
            return True
        if admin_only and not user.sees_everything:
            raise exceptions.PermissionDenied(
                _("Only an administrator may change this. 只有管理员可以修改。")
            )
        return True


class ApiClientRateThrottle(SimpleRateThrottle):
    """Per API client, at REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_client"] (read on each request)."""

    scope = "api_client"

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request: Request, view) -> str | None:
        client = api_client_of(request)
        if client is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client.pk}
