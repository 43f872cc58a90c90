"""Browser routes of My week, the customer page, leads and opportunities (mounted at the root by ltc/urls.py).

pipeline/urls.py holds the REST routes (under /api/v1/). Winning an opportunity is contracts' route.
"""

from django.urls import path

from pipeline import views

urlpatterns = [
    path("week/", views.my_week, name="my-week"),
    path("customers/<int:pk>/", views.customer_detail, name="customer-detail"),
    path("leads/", views.lead_list, name="lead-list"),
    path("leads/new/", views.lead_create_view, name="lead-create"),
    path("leads/<int:pk>/", views.lead_detail, name="lead-detail"),
    path("leads/<int:pk>/qualify/", views.lead_qualify_view, name="lead-qualify"),
    path("leads/<int:pk>/nurturer/", views.lead_nurturer_view, name="lead-nurturer"),
    path("leads/<int:pk>/review/", views.lead_review_view, name="lead-review"),
    path("leads/<int:pk>/convert/", views.lead_convert_view, name="lead-convert"),
    path("leads/<int:pk>/close/", views.lead_close_view, name="lead-close"),
    path("opportunities/", views.opportunity_list, name="opportunity-list"),
    path("opportunities/<int:pk>/", views.opportunity_detail, name="opportunity-detail"),
    path("opportunities/<int:pk>/move/", views.opportunity_move_view, name="opportunity-move"),
    path("opportunities/<int:pk>/gate/", views.opportunity_gate_view, name="opportunity-gate"),
    path("opportunities/<int:pk>/close/", views.opportunity_close_view, name="opportunity-close"),
]
