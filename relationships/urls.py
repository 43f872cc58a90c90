"""API routes of customers, contacts and visits (mounted under /api/v1/ by ltc/api/urls.py)."""

from django.urls import path

from relationships import apis

urlpatterns = [
    path("customers/", apis.CustomerListApi.as_view(), name="api-customer-list"),
    path("customers/bulk/", apis.CustomerBulkApi.as_view(), name="api-customer-bulk"),
    path("customers/<int:pk>/", apis.CustomerDetailApi.as_view(), name="api-customer-detail"),
    path("contacts/", apis.ContactListApi.as_view(), name="api-contact-list"),
    path("contacts/bulk/", apis.ContactBulkApi.as_view(), name="api-contact-bulk"),
    path("contacts/<int:pk>/", apis.ContactDetailApi.as_view(), name="api-contact-detail"),
    path("visits/", apis.VisitListApi.as_view(), name="api-visit-list"),
    path("visits/<int:pk>/", apis.VisitDetailApi.as_view(), name="api-visit-detail"),
]
