"""Small generic bases for the apps' APIs: parse → selector / service → render.

A resource's API subclasses one of these and names its selector (`get_queryset`), its serializers, its
FilterSet and the service it calls (`perform_create` / `perform_update`):

- `ListApi` — GET a filtered, keyset-paginated list (`?fields=` trims the rows).
- `ListCreateApi` — the same plus POST, which calls `perform_create(data)` and answers 201 with an ETag.
- `DetailApi` — GET one visible record (404 otherwise) with its ETag; If-None-Match → 304.
- `DetailUpdateApi` — plus PATCH: If-Match required (428/412), the row locked while compared and updated.
- `BulkUpsertApi` — POST `{"rows": [...]}` through `ltc.api.bulk.bulk_upsert` with the view's `bulk_spec`.
- `ApiView` — the base of all: scope permission, per-client throttle, and every `post` defined by a subclass
  is wrapped with `Idempotency-Key` handling. Wave-2 action endpoints (qualify, win, issue invoice…)
  subclass `ApiView` (or `DetailApi` for the lookup) and define `post`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.request import Request
from rest_framework.response import Response

from ltc.api.bulk import BulkRowsInvalid, BulkSpec, bulk_upsert
from ltc.api.concurrency import check_if_match, etag_for, not_modified
from ltc.api.filters import MAX_ID, ApiFilterBackend
from ltc.api.idempotency import idempotent
from ltc.api.pagination import DEFAULT_ORDERING, KeysetCursorPagination
from ltc.api.permissions import ApiClientRateThrottle, ApiScopePermission, api_client_of
from ltc.api.rows import row_plan
from ltc.api.serializers import BulkResultSerializer, raw_length_errors, requested_fields


class ApiView(GenericAPIView):
    #: The resource name in scopes ("customers" → "customers:read" / "customers:write").
    api_resource: ClassVar[str] = ""
    #: Writes need the "admin" scope (clients) or an ADMIN (browser): users and org units.
    admin_write_only: ClassVar[bool] = False
    #: Pin the scope action ("read"/"write") whatever the method, e.g. a POST search that only reads.
    api_action: ClassVar[str | None] = None
    #: POST answers 201 Created (documented as such in the schema).
    creates: ClassVar[bool] = False
    output_serializer_class: ClassVar[Any] = None
    input_serializer_class: ClassVar[Any] = None

    permission_classes = [ApiScopePermission]
    throttle_classes = [ApiClientRateThrottle]
    pagination_class = None
    filter_backends: ClassVar[list] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        post = cls.__dict__.get("post")
        if post is not None:
            cls.post = idempotent(post)

    def get_serializer_class(self):
        return self.output_serializer_class

    def output_context(self, fields: set[str] | None = None) -> dict[str, Any]:
        return {"request": self.request, "view": self, "fields": fields}

    def render(self, instance: Model, *, fields: set[str] | None = None) -> dict:
        return self.output_serializer_class(instance, context=self.output_context(fields)).data

    def validated_input(self, *, partial: bool = False, instance: Model | None = None) -> dict[str, Any]:
        context = {"request": self.request, "view": self, "instance": instance}
        serializer = self.input_serializer_class(data=self.request.data, partial=partial, context=context)
        valid = serializer.is_valid()
        errors = {} if valid else dict(serializer.errors)
        errors.update(raw_length_errors(serializer, self.request.data))
        if errors:
            raise exceptions.ValidationError(errors)
        return dict(serializer.validated_data)


class ListApi(ListModelMixin, ApiView):
    pagination_class = KeysetCursorPagination
    filter_backends: ClassVar[list] = [ApiFilterBackend]
    filterset_class: ClassVar[Any] = None

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        fields = requested_fields(request, self.output_serializer_class)
        queryset = self.filter_queryset(self.get_queryset())
        plan = row_plan(self.output_serializer_class, frozenset(fields) if fields else None)
        if plan is not None:
            # Every field is a plain column (ltc/api/rows.py): read the page as values() and render each row
            # from them. The selector's select_related (there for the browser pages) would build up to four
            # model instances per row for nothing; the joins the visibility filter needs stay in WHERE.
            ordering = getattr(self, "cursor_ordering", DEFAULT_ORDERING)
            queryset = queryset.select_related(None).values(*plan.lookups(ordering))
            page = self.paginate_queryset(queryset)
            return self.get_paginated_response(plan.render(page))
        serializer = self.output_serializer_class(many=True, context=self.output_context(fields))
        serializer.instance = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer.data)


class ListCreateApi(ListApi):
    """Subclasses define `perform_create(self, data) -> Model`, which calls the resource's service."""

    creates = True

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.perform_create(self.validated_input())  # type: ignore[attr-defined]
        headers = {
            "ETag": etag_for(instance),
            "Location": request.build_absolute_uri(f"{request.path}{instance.pk}/"),
        }
        return Response(self.render(instance), status=status.HTTP_201_CREATED, headers=headers)


