"""API routes of contracts, invoices and receipts (mounted under /api/v1/ by ltc/api/urls.py), and the win
action of an opportunity (it opens a contract, so it is routed from this upper app)."""

from django.urls import path

from contracts import apis

urlpatterns = [
    path("opportunities/<int:pk>/win/", apis.OpportunityWinApi.as_view(), name="api-opportunity-win"),
    path("contracts/", apis.ContractListApi.as_view(), name="api-contract-list"),
    path("contracts/bulk/", apis.ContractBulkApi.as_view(), name="api-contract-bulk"),
    path("contracts/<int:pk>/", apis.ContractDetailApi.as_view(), name="api-contract-detail"),
    path("contracts/<int:pk>/confirm/", apis.ContractConfirmApi.as_view(), name="api-contract-confirm"),
    path("contracts/<int:pk>/close/", apis.ContractCloseApi.as_view(), name="api-contract-close"),
    path(
        "contracts/<int:pk>/milestones/",
        apis.ContractMilestonesApi.as_view(),
        name="api-contract-milestones",
    ),
    path(
        "contracts/<int:pk>/milestones/<int:child_pk>/achieve/",
        apis.MilestoneAchieveApi.as_view(),
        name="api-contract-milestone-achieve",
    ),
    path("contracts/<int:pk>/changes/", apis.ContractChangesApi.as_view(), name="api-contract-changes"),
    path(
        "contracts/<int:pk>/changes/<int:child_pk>/decide/",
        apis.ContractChangeDecideApi.as_view(),
        name="api-contract-change-decide",
    ),
    path(
        "contracts/<int:pk>/changes/<int:child_pk>/apply/",
        apis.ContractChangeApplyApi.as_view(),
        name="api-contract-change-apply",
    ),
    path("invoices/", apis.InvoiceListApi.as_view(), name="api-invoice-list"),
    path("invoices/bulk/", apis.InvoiceBulkApi.as_view(), name="api-invoice-bulk"),
    path("invoices/<int:pk>/", apis.InvoiceDetailApi.as_view(), name="api-invoice-detail"),
    path("invoices/<int:pk>/cancel/", apis.InvoiceCancelApi.as_view(), name="api-invoice-cancel"),
    path("receipts/", apis.ReceiptListApi.as_view(), name="api-receipt-list"),
    path("receipts/bulk/", apis.ReceiptBulkApi.as_view(), name="api-receipt-bulk"),
    path("receipts/<int:pk>/", apis.ReceiptDetailApi.as_view(), name="api-receipt-detail"),
]
