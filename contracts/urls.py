"""API routes of contracts, invoices and receipts (mounted under /api/v1/ by ltc/api/urls.py)."""

from django.urls import path

from contracts import apis

urlpatterns = [
    path("contracts/", apis.ContractListApi.as_view(), name="api-contract-list"),
    path("contracts/<int:pk>/", apis.ContractDetailApi.as_view(), name="api-contract-detail"),
    path("invoices/", apis.InvoiceListApi.as_view(), name="api-invoice-list"),
    path("invoices/<int:pk>/", apis.InvoiceDetailApi.as_view(), name="api-invoice-detail"),
    path("receipts/", apis.ReceiptListApi.as_view(), name="api-receipt-list"),
    path("receipts/<int:pk>/", apis.ReceiptDetailApi.as_view(), name="api-receipt-detail"),
]
