"""/api/: the schema, the docs and version 1 of the resources (each app's urls.py)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from ltc.api.docs import RedocDocsView, SwaggerDocsView
from ltc.api.fallback import ApiNotFound
from ltc.api.metrics import FunnelMetricsApi

v1 = [
    path("", include("accounts.urls")),
    path("", include("relationships.urls")),
    path("", include("pipeline.urls")),
    path("", include("contracts.urls")),
    path("metrics/funnel/", FunnelMetricsApi.as_view(), name="api-metrics-funnel"),
    path("", include("ltc.api.webhooks")),
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SwaggerDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", RedocDocsView.as_view(url_name="api-schema"), name="api-redoc"),
    path("v1/", include(v1)),
    # Last: whatever else is under /api/ is the JSON 404 envelope, not Django's HTML page.
    re_path(r"^", ApiNotFound.as_view(), name="api-not-found"),
]
