"""REST APIs of products, leads and opportunities. Workflow steps are explicit action endpoints (POST
/leads/{id}/qualify/, /opportunities/{id}/move-stage/ …), each a thin view over ONE service called with
`actor=request.user`: never a raw change of `status` or `stage`. Winning an opportunity opens a contract, so
/opportunities/{id}/win/ lives in contracts/apis.py (pipeline does not import contracts)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from ltc.api.bulk import BOOL, DECIMAL, BulkField, BulkSpec
from ltc.api.filters import MAX_ID
from ltc.api.views import (
    ActionApi,
    BulkUpsertApi,
    DetailApi,
    DetailUpdateApi,
    ListCreateApi,
)
from pipeline.filters import LeadFilter, OpportunityFilter, ProductFilter
from pipeline.models import (
    GateDecision,
    Lead,
    Opportunity,
    OpportunityLine,
    OpportunityTeamMember,
    Product,
    SupportRequest,
)
from pipeline.selectors import (
    gate_decision_visible_to,
    lead_visible_to,
    opportunity_visible_to,
    product_visible_to,
    support_request_visible_to,
)
from pipeline.serializers import (
    GateDecideInputSerializer,
    GateDecisionOutputSerializer,
    LeadAssignNurturerInputSerializer,
    LeadConvertInputSerializer,
    LeadCreateInputSerializer,
    LeadOutputSerializer,
    LeadQualifyInputSerializer,
    LeadReviewInputSerializer,
    LeadReviewOutputSerializer,
    LineOutputSerializer,
    LineSetInputSerializer,
    MoveStageInputSerializer,
    OpportunityCreateInputSerializer,
    OpportunityOutputSerializer,
    OpportunityUpdateInputSerializer,
    ProbabilityInputSerializer,
    ProductCreateInputSerializer,
    ProductOutputSerializer,
    ProductUpdateInputSerializer,
    ReasonInputSerializer,
    SupportRequestCreateInputSerializer,
    SupportRequestOutputSerializer,
    TeamMemberOutputSerializer,
    TeamSetInputSerializer,
)
from pipeline.services.leads import (
    lead_assign_nurturer,
    lead_close,
    lead_convert,
    lead_create,
    lead_qualify,
    lead_review_record,
)
from pipeline.services.opportunities import (
    gate_decide,
    opportunity_abandon,
    opportunity_create,
    opportunity_line_remove,
    opportunity_line_set,
    opportunity_lose,
    opportunity_move_stage,
    opportunity_set_probability,
    opportunity_team_remove,
    opportunity_team_set,
    opportunity_update,
    support_request_create,
)
from pipeline.services.products import product_create, product_update

# --- Products --------------------------------------------------------------------------------------------


class ProductListApi(ListCreateApi):
    api_resource = "products"
    filterset_class = ProductFilter
    output_serializer_class = ProductOutputSerializer
    input_serializer_class = ProductCreateInputSerializer

    def get_queryset(self) -> QuerySet[Product]:
        return product_visible_to(self.request.user)

    def perform_create(self, data: dict[str, Any]) -> Product:
        return product_create(actor=self.request.user, **data)


class ProductDetailApi(DetailUpdateApi):
    api_resource = "products"
    output_serializer_class = ProductOutputSerializer
    input_serializer_class = ProductUpdateInputSerializer

    def get_queryset(self) -> QuerySet[Product]:
        return product_visible_to(self.request.user)

    def perform_update(self, instance: Product, data: dict[str, Any]) -> Product:
        return product_update(actor=self.request.user, product=instance, **data)


PRODUCT_BULK = BulkSpec(
    resource="products",
    model=Product,
    visible=lambda actor, scope: Product.objects.all(),
    fields=(
        BulkField("code", required=True, max_length=64, unique=True),
        BulkField("name", required=True, max_length=200),
        BulkField("product_line", required=True, max_length=64),
        BulkField("series", max_length=64),
        BulkField("list_price", DECIMAL, min_value=0),
        BulkField("currency", max_length=3, pattern=r"[A-Z]{3}"),
        BulkField("is_active", BOOL),
    ),
)


class ProductBulkApi(BulkUpsertApi):
    bulk_spec = PRODUCT_BULK


# --- Leads ----------------------------------------------------------------------------------------------
# There is no lead update service (a lead changes through its workflow steps), so no PATCH /leads/{id}/.


class LeadListApi(ListCreateApi):
    """GET the visible leads; POST records a lead found by the caller (a similar open lead is a 400 with code
    "duplicate" naming the visible candidates in `errors.duplicates`, unless "allow_duplicate": true)."""

    api_resource = "leads"
    filterset_class = LeadFilter
    output_serializer_class = LeadOutputSerializer
    input_serializer_class = LeadCreateInputSerializer

    def get_queryset(self) -> QuerySet[Lead]:
        return lead_visible_to(self.request.user)

    def perform_create(self, data: dict[str, Any]) -> Lead:
        return lead_create(actor=self.request.user, **data)


class LeadDetailApi(DetailApi):
    api_resource = "leads"
    output_serializer_class = LeadOutputSerializer

    def get_queryset(self) -> QuerySet[Lead]:
        return lead_visible_to(self.request.user)


class _LeadActionApi(ActionApi):
    api_resource = "leads"
    output_serializer_class = LeadOutputSerializer

    def get_queryset(self) -> QuerySet[Lead]:
        return lead_visible_to(self.request.user)


class LeadQualifyApi(_LeadActionApi):
    """Answer and score the three questions; the lead takes the grade (NEW → VALIDATING)."""

    input_serializer_class = LeadQualifyInputSerializer

    def perform_action(self, lead: Lead, data: dict[str, Any]) -> Lead:
        lead_qualify(lead=lead, actor=self.request.user, **data)
        return self.get_object()


class LeadAssignNurturerApi(_LeadActionApi):
    input_serializer_class = LeadAssignNurturerInputSerializer

    def perform_action(self, lead: Lead, data: dict[str, Any]) -> Lead:
        return lead_assign_nurturer(lead=lead, actor=self.request.user, nurturer=data["nurturer"])


class LeadReviewApi(_LeadActionApi):
    """The weekly review's decision (CONVERT / NURTURE / CLOSE / REASSIGN), carried out at once."""

    creates = True
    input_serializer_class = LeadReviewInputSerializer
    output_serializer_class = LeadReviewOutputSerializer

    def perform_action(self, lead: Lead, data: dict[str, Any]) -> Model:
        review = lead_review_record(
            lead=lead,
            actor=self.request.user,
            decision=data["decision"],
            reason=data["reason"],
            reassign_to=data.get("reassign_to"),
            week=data.get("week"),
        )
        review.lead = self.get_object()
        return review


