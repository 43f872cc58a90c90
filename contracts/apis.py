"""REST APIs of contracts, invoices and receipts: read-only here (issuing an invoice or recording a receipt
are explicit action endpoints over the contracts services)."""

from __future__ import annotations

from django.db.models import QuerySet

from contracts.filters import ContractFilter, InvoiceFilter, ReceiptFilter
from contracts.models import Contract, Invoice, Receipt
from contracts.selectors import contract_visible_to, invoice_visible_to, receipt_visible_to
from contracts.serializers import ContractOutputSerializer, InvoiceOutputSerializer, ReceiptOutputSerializer
from ltc.api.views import DetailApi, ListApi


class ContractListApi(ListApi):
    api_resource = "contracts"
    filterset_class = ContractFilter
    output_serializer_class = ContractOutputSerializer

    def get_queryset(self) -> QuerySet[Contract]:
        return contract_visible_to(self.request.user)


class ContractDetailApi(DetailApi):
    api_resource = "contracts"
    output_serializer_class = ContractOutputSerializer

    def get_queryset(self) -> QuerySet[Contract]:
        return contract_visible_to(self.request.user)


class InvoiceListApi(ListApi):
    api_resource = "invoices"
    filterset_class = InvoiceFilter
    output_serializer_class = InvoiceOutputSerializer

    def get_queryset(self) -> QuerySet[Invoice]:
        return invoice_visible_to(self.request.user)


class InvoiceDetailApi(DetailApi):
    api_resource = "invoices"
    output_serializer_class = InvoiceOutputSerializer

    def get_queryset(self) -> QuerySet[Invoice]:
        return invoice_visible_to(self.request.user)


class ReceiptListApi(ListApi):
    api_resource = "receipts"
    filterset_class = ReceiptFilter
    output_serializer_class = ReceiptOutputSerializer

    def get_queryset(self) -> QuerySet[Receipt]:
        return receipt_visible_to(self.request.user)


class ReceiptDetailApi(DetailApi):
    api_resource = "receipts"
    output_serializer_class = ReceiptOutputSerializer

    def get_queryset(self) -> QuerySet[Receipt]:
        return receipt_visible_to(self.request.user)