class DetailApi(ApiView):
    lookup_url_kwarg = "pk"

    def get_object(self, *, for_update: bool = False) -> Model:
        pk = self.kwargs.get(self.lookup_url_kwarg)
        try:
            pk = int(pk)
        except (TypeError, ValueError) as exc:
            raise Http404 from exc
        if not 1 <= pk <= MAX_ID:
            raise Http404
        queryset: QuerySet = self.get_queryset()
        if for_update:
            queryset = queryset.select_for_update(of=("self",))
        instance = queryset.filter(pk=pk).first()
        if instance is None:
            raise Http404
        return instance

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        fields = requested_fields(request, self.output_serializer_class)
        instance = self.get_object()
        etag = etag_for(instance)
        if not_modified(request, instance):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(self.render(instance, fields=fields), headers={"ETag": etag})


class DetailUpdateApi(DetailApi):
    """Subclasses define `perform_update(self, instance, data) -> Model`, which calls the service."""

    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            instance = self.get_object(for_update=True)
            check_if_match(request, instance)
            data = self.validated_input(partial=True, instance=instance)
            self.perform_update(instance, data)  # type: ignore[attr-defined]
        instance = self.get_object()
        return Response(self.render(instance), headers={"ETag": etag_for(instance)})


class BulkUpsertApi(ApiView):
    """POST {"rows": [...]}: create or update by external id, all or nothing (see ltc/api/bulk.py).

    API clients need the resource's write scope; in the browser only an ADMIN may bulk-load.
    """

    bulk_spec: ClassVar[BulkSpec]
    output_serializer_class = BulkResultSerializer

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = cls.__dict__.get("bulk_spec")
        if spec is not None:
            cls.api_resource = spec.resource
            cls.input_serializer_class = spec.input_serializer()

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        client = api_client_of(request)
        if client is None and not request.user.sees_everything:
            raise exceptions.PermissionDenied(
                _("Only an administrator may bulk-load. 只有管理员可以批量导入。")
            )
        rows = request.data.get("rows") if isinstance(request.data, dict) else None
        try:
            result = bulk_upsert(spec=self.bulk_spec, rows=rows, actor=request.user, api_client=client)
        except BulkRowsInvalid as invalid:
            return Response(
                {"message": invalid.message, "code": "invalid", "errors": {"rows": invalid.errors}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(result.as_dict())


class ActionApi(DetailApi):
    """POST /<resource>/{id}/<action>/: a workflow step on one visible record (404 otherwise).

    Parse the body with `input_serializer_class` (None: no body), call ONE service in `perform_action(instance,
    data)` (which passes `actor=request.user`) and render what it returns with `output_serializer_class`, with
    that record's ETag. `creates` answers 201 (the action made a new record: convert, win, a gate decision).
    ApplicationError → 400, NotAllowed → 403 (ltc/errors.py); Idempotency-Key is honoured (ApiView).
    """

    http_method_names = ["post", "options"]

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        data = self.validated_input() if self.input_serializer_class is not None else {}
        result = self.perform_action(instance, data)  # type: ignore[attr-defined]
        return Response(
            self.render(result),
            status=status.HTTP_201_CREATED if self.creates else status.HTTP_200_OK,
            headers={"ETag": etag_for(result)},
        )