class LeadConvertApi(_LeadActionApi):
    """Turn the lead into an opportunity (201 with the opportunity). A lead converts once: a second call is
    a 400 with code "already_converted" naming the opportunity."""

    creates = True
    input_serializer_class = LeadConvertInputSerializer
    output_serializer_class = OpportunityOutputSerializer

    def perform_action(self, lead: Lead, data: dict[str, Any]) -> Opportunity:
        return lead_convert(lead=lead, actor=self.request.user, **data)


class LeadCloseApi(_LeadActionApi):
    input_serializer_class = ReasonInputSerializer

    def perform_action(self, lead: Lead, data: dict[str, Any]) -> Lead:
        return lead_close(lead=lead, actor=self.request.user, reason=data["reason"])


# --- Opportunities --------------------------------------------------------------------------------------


class OpportunityListApi(ListCreateApi):
    api_resource = "opportunities"
    filterset_class = OpportunityFilter
    output_serializer_class = OpportunityOutputSerializer
    input_serializer_class = OpportunityCreateInputSerializer

    def get_queryset(self) -> QuerySet[Opportunity]:
        return opportunity_visible_to(self.request.user)

    def perform_create(self, data: dict[str, Any]) -> Opportunity:
        return opportunity_create(actor=self.request.user, **data)


class OpportunityDetailApi(DetailUpdateApi):
    """GET one opportunity; PATCH its plain fields (name, amount, expected_sign_on, competitors, margin_pct)
    with If-Match. The stage never changes here (400 for `stage`): use the action endpoints."""

    api_resource = "opportunities"
    output_serializer_class = OpportunityOutputSerializer
    input_serializer_class = OpportunityUpdateInputSerializer

    def get_queryset(self) -> QuerySet[Opportunity]:
        return opportunity_visible_to(self.request.user)

    def perform_update(self, instance: Opportunity, data: dict[str, Any]) -> Opportunity:
        return opportunity_update(opportunity=instance, actor=self.request.user, **data)


class _OpportunityActionApi(ActionApi):
    api_resource = "opportunities"
    output_serializer_class = OpportunityOutputSerializer

    def get_queryset(self) -> QuerySet[Opportunity]:
        return opportunity_visible_to(self.request.user)


class OpportunityMoveStageApi(_OpportunityActionApi):
    """One stage forward (through its gate's current GO) or back (with a reason). WON: use /win/."""

    input_serializer_class = MoveStageInputSerializer

    def perform_action(self, opp: Opportunity, data: dict[str, Any]) -> Opportunity:
        return opportunity_move_stage(
            opportunity=opp, actor=self.request.user, to_stage=data["to_stage"], reason=data.get("reason", "")
        )


class OpportunityLoseApi(_OpportunityActionApi):
    input_serializer_class = ReasonInputSerializer

    def perform_action(self, opp: Opportunity, data: dict[str, Any]) -> Opportunity:
        return opportunity_lose(opportunity=opp, actor=self.request.user, reason=data["reason"])


class OpportunityAbandonApi(_OpportunityActionApi):
    input_serializer_class = ReasonInputSerializer

    def perform_action(self, opp: Opportunity, data: dict[str, Any]) -> Opportunity:
        return opportunity_abandon(opportunity=opp, actor=self.request.user, reason=data["reason"])


