"""Optimistic concurrency: an ETag on every detail read, `If-Match` required on every update.

The ETag is a version tag, a hash of the model, the id and `updated_at` (every service bumps `updated_at`
when it saves). It is sent strong (`"…"`) so that If-Match can compare it; a weak form (`W/"…"`) sent back
is accepted too. The update APIs lock the row (`select_for_update`), compare, and only then call the service,
so two clients interleaving updates cannot both pass with the same tag.
"""

from __future__ import annotations

import hashlib

from django.db.models import Model
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = _(
        "This update needs an If-Match header with the ETag of your last read. 更新需要 If-Match 请求头。"
    )
    default_code = "precondition_required"


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _(
        "The record changed since you read it: read it again, then retry. 记录已被修改，请重新读取后再试。"
    )
    default_code = "precondition_failed"


def etag_for(instance: Model) -> str:
    updated_at = getattr(instance, "updated_at", None)
    version = updated_at.isoformat() if updated_at is not None else ""
    raw = f"{instance._meta.label_lower}:{instance.pk}:{version}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def _tags(header: str) -> set[str]:
    tags = set()
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag:
            tags.add(tag)
    return tags


def check_if_match(request: Request, instance: Model) -> None:
    """428 when If-Match is missing, 412 when it names no current version of `instance`."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired()
    tags = _tags(header)
    if "*" in tags:
        return
    if etag_for(instance) not in tags:
        raise PreconditionFailed()


def not_modified(request: Request, instance: Model) -> bool:
    """Does the request's If-None-Match already name the current version (answer 304)?"""
    header = request.headers.get("If-None-Match", "").strip()
    if not header:
        return False
    tags = _tags(header)
    return "*" in tags or etag_for(instance) in tags
