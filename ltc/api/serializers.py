"""Serializer bases of the API: output trimming (`?fields=`), the error envelope and bulk results."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.request import Request

FIELDS_PARAM = "fields"


class OutputSerializer(serializers.ModelSerializer):
    """A read representation. With `context["fields"]` (a set) only those fields are rendered."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        wanted = self.context.get("fields")
        if wanted:
            for name in list(self.fields):
                if name not in wanted:
                    self.fields.pop(name)


def requested_fields(request: Request, serializer_class: type[serializers.Serializer]) -> set[str] | None:
    """The `?fields=a,b,c` set, checked against the serializer's fields (400 naming unknown ones)."""
    raw = request.query_params.get(FIELDS_PARAM)
    if raw is None:
        return None
    wanted = {name.strip() for name in raw.split(",") if name.strip()}
    if not wanted:
        return None
    known = set(serializer_class().fields)
    unknown = sorted(wanted - known)
    if unknown:
        raise exceptions.ValidationError(
            {
                FIELDS_PARAM: [
                    _("Unknown field(s): %(names)s. 未知字段：%(names)s。") % {"names": ", ".join(unknown)}
                ]
            }
        )
    return wanted


def raw_length_errors(serializer: serializers.Serializer, data: object) -> dict[str, list[str]]:
    """Text fields longer than their `max_length` as sent. DRF trims surrounding whitespace before it checks
    the length, so 255 characters and a run of trailing spaces passed, while the schema's maxLength (what
    clients validate against) is about the value sent."""
    if not isinstance(data, dict):
        return {}
    errors: dict[str, list[str]] = {}
    for name, field in serializer.fields.items():
        max_length = getattr(field, "max_length", None)
        value = data.get(field.field_name)
        if (
            isinstance(field, serializers.CharField)
            and not field.read_only
            and max_length is not None
            and isinstance(value, str)
            and len(value) > max_length
        ):
            errors[name] = [str(field.error_messages["max_length"]).format(max_length=max_length)]
    return errors


class ErrorSerializer(serializers.Serializer):
    """The one error envelope of the API (ltc.errors.api_exception_handler)."""

    message = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.JSONField(), help_text="Field errors: {field: [messages]} (bulk: {rows: [...]})."
    )


class BulkRowErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    field = serializers.CharField()
    message = serializers.CharField()


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference by id; a non-integer or out-of-range id is a field error, never a database error."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            value = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= value <= 2**63 - 1:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(value)


class IdListField(serializers.ListField):
    """A list of ids, resolved by the view with one IN query through a visibility selector."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("child", serializers.IntegerField(min_value=1, max_value=2**63 - 1))
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)


class VisibleIdField(IdRelatedField):
    """A reference by id resolved through a visibility selector of the caller: an id the caller may not see
    is "does not exist" (a 400 naming the field), exactly like an id that does not exist.

    `visible(user)` returns the QuerySet of what the caller may reference (e.g. `customer_visible_to`).
    """

    def __init__(self, visible, **kwargs) -> None:
        self.visible = visible
        # pk_field types the field (an integer) in the OpenAPI schema, which has no queryset to read it from.
        kwargs.setdefault("pk_field", serializers.IntegerField())
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.visible(request.user)
