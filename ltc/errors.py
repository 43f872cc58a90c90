"""The project's error type and how it reaches API clients."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A business rule refused the request. Becomes a 400 (API) or a form message (browser).

    `extra` may carry field errors: {"field": ["message", ...]}.
    """

    def __init__(self, message: Any, extra: dict | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
        self.code = code

    def __str__(self) -> str:
        return str(self.message)


class NotAllowed(ApplicationError):
    """The actor may not do this (authority, role, visibility). Becomes a 403."""

    def __init__(self, message: Any, extra: dict | None = None) -> None:
        super().__init__(message, extra, code="permission_denied")


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """One error envelope for the whole API: {"message": ..., "code": ..., "errors": {...}}."""
    if isinstance(exc, NotAllowed):
        return Response(
            {"message": str(exc.message), "code": exc.code, "errors": _flatten(exc.extra)},
            status=status.HTTP_403_FORBIDDEN,
        )
    if isinstance(exc, ApplicationError):
        return Response(
            {"message": str(exc.message), "code": exc.code, "errors": _flatten(exc.extra)},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        message = _("Invalid input: see the errors of each field. 输入有误，请查看各字段的错误。")
        response.data = {"message": message, "code": "invalid", "errors": _flatten(errors)}
    else:
        detail = getattr(exc, "detail", str(exc))
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"message": _flatten(detail), "code": code, "errors": {}}
    return response
