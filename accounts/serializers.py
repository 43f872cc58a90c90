"""REST representations of people and org units (reference data; writes by administrators only)."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import MarketType, OrgUnit, User
from ltc.api.serializers import IdRelatedField, OutputSerializer


class OrgUnitOutputSerializer(OutputSerializer):
    class Meta:
        model = OrgUnit
        fields = [
            "id",
            "external_id",
            "code",
            "name",
            "name_en",
            "kind",
            "parent",
            "path",
            "depth",
            "manager",
            "market_type",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OrgUnitCreateInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=128)
    name_en = serializers.CharField(max_length=128, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=OrgUnit.Kind.choices)
    parent = IdRelatedField(queryset=OrgUnit.objects.all(), required=False, allow_null=True)
    external_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    market_type = serializers.ChoiceField(choices=MarketType.choices, required=False)
    manager = IdRelatedField(queryset=User.objects.all(), required=False, allow_null=True)

    def validate_code(self, value: str) -> str:
        if OrgUnit.objects.filter(code=value).exists():
            raise serializers.ValidationError("Already used. 已被使用。")
        return value

    def validate_external_id(self, value: str | None) -> str | None:
        if value and OrgUnit.objects.filter(external_id=value).exists():
            raise serializers.ValidationError("Already used. 已被使用。")
        return value or None


class OrgUnitUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128)
    name_en = serializers.CharField(max_length=128, required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    market_type = serializers.ChoiceField(choices=MarketType.choices, required=False)
    manager = IdRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)


class UserOutputSerializer(OutputSerializer):
    class Meta:
        model = User
        fields = [
            "id",
            "external_id",
            "username",
            "full_name",
            "email",
            "org_unit",
            "manager",
            "job_role",
            "preferred_language",
            "phone",
            "is_active",
            "updated_at",
        ]
        read_only_fields = fields


class _UserFieldsInput(serializers.Serializer):
    full_name = serializers.CharField(max_length=128, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    org_unit = IdRelatedField(queryset=OrgUnit.objects.all(), required=False, allow_null=True)
    manager = IdRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    job_role = serializers.ChoiceField(choices=User.JobRole.choices, required=False)
    preferred_language = serializers.ChoiceField(choices=User.Language.choices, required=False)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=64, required=False, allow_null=True)


class UserCreateInputSerializer(_UserFieldsInput):
    username = serializers.RegexField(r"^[\w.@+-]{1,150}$", max_length=150)


class UserUpdateInputSerializer(_UserFieldsInput):
    is_active = serializers.BooleanField(required=False)
