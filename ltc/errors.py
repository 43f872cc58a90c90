"""The project's error type and how it reaches API clients."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.core import validators as django_validators
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import translation
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from rest_framework import exceptions, fields, status
from rest_framework import validators as drf_validators
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


# Chinese for the framework messages that have no zh-hans catalog entry.
_CHINESE_OF = {
    "A valid biginteger is required.": "请填写合法的整数值。",
    "Integer value too large to convert to float": "整数值过大，无法转换为浮点数。",
    "Range query expects two values.": "范围查询需要两个值。",
    "Select a lookup.": "请选择查询方式。",
}


def _both_languages(message: Any) -> str:
    with translation.override("en"):
        english = str(message)
    with translation.override("zh-hans"):
        chinese = str(message)
    if chinese == english:
        chinese = _CHINESE_OF.get(english, "")
    return f"{english} {chinese}" if chinese else english


#: A framework message (gettext_lazy, placeholders kept) as this product writes every message: the English
#: then the Chinese, whatever the request language. A message that is already bilingual stays as it is.
bilingual = lazy(_both_languages, str)


def _classes_of(base: type, module: str) -> Iterator[type]:
    """`base` and its subclasses defined in `module` (or its submodules)."""
    seen: set[type] = set()
    todo = [base]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        if cls.__module__ == module or cls.__module__.startswith(module + "."):
            yield cls


def make_framework_messages_bilingual() -> None:
    """Once, at start-up (LtcConfig.ready): the default messages of DRF's fields, validators and exceptions
    (and the null-character check DRF's CharField adds) become bilingual. Fields read their class's
    `default_error_messages` when they are built, and a serializer builds its fields per instance, so this
    covers every serializer however early it was declared. Calling it again changes nothing."""
    for cls in _classes_of(fields.Field, "rest_framework"):
        if "default_error_messages" in cls.__dict__:
            cls.default_error_messages = {
                code: bilingual(message) for code, message in cls.__dict__["default_error_messages"].items()
            }
    for cls in _classes_of(exceptions.APIException, "rest_framework"):
        if "default_detail" in cls.__dict__:
            cls.default_detail = bilingual(cls.__dict__["default_detail"])
    exceptions.Throttled.extra_detail_singular = bilingual(exceptions.Throttled.extra_detail_singular)
    exceptions.Throttled.extra_detail_plural = bilingual(exceptions.Throttled.extra_detail_plural)
    for cls in vars(drf_validators).values():
        if not (isinstance(cls, type) and cls.__module__ == drf_validators.__name__):
            continue
        for name in ("message", "missing_message"):
            if name in cls.__dict__:
                setattr(cls, name, bilingual(cls.__dict__[name]))
    django_validators.ProhibitNullCharactersValidator.message = bilingual(
        django_validators.ProhibitNullCharactersValidator.message
    )


def form_field_messages_bilingual(field: Any) -> None:
    """A Django form field (an API filter's, built per request) answers its own messages and its validators'
    bilingual. A plural-aware message (ngettext_lazy keyed on a parameter) renders only with its parameters
    and is left as it is."""
    for validator in field.validators:
        code, message = getattr(validator, "code", None), getattr(validator, "message", None)
        if code and message:
            # Django's Field.run_validators answers error_messages[code] in place of the validator's message.
            field.error_messages.setdefault(code, message)
    field.error_messages = {
        code: bilingual(message) if str(message) else message
        for code, message in field.error_messages.items()
    }
    for subfield in getattr(field, "fields", ()):
        form_field_messages_bilingual(subfield)


_CHINESE = re.compile(r"[\u4e00-\u9fff]")


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
        message = _flatten(detail)
        if isinstance(message, str) and not _CHINESE.search(message):
            # A reason a library wrote in English only (a parser's "JSON parse error - …", a CSRF failure)
            # follows the exception's bilingual default.
            message = f"{exc.default_detail} {message}"
        response.data = {"message": message, "code": code, "errors": {}}
    return response
