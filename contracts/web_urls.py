"""Browser routes of contracts and cash, and winning an opportunity (mounted at the root by ltc/urls.py).

contracts/urls.py holds the REST routes (under /api/v1/).
"""

from django.urls import path

from contracts import views

urlpatterns = [
    path("opportunities/<int:pk>/win/", views.opportunity_win_view, name="opportunity-win"),
    path("contracts/", views.contract_list, name="contract-list"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract-detail"),
    path("contracts/<int:pk>/confirm/", views.contract_confirm_view, name="contract-confirm"),
    path(
        "contracts/<int:pk>/milestones/<int:milestone_pk>/achieve/",
        views.milestone_achieve_view,
        name="milestone-achieve",
    ),
    path("contracts/<int:pk>/invoices/", views.invoice_issue_view, name="invoice-issue"),
    path("contracts/<int:pk>/receipts/", views.receipt_record_view, name="receipt-record"),
]
