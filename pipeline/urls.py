"""API routes of products, leads and opportunities (mounted under /api/v1/ by ltc/api/urls.py)."""

from django.urls import path

from pipeline import apis

urlpatterns = [
    path("products/", apis.ProductListApi.as_view(), name="api-product-list"),
    path("products/bulk/", apis.ProductBulkApi.as_view(), name="api-product-bulk"),
    path("products/<int:pk>/", apis.ProductDetailApi.as_view(), name="api-product-detail"),
    path("leads/", apis.LeadListApi.as_view(), name="api-lead-list"),
    path("leads/<int:pk>/", apis.LeadDetailApi.as_view(), name="api-lead-detail"),
    path("opportunities/", apis.OpportunityListApi.as_view(), name="api-opportunity-list"),
    path("opportunities/<int:pk>/", apis.OpportunityDetailApi.as_view(), name="api-opportunity-detail"),
]
