from django.contrib import admin
from django.urls import include, path

from accounts.auth import LtcLoginView
from ltc import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("ltc.api.urls")),
    path("accounts/login/", LtcLoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", views.home, name="home"),
    path("", include("relationships.web_urls")),
    path("", include("pipeline.web_urls")),
    path("", include("contracts.web_urls")),
]
