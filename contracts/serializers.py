"""REST representations of contracts, invoices and receipts (read-only until the cash actions arrive)."""

from __future__ import annotations

from contracts.models import Contract, Invoice, Receipt
from ltc.api.serializers import OutputSerializer


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
