"""`Idempotency-Key` on POST: the first response is stored and replayed; another body is a 422.

How a POST with a key runs (`run_idempotent`):
1. The body is hashed (method, path and the canonical JSON of the parsed body).
2. In one transaction: INSERT the (principal, key) row, run the handler inside a savepoint, store its status
   and body in that row, commit. A concurrent request with the same key blocks on the unique index until
   the first commits, then reads the stored response and replays it: the work never runs twice. If the
   first fails with a server error, everything rolls back (row included) and the key can be retried.
3. A key seen before: same hash → the stored status and body (header `Idempotent-Replayed: true`);
   another hash → 422; a key is per principal ("client:<id>" for API clients, "user:<id>" otherwise).

Responses below 500 are stored (a 400 for a bad body is the answer to that body). Records older than
`settings.LTC_API_IDEMPOTENCY_TTL_HOURS` are purged by `idempotency_records_purge`.

`ApiView` (ltc/api/views.py) wraps every `post` of its subclasses with `idempotent`, so a new action
endpoint gets this by subclassing it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from ltc.api.permissions import api_client_of
from ltc.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"
STORED_HEADERS = ("Location", "ETag")


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = gettext_lazy(
        "This Idempotency-Key was used with another request body. 该幂等键已用于不同的请求内容。"
    )
    default_code = "idempotency_key_reused"


def principal_of(request: Request) -> str:
    client = api_client_of(request)
    return f"client:{client.pk}" if client is not None else f"user:{request.user.pk}"


def request_hash(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    raw = f"{request.method}\n{request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _key_of(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise exceptions.ValidationError(
            {HEADER: [_("1 to 255 printable ASCII characters. 须为 1 到 255 个可打印 ASCII 字符。")]}
        )
    return key


def _replay(record: IdempotencyRecord) -> Response:
    data = json.loads(record.response_body) if record.response_body else None
    response = Response(data, status=record.status_code)
    for name, value in (record.response_headers or {}).items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _stored_body(response: Response) -> str:
    if response.data is None:
        return ""
    # What is stored is exactly the JSON the client receives.
    return JSONRenderer().render(response.data).decode()


def run_idempotent(view, request: Request, handler, *args, **kwargs) -> Response:
    key = _key_of(request)
    if key is None:
        return handler(view, request, *args, **kwargs)
    principal, digest = principal_of(request), request_hash(request)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                principal=principal,
                key=key,
                request_hash=digest,
                method=request.method,
                path=request.path[:255],
            )
            try:
                with transaction.atomic():
                    response = handler(view, request, *args, **kwargs)
            except Exception as exc:  # handled like DRF's dispatch would, so the answer can be stored
                response = view.handle_exception(exc)
            if response.status_code >= 500:
                raise _ServerError(response)
            record.status_code = response.status_code
            record.response_body = _stored_body(response)
            record.response_headers = {h: response[h] for h in STORED_HEADERS if response.has_header(h)}
            record.save(update_fields=["status_code", "response_body", "response_headers"])
            return response
    except _ServerError as failed:
        return failed.response
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
        if existing is None:
            raise
    if existing.request_hash != digest:
        raise IdempotencyKeyReused()
    return _replay(existing)


class _ServerError(Exception):
    """Carries a 5xx response out of the transaction so that it rolls back (row included)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def idempotent(method):
    """Decorate an APIView's `post` to honour `Idempotency-Key`."""

    if getattr(method, "_ltc_idempotent", False):
        return method

    @functools.wraps(method)
    def wrapper(view, request, *args, **kwargs):
        return run_idempotent(view, request, method, *args, **kwargs)

    wrapper._ltc_idempotent = True  # type: ignore[attr-defined]
    return wrapper


def idempotency_records_purge(*, older_than: timedelta | None = None) -> int:
    """Delete stored responses older than the TTL; returns how many went."""
    hours = getattr(settings, "LTC_API_IDEMPOTENCY_TTL_HOURS", 24)
    cutoff = timezone.now() - (older_than if older_than is not None else timedelta(hours=hours))
    deleted, _detail = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
