"""REST representations of customers, contacts and visits (HackSoft style: one Output, one Input per write)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import MarketType, OrgUnit, User
from ltc.api.serializers import IdListField, IdRelatedField, OutputSerializer
from relationships.models import Contact, Customer, Industry, Visit
from relationships.selectors import private_notes_visible

MONEY = {"max_digits": 18, "decimal_places": 2}


# --- Customers -------------------------------------------------------------------------------------------


class CustomerOutputSerializer(OutputSerializer):
    account_dept_code = serializers.CharField(source="account_dept.code", read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "external_id",
            "name",
            "name_en",
            "tax_id",
            "industry",
            "account_dept",
            "account_dept_code",
            "owner",
            "annual_purchase",
            "currency",
            "repeat_purchase",
            "named_top_account",
            "tier",
            "market_type",
            "status",
            *Customer.ARCHIVE_FIELDS,
            "archive_completeness",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class _CustomerFieldsInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=200, required=False, allow_blank=True)
    tax_id = serializers.CharField(max_length=32, required=False, allow_null=True, allow_blank=True)
    industry = serializers.ChoiceField(choices=Industry.choices, required=False)
    annual_purchase = serializers.DecimalField(**MONEY, min_value=0, required=False)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)
    repeat_purchase = serializers.BooleanField(required=False)
    named_top_account = serializers.BooleanField(required=False)
    market_type = serializers.ChoiceField(choices=MarketType.choices, required=False)
    status = serializers.ChoiceField(choices=Customer.Status.choices, required=False)

    def get_fields(self):
        fields = super().get_fields()
        for name in Customer.ARCHIVE_FIELDS:
            fields[name] = serializers.CharField(required=False, allow_blank=True, max_length=20000)
        return fields


class CustomerCreateInputSerializer(_CustomerFieldsInput):
    account_dept = IdRelatedField(queryset=OrgUnit.objects.all())
    owner = IdRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    external_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    allow_duplicate = serializers.BooleanField(
        required=False, help_text="Create even when a customer with a similar name exists."
    )


class CustomerUpdateInputSerializer(_CustomerFieldsInput):
    pass


# --- Contacts --------------------------------------------------------------------------------------------


class ContactOutputSerializer(OutputSerializer):
    private_notes = serializers.SerializerMethodField(
        help_text="The private relationship card: null unless you are the owner or above the owner."
    )

    class Meta:
        model = Contact
        fields = [
            "id",
            "external_id",
            "customer",
            "name",
            "title",
            "department",
            "phone",
            "email",
            "level",
            "decision_role",
            "stance",
            "intimacy",
            "support_level",
            "is_coach",
            "reports_to",
            "owner",
            "private_notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_private_notes(self, contact: Contact) -> str | None:
        request = self.context.get("request")
        if request is None or not private_notes_visible(request.user, contact):
            return None
        return contact.private_notes


class _ContactFieldsInput(serializers.Serializer):
    name = serializers.CharField(max_length=128)
    title = serializers.CharField(max_length=128, required=False, allow_blank=True)
    department = serializers.CharField(max_length=128, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    level = serializers.ChoiceField(choices=Contact.Level.choices, required=False)
    decision_role = serializers.ChoiceField(choices=Contact.DecisionRole.choices, required=False)
    stance = serializers.ChoiceField(choices=Contact.Stance.choices, required=False)
    intimacy = serializers.IntegerField(min_value=1, max_value=5, required=False)
    support_level = serializers.IntegerField(min_value=1, max_value=5, required=False)
    is_coach = serializers.BooleanField(required=False)
    reports_to = IdRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    owner = IdRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    private_notes = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class ContactCreateInputSerializer(_ContactFieldsInput):
    customer = IdRelatedField(queryset=Customer.objects.all())
    external_id = serializers.CharField(max_length=64, required=False, allow_null=True)


class ContactUpdateInputSerializer(_ContactFieldsInput):
    pass


# --- Visits ----------------------------------------------------------------------------------------------


class VisitOutputSerializer(OutputSerializer):
    contacts = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "external_id",
            "customer",
            "rep",
            "org_unit",
            "contacts",
            "visited_on",
            "visit_type",
            "purpose",
            "outcome",
            "next_step",
            "next_step_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class VisitCreateInputSerializer(serializers.Serializer):
    customer = IdRelatedField(queryset=Customer.objects.all())
    visited_on = serializers.DateField(required=False)
    visit_type = serializers.ChoiceField(choices=Visit.Type.choices, required=False)
    contacts = IdListField(required=False)
    purpose = serializers.CharField(max_length=255, required=False, allow_blank=True)
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    next_step = serializers.CharField(max_length=255, required=False, allow_blank=True)
    next_step_on = serializers.DateField(required=False, allow_null=True)
    external_id = serializers.CharField(max_length=64, required=False, allow_null=True)
