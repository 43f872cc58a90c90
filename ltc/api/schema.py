"""OpenAPI 3 for the API (drf-spectacular): request/response serializers per method, the error responses
every operation can give, the headers (Idempotency-Key, If-Match, If-None-Match) and `?fields=`, the token
scheme. The docs pages are in ltc/api/docs.py."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from ltc.api.serializers import FIELDS_PARAM, ErrorSerializer
from ltc.api.views import ActionApi

_ERRORS = {
    "400": "Invalid input: `errors` names each field (bulk: each row's index and field).",
    "401": "No or invalid token.",
    "403": "The client lacks the scope, or the user the role, for this.",
    "404": "No such record, or not visible to the caller.",
    "406": "The Accept header asks for a format the API does not serve.",
    "409": "A concurrent request conflicts with this one.",
    "412": "If-Match names a stale version: read again.",
    "415": "The body is not JSON.",
    "422": "The Idempotency-Key was used with another body.",
    "428": "If-Match is required.",
    "429": "Throttled: retry after the Retry-After header.",
}


def _error(code: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=_ERRORS[code])


def _model_field_of(field: serializers.Field):
    """The model field behind a ModelSerializer field with a plain source, else None."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source or field.source == "*":
        return None
    try:
        return model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None


def _blank_allowed(field: serializers.Field) -> bool:
    """Can this response field hold ""? DRF drops `allow_blank` from read-only model fields, so the model
    decides (a lead not yet graded has grade "", a person without an e-mail address has email "")."""
    if not isinstance(field, serializers.CharField | serializers.ChoiceField):
        return False
    if getattr(field, "allow_blank", False):
        return True
    model_field = _model_field_of(field)
    return bool(model_field is not None and model_field.blank and not model_field.null)


_CHILD_LISTS: dict[type, type] = {}


def child_list_serializer(output: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The envelope of a child list, one class per output serializer (one schema component each)."""
    if output not in _CHILD_LISTS:
        name = output.__name__.removesuffix("Serializer") + "ListSerializer"
        _CHILD_LISTS[output] = type(
            name,
            (serializers.Serializer,),
            {
                "__module__": __name__,
                "__doc__": "The whole list in one answer (not paginated).",
                "next": serializers.CharField(allow_null=True, read_only=True, help_text="Always null."),
                "results": output(many=True, read_only=True),
            },
        )
    return _CHILD_LISTS[output]


class LtcAutoSchema(AutoSchema):
    def _view_attr(self, name: str):
        return getattr(self.view, name, None)

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "response" or not _blank_allowed(field):
            return schema
        if isinstance(schema.get("enum"), list) and "" not in schema["enum"]:
            # drf-spectacular's enum hook turns the "" into a BlankEnum alternative.
            schema["enum"] = [*schema["enum"], ""]
        elif schema.get("type") == "string" and "format" in schema:
            # "" is a string but no e-mail address or URL: the format holds only for a non-blank value.
            value_format = schema.pop("format")
            schema.pop("type")
            schema["anyOf"] = [{"type": "string", "format": value_format}, {"type": "string", "maxLength": 0}]
        return schema

    def get_request_serializer(self):
        return self._view_attr("input_serializer_class") or super().get_request_serializer()

    def _is_child_list(self) -> bool:
        """GET on an action endpoint lists the record's children in one answer (e.g. an opportunity's gate
        decisions): {"next": null, "results": [...]}, no `?fields=`, no ETag."""
        return self.method == "GET" and isinstance(self.view, ActionApi)

    def get_response_serializers(self):
        output = self._view_attr("output_serializer_class")
        if output is None:
            return super().get_response_serializers()
        if self._is_child_list():
            return child_list_serializer(output)
        return output

    def _is_create_operation(self) -> bool:
        return self.method == "POST" and bool(self._view_attr("creates"))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if not hasattr(self.view, "api_resource"):
            return responses
        codes = ["400", "401", "403", "404", "406", "429"]
        if self.method in ("POST", "PATCH", "PUT"):
            codes.append("415")
        if self.method == "POST":
            codes += ["409", "422"]
        if self.method in ("PATCH", "PUT"):
            codes += ["409", "412", "428"]
        for code in codes:
            responses.setdefault(code, self._get_response_for_code(_error(code), code, direction=direction))
        # The web server (gunicorn, a proxy) refuses an over-long request line before the API sees it.
        responses.setdefault("414", {"description": "The URL is too long (answered by the web server)."})
        if self.method == "GET" and not self._is_list_view() and not self._is_child_list():
            responses.setdefault(
                "304", {"description": "Not modified (If-None-Match names the current ETag)."}
            )
        return responses

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if not hasattr(self.view, "api_resource"):
            return params
        if (
            self.method == "GET"
            and self._view_attr("output_serializer_class") is not None
            and not self._is_child_list()
        ):
            params.append(
                OpenApiParameter(
                    FIELDS_PARAM,
                    str,
                    OpenApiParameter.QUERY,
                    description="Comma-separated field names: render only these.",
                )
            )
            if not self._is_list_view():
                params.append(
                    OpenApiParameter(
                        "If-None-Match",
                        str,
                        OpenApiParameter.HEADER,
                        description="An ETag from an earlier read: 304 when unchanged.",
                    )
                )
        if self.method == "POST":
            params.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    # What ltc.api.idempotency accepts: 1 to 255 printable ASCII characters.
                    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~][ -~]*$"},
                    OpenApiParameter.HEADER,
                    description="Any unique string (≤ 255 printable ASCII): a retry with the same key and body "
                    "replays the first response; the same key with another body is a 422.",
                )
            )
        if self.method in ("PATCH", "PUT"):
            params.append(
                OpenApiParameter(
                    "If-Match",
                    # Blank is the same as missing (428).
                    {"type": "string", "minLength": 1, "pattern": "\\S"},
                    OpenApiParameter.HEADER,
                    required=True,
                    description="The ETag of your last read of this record (428 if missing, 412 if stale).",
                )
            )
        return params


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "ltc.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'An API client token, sent as "Token ltc_<prefix>_<secret>".',
        }
