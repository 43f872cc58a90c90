"""API routes of products, leads and opportunities (mounted under /api/v1/ by ltc/api/urls.py).

/opportunities/{id}/win/ is routed by contracts/urls.py: winning opens a contract (an upper-layer step)."""

from django.urls import path

from pipeline import apis

urlpatterns = [
    path("products/", apis.ProductListApi.as_view(), name="api-product-list"),
    path("products/bulk/", apis.ProductBulkApi.as_view(), name="api-product-bulk"),
    path("products/<int:pk>/", apis.ProductDetailApi.as_view(), name="api-product-detail"),
    path("leads/", apis.LeadListApi.as_view(), name="api-lead-list"),
    path("leads/<int:pk>/", apis.LeadDetailApi.as_view(), name="api-lead-detail"),
    path("leads/<int:pk>/qualify/", apis.LeadQualifyApi.as_view(), name="api-lead-qualify"),
    path(
        "leads/<int:pk>/assign-nurturer/",
        apis.LeadAssignNurturerApi.as_view(),
        name="api-lead-assign-nurturer",
    ),
    path("leads/<int:pk>/reviews/", apis.LeadReviewApi.as_view(), name="api-lead-review"),
    path("leads/<int:pk>/convert/", apis.LeadConvertApi.as_view(), name="api-lead-convert"),
    path("leads/<int:pk>/close/", apis.LeadCloseApi.as_view(), name="api-lead-close"),
    path("opportunities/", apis.OpportunityListApi.as_view(), name="api-opportunity-list"),
    path("opportunities/<int:pk>/", apis.OpportunityDetailApi.as_view(), name="api-opportunity-detail"),
    path(
        "opportunities/<int:pk>/move-stage/",
        apis.OpportunityMoveStageApi.as_view(),
        name="api-opportunity-move-stage",
    ),
    path(
        "opportunities/<int:pk>/gate-decisions/",
        apis.GateDecisionsApi.as_view(),
        name="api-opportunity-gate-decisions",
    ),
    path("opportunities/<int:pk>/lose/", apis.OpportunityLoseApi.as_view(), name="api-opportunity-lose"),
    path(
        "opportunities/<int:pk>/abandon/",
        apis.OpportunityAbandonApi.as_view(),
        name="api-opportunity-abandon",
    ),
    path(
        "opportunities/<int:pk>/probability/",
        apis.OpportunityProbabilityApi.as_view(),
        name="api-opportunity-probability",
    ),
    path("opportunities/<int:pk>/team/", apis.TeamApi.as_view(), name="api-opportunity-team"),
    path(
        "opportunities/<int:pk>/team/<int:user_id>/",
        apis.TeamMemberApi.as_view(),
        name="api-opportunity-team-member",
    ),
    path("opportunities/<int:pk>/lines/", apis.LinesApi.as_view(), name="api-opportunity-lines"),
    path(
        "opportunities/<int:pk>/lines/<int:product_id>/",
        apis.LineApi.as_view(),
        name="api-opportunity-line",
    ),
    path(
        "opportunities/<int:pk>/support-requests/",
        apis.SupportRequestsApi.as_view(),
        name="api-opportunity-support-requests",
    ),
]
