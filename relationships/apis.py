"""REST APIs of customers, contacts and visits: thin views over the selectors and services."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import exceptions

from accounts.models import MarketType, OrgUnit
from accounts.selectors import Scope, users_below
from ltc.api.bulk import BOOL, CHOICE, DECIMAL, EMAIL, INT, BulkField, BulkReference, BulkSpec
from ltc.api.views import BulkUpsertApi, DetailApi, DetailUpdateApi, ListCreateApi
from relationships.filters import ContactFilter, CustomerFilter, VisitFilter
from relationships.models import Contact, Customer, Industry, Visit
from relationships.selectors import contact_visible_to, customer_visible_to, visit_visible_to
from relationships.serializers import (
    ContactCreateInputSerializer,
    ContactOutputSerializer,
    ContactUpdateInputSerializer,
    CustomerCreateInputSerializer,
    CustomerOutputSerializer,
    CustomerUpdateInputSerializer,
    VisitCreateInputSerializer,
    VisitOutputSerializer,
)
from relationships.services import (
    contact_create,
    contact_update,
    customer_create,
    customer_suggest_tier,
    customer_update,
    visit_log,
)

# --- Customers -------------------------------------------------------------------------------------------


class CustomerListApi(ListCreateApi):
    api_resource = "customers"
    filterset_class = CustomerFilter
    output_serializer_class = CustomerOutputSerializer
    input_serializer_class = CustomerCreateInputSerializer

    def get_queryset(self) -> QuerySet[Customer]:
        return customer_visible_to(self.request.user)

    def perform_create(self, data: dict[str, Any]) -> Customer:
        return customer_create(actor=self.request.user, **data)


class CustomerDetailApi(DetailUpdateApi):
    api_resource = "customers"
    output_serializer_class = CustomerOutputSerializer
    input_serializer_class = CustomerUpdateInputSerializer

    def get_queryset(self) -> QuerySet[Customer]:
        return customer_visible_to(self.request.user)

    def perform_update(self, instance: Customer, data: dict[str, Any]) -> Customer:
        return customer_update(actor=self.request.user, customer=instance, **data)


def _account_depts(actor, scope: Scope) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(scope.units_q("pk"), kind=OrgUnit.Kind.ACCOUNT_DEPT)


def _people(actor, scope: Scope):
    return users_below(scope).filter(is_active=True)


def _tax_id(value: str) -> str | None:
    """Tax ids are kept without spaces, upper-case, and NULL when blank (as `customer_create` keeps them)."""
    cleaned = re.sub(r"\s+", "", value).upper()
    return cleaned or None


def _customer_tier(row: dict[str, Any]) -> dict[str, Any]:
    """The tier the thresholds suggest (as `customer_create`/`customer_update`), unless set by hand."""
    if row["tier_overridden_by_id"] is not None or row["tier_override_reason"]:
        return {"tier": row["tier"]}
    # The rule reads three attributes: a plain namespace, not a model instance (whose __init__ would be
    # most of the cost of a 10,000-row request).
    probe = SimpleNamespace(
        annual_purchase=row["annual_purchase"],
        named_top_account=row["named_top_account"],
        repeat_purchase=row["repeat_purchase"],
    )
    return {"tier": customer_suggest_tier(probe)}  # type: ignore[arg-type]


OWNER_REFERENCE = BulkReference(
    "owner",
    queryset=_people,
    match_on=("external_id", "username"),
    help_text="By user external_id or username.",
)

CUSTOMER_BULK = BulkSpec(
    resource="customers",
    model=Customer,
    visible=lambda actor, scope: customer_visible_to(actor, scope=scope),
    fields=(
        BulkField("name", required=True, max_length=200),
        BulkField("name_en", max_length=200),
        BulkField("tax_id", nullable=True, max_length=32, unique=True, transform=_tax_id),
        BulkField("industry", CHOICE, choices=tuple(Industry.values)),
        BulkField("annual_purchase", DECIMAL, min_value=0),
        BulkField("currency", max_length=3, pattern=r"[A-Z]{3}"),
        BulkField("repeat_purchase", BOOL),
        BulkField("named_top_account", BOOL),
        BulkField("market_type", CHOICE, choices=tuple(MarketType.values)),
        BulkField("status", CHOICE, choices=tuple(Customer.Status.values)),
    ),
    references=(
        BulkReference(
            "account_dept",
            queryset=_account_depts,
            match_on=("external_id", "code"),
            required=True,
            nullable=False,
            help_text="The account department's external_id or code.",
        ),
        OWNER_REFERENCE,
    ),
    derive=_customer_tier,
    derive_reads=(
        "annual_purchase",
        "named_top_account",
        "repeat_purchase",
        "tier",
        "tier_overridden_by_id",
        "tier_override_reason",
    ),
)


class CustomerBulkApi(BulkUpsertApi):
    bulk_spec = CUSTOMER_BULK


# --- Contacts --------------------------------------------------------------------------------------------


def _contact_queryset(user) -> QuerySet[Contact]:
    # The private-card check reads the owner's unit and the customer's department: join them here.
    return contact_visible_to(user).select_related("customer__account_dept", "owner__org_unit")


class ContactListApi(ListCreateApi):
    api_resource = "contacts"
    filterset_class = ContactFilter
    output_serializer_class = ContactOutputSerializer
    input_serializer_class = ContactCreateInputSerializer

    def get_queryset(self) -> QuerySet[Contact]:
        return _contact_queryset(self.request.user)

    def perform_create(self, data: dict[str, Any]) -> Contact:
        return contact_create(actor=self.request.user, **data)


class ContactDetailApi(DetailUpdateApi):
    api_resource = "contacts"
    output_serializer_class = ContactOutputSerializer
    input_serializer_class = ContactUpdateInputSerializer

    def get_queryset(self) -> QuerySet[Contact]:
        return _contact_queryset(self.request.user)

    def perform_update(self, instance: Contact, data: dict[str, Any]) -> Contact:
        return contact_update(actor=self.request.user, contact=instance, **data)


CONTACT_BULK = BulkSpec(
    resource="contacts",
    model=Contact,
    visible=lambda actor, scope: contact_visible_to(actor, scope=scope),
    fields=(
        BulkField("name", required=True, max_length=128),
        BulkField("title", max_length=128),
        BulkField("department", max_length=128),
        BulkField("phone", max_length=32),
        BulkField("email", EMAIL, max_length=254),
        BulkField("level", CHOICE, choices=tuple(Contact.Level.values)),
        BulkField("decision_role", CHOICE, choices=tuple(Contact.DecisionRole.values)),
        BulkField("stance", CHOICE, choices=tuple(Contact.Stance.values)),
        BulkField("intimacy", INT, min_value=1, max_value=5),
        BulkField("support_level", INT, min_value=1, max_value=5),
        BulkField("is_coach", BOOL),
    ),
    references=(
        BulkReference(
            "customer",
            queryset=lambda actor, scope: customer_visible_to(actor, scope=scope),
            required=True,
            nullable=False,
            help_text="The customer's external_id.",
        ),
        OWNER_REFERENCE,
    ),
)


class ContactBulkApi(BulkUpsertApi):
    bulk_spec = CONTACT_BULK


# --- Visits ----------------------------------------------------------------------------------------------


class VisitListApi(ListCreateApi):
    api_resource = "visits"
    filterset_class = VisitFilter
    output_serializer_class = VisitOutputSerializer
    input_serializer_class = VisitCreateInputSerializer

    def get_queryset(self) -> QuerySet[Visit]:
        return visit_visible_to(self.request.user).prefetch_related("contacts")

    def perform_create(self, data: dict[str, Any]) -> Visit:
        ids = set(data.pop("contacts", []))
        contacts = list(contact_visible_to(self.request.user).filter(pk__in=ids)) if ids else []
        if len(contacts) != len(ids):
            raise exceptions.ValidationError({"contacts": [_("No such contact. 联系人不存在。")]})
        return visit_log(actor=self.request.user, contacts=contacts, **data)


class VisitDetailApi(DetailApi):
    api_resource = "visits"
    output_serializer_class = VisitOutputSerializer

    def get_queryset(self) -> QuerySet[Visit]:
        return visit_visible_to(self.request.user).prefetch_related("contacts")
