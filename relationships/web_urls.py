"""Browser routes of customers and visits (mounted at the site root by ltc/urls.py).

relationships/urls.py holds the REST routes (under /api/v1/); the customer detail page is in pipeline's
web routes because it lists the customer's leads and opportunities.
"""

from django.urls import path

from relationships import views

urlpatterns = [
    path("visits/new/", views.visit_create, name="visit-create"),
    path("customers/", views.customer_list, name="customer-list"),
]
