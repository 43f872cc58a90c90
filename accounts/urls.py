"""API routes of org units and people (mounted under /api/v1/ by ltc/api/urls.py)."""

from django.urls import path

from accounts import apis

urlpatterns = [
    path("org-units/", apis.OrgUnitListApi.as_view(), name="api-org-unit-list"),
    path("org-units/bulk/", apis.OrgUnitBulkApi.as_view(), name="api-org-unit-bulk"),
    path("org-units/<int:pk>/", apis.OrgUnitDetailApi.as_view(), name="api-org-unit-detail"),
    path("users/", apis.UserListApi.as_view(), name="api-user-list"),
    path("users/bulk/", apis.UserBulkApi.as_view(), name="api-user-bulk"),
    path("users/<int:pk>/", apis.UserDetailApi.as_view(), name="api-user-detail"),
]
