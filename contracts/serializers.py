"""REST representations of contracts, milestones, changes, invoices and receipts, and the inputs of their actions."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from accounts.selectors import user_visible_to
from contracts.models import Contract, ContractChange, Invoice, PaymentMilestone, Receipt
from contracts.selectors import contract_visible_to, invoice_visible_to, milestone_visible_to
from ltc.api.serializers import OutputSerializer, VisibleIdField
from pipeline.serializers import MONEY, StrictInputSerializer
from relationships.selectors import customer_visible_to


class ContractOutputSerializer(OutputSerializer):
    class Meta:
        model = Contract
        fields = [
            "id",
            "external_id",
            "number",
            "title",
            "opportunity",
            "customer",
            "owner",
            "org_unit",
            "amount",
            "currency",
            "signed_on",
            "payment_terms",
            "status",
            "confirmed_at",
            "closed_at",
            "invoiced_amount",
            "collected_amount",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class InvoiceOutputSerializer(OutputSerializer):
    class Meta:
        model = Invoice
        fields = [
            "id",
            "external_id",
            "contract",
            "milestone",
            "number",
            "amount",
            "currency",
            "issued_on",
            "due_on",
            "status",
            "paid_amount",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReceiptOutputSerializer(OutputSerializer):
    class Meta:
        model = Receipt
        fields = [
            "id",
            "external_id",
            "contract",
            "invoice",
            "amount",
            "currency",
            "received_on",
            "reference",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MilestoneOutputSerializer(OutputSerializer):
    class Meta:
        model = PaymentMilestone
        fields = [
            "id",
            "contract",
            "sequence",
            "kind",
            "percent",
            "amount",
            "planned_on",
            "achieved_on",
            "invoiced_amount",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ContractChangeOutputSerializer(OutputSerializer):
    class Meta:
        model = ContractChange
        fields = [
            "id",
            "contract",
            "description",
            "new_amount",
            "new_signed_on",
            "requested_by",
            "status",
            "decider",
            "decided_at",
            "decision_notes",
            "applied_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# --- Inputs of the contract and cash actions --------------------------------------------------------------


def _people(user):
    return user_visible_to(user).filter(is_active=True, api_client__isnull=True)


class MilestoneInputSerializer(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=PaymentMilestone.Kind.choices)
    percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0.01"), max_value=100
    )
    planned_on = serializers.DateField(required=False)
    days = serializers.IntegerField(
        min_value=0, max_value=36500, required=False, help_text="Days after signing."
    )


class ContractCreateInputSerializer(StrictInputSerializer):
    """An ERP import: a contract without an opportunity, in RECEIVED, with its payment milestones."""

    customer = VisibleIdField(customer_visible_to)
    number = serializers.CharField(max_length=64)
    amount = serializers.DecimalField(**MONEY, min_value=0)
    signed_on = serializers.DateField()
    payment_terms = serializers.ChoiceField(choices=Contract.PaymentTerms.choices)
    external_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)
    owner = VisibleIdField(_people, required=False, allow_null=True)
    milestones = MilestoneInputSerializer(
        many=True, required=False, allow_null=True, help_text="Only for CUSTOM terms (shares summing to 100)."
    )
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)


class OpportunityWinInputSerializer(StrictInputSerializer):
    payment_terms = serializers.ChoiceField(choices=Contract.PaymentTerms.choices, required=False)
    signed_on = serializers.DateField(required=False, allow_null=True)
    number = serializers.CharField(max_length=64, required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class ContractCloseInputSerializer(StrictInputSerializer):
    evaluation = serializers.CharField(max_length=20000)
    evaluation_score = serializers.IntegerField(min_value=1, max_value=5)


class ContractChangeProposeInputSerializer(StrictInputSerializer):
    description = serializers.CharField(max_length=20000)
    new_amount = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)
    new_signed_on = serializers.DateField(required=False, allow_null=True)


class ContractChangeDecideInputSerializer(StrictInputSerializer):
    approve = serializers.BooleanField()
    notes = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class MilestoneAchieveInputSerializer(StrictInputSerializer):
    achieved_on = serializers.DateField(required=False, allow_null=True)


class InvoiceIssueInputSerializer(StrictInputSerializer):
    """Against a milestone (its contract is implied) or the contract as a whole."""

    contract = VisibleIdField(contract_visible_to, required=False, allow_null=True)
    milestone = VisibleIdField(milestone_visible_to, required=False, allow_null=True)
    number = serializers.CharField(max_length=64)
    amount = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"))
    issued_on = serializers.DateField(required=False, allow_null=True)
    due_on = serializers.DateField(required=False, allow_null=True)
    external_id = serializers.CharField(max_length=64, required=False, allow_null=True)


class InvoiceCancelInputSerializer(StrictInputSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class ReceiptRecordInputSerializer(StrictInputSerializer):
    invoice = VisibleIdField(invoice_visible_to)
    amount = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"))
    received_on = serializers.DateField(required=False, allow_null=True)
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=64, required=False, allow_null=True)