class OpportunityProbabilityApi(_OpportunityActionApi):
    input_serializer_class = ProbabilityInputSerializer

    def perform_action(self, opp: Opportunity, data: dict[str, Any]) -> Opportunity:
        return opportunity_set_probability(
            opportunity=opp, actor=self.request.user, probability=data["probability"]
        )


class _OpportunityChildrenApi(ActionApi):
    """GET the opportunity's child records (a short list, not paginated); POST calls the service."""

    api_resource = "opportunities"
    http_method_names = ["get", "post", "options"]

    def get_queryset(self) -> QuerySet[Opportunity]:
        return opportunity_visible_to(self.request.user)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        opp = self.get_object()
        rows = self.children(opp)  # type: ignore[attr-defined]
        data = self.output_serializer_class(rows, many=True, context=self.output_context()).data
        return Response({"next": None, "results": data})


class GateDecisionsApi(_OpportunityChildrenApi):
    """GET the gate decisions taken on the opportunity (oldest first); POST takes one (ATI at VALIDATE, ATB
    at BID, ATC at NEGOTIATE) — only a manager, executive or admin with authority for the amount (403
    otherwise, naming where to escalate)."""

    creates = True
    input_serializer_class = GateDecideInputSerializer
    output_serializer_class = GateDecisionOutputSerializer

    def children(self, opp: Opportunity) -> QuerySet[GateDecision]:
        return (
            gate_decision_visible_to(self.request.user)
            .filter(opportunity_id=opp.pk)
            .order_by("created_at", "id")
        )

    def perform_action(self, opp: Opportunity, data: dict[str, Any]) -> GateDecision:
        return gate_decide(opportunity=opp, actor=self.request.user, **data)


class TeamApi(_OpportunityChildrenApi):
    """GET the deal team; POST puts a person on it in a role (AR/SR/FR/SPONSOR are one person each: giving
    the role to another moves the previous holder off)."""

    input_serializer_class = TeamSetInputSerializer
    output_serializer_class = TeamMemberOutputSerializer

    def children(self, opp: Opportunity) -> QuerySet[OpportunityTeamMember]:
        return OpportunityTeamMember.objects.filter(opportunity_id=opp.pk).order_by("role", "id")

    def perform_action(self, opp: Opportunity, data: dict[str, Any]) -> OpportunityTeamMember:
        return opportunity_team_set(opportunity=opp, actor=self.request.user, **data)


class LinesApi(_OpportunityChildrenApi):
    """GET the bill of quantities; POST adds or changes the line of a product (the amount follows)."""

    input_serializer_class = LineSetInputSerializer
    output_serializer_class = LineOutputSerializer

    def children(self, opp: Opportunity) -> QuerySet[OpportunityLine]:
        return OpportunityLine.objects.filter(opportunity_id=opp.pk).order_by("id")

    def perform_action(self, opp: Opportunity, data: dict[str, Any]) -> OpportunityLine:
        return opportunity_line_set(opportunity=opp, actor=self.request.user, **data)


class SupportRequestsApi(_OpportunityChildrenApi):
    """GET the support requests (呼唤炮火) of the opportunity; POST asks the resource centre for an expert."""

    creates = True
    input_serializer_class = SupportRequestCreateInputSerializer
    output_serializer_class = SupportRequestOutputSerializer

    def children(self, opp: Opportunity) -> QuerySet[SupportRequest]:
        return support_request_visible_to(self.request.user).filter(opportunity_id=opp.pk).order_by("id")

    def perform_action(self, opp: Opportunity, data: dict[str, Any]) -> SupportRequest:
        return support_request_create(opportunity=opp, actor=self.request.user, **data)


def _child_pk(value: Any) -> int:
    try:
        pk = int(value)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    if not 1 <= pk <= MAX_ID:
        raise Http404
    return pk


class _OpportunityChildDeleteApi(DetailApi):
    api_resource = "opportunities"
    http_method_names = ["delete", "options"]
    output_serializer_class = None

    def get_queryset(self) -> QuerySet[Opportunity]:
        return opportunity_visible_to(self.request.user)


class TeamMemberApi(_OpportunityChildDeleteApi):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Take the person off the deal team (204; nothing to remove is a 204 too)."""
        opp = self.get_object()
        user = User.objects.filter(pk=_child_pk(kwargs["user_id"])).first()
        if user is None:
            raise Http404
        opportunity_team_remove(opportunity=opp, actor=request.user, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LineApi(_OpportunityChildDeleteApi):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Remove the BOQ line of the product (204); the amount is recomputed."""
        opp = self.get_object()
        product = product_visible_to(request.user).filter(pk=_child_pk(kwargs["product_id"])).first()
        if product is None:
            raise Http404
        opportunity_line_remove(opportunity=opp, actor=request.user, product=product)
        return Response(status=status.HTTP_204_NO_CONTENT)
