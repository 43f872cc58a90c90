"""Reads of leads and opportunities, each behind one visibility selector."""

from __future__ import annotations

import datetime as dt

from django.db.models import Avg, Count, DurationField, Expression, ExpressionWrapper, F, Q, QuerySet

from accounts.models import User
from accounts.selectors import Scope, scope_cached, scope_for
from pipeline.models import GateDecision, Lead, Opportunity, OpportunityTeamMember, Product, SupportRequest
from relationships.selectors import customer_of_q


def lead_scope_q(scope: Scope) -> Q:
    """Leads filed below, found or nurtured by the actor or someone below, or of a visible customer."""
    if scope.everything:
        return Q()
    return (
        scope.units_q("org_unit")
        | scope.people_q("owner")
        | scope.people_q("nurturer")
        | customer_of_q(scope, "customer")
    )


@scope_cached
def lead_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[Lead]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return Lead.objects.none()
    return Lead.objects.filter(lead_scope_q(scope)).select_related(
        "customer", "owner", "nurturer", "org_unit"
    )


def opportunity_ids_on_team(user_id: int) -> QuerySet:
    return OpportunityTeamMember.objects.filter(user_id=user_id).values("opportunity_id")


def opportunity_scope_q(scope: Scope, *, prefix: str = "", unless_customer: Expression | None = None) -> Q:
    """Deals filed below, owned by the actor or someone below, of a visible customer, or on the deal team.

    `unless_customer`: a customer id the caller tests itself (a contract's customer, when testing the
    contract's deal): the deal's customer is then only looked up when it is another one. Same rows, one
    primary-key probe fewer per deal walked.
    """
    if scope.everything:
        return Q()
    customer = customer_of_q(scope, f"{prefix}customer")
    if unless_customer is not None:
        customer = ~Q(**{f"{prefix}customer_id": unless_customer}) & customer
    query = scope.units_q(f"{prefix}org_unit") | scope.people_q(f"{prefix}owner") | customer
    if scope.user_id is not None:
        query |= Q(**{f"{prefix}pk__in": opportunity_ids_on_team(scope.user_id)})
    return query


def visible_opportunity_ids(scope: Scope) -> QuerySet:
    """A subquery of the ids of the opportunities the scope may see."""
    return Opportunity.objects.filter(opportunity_scope_q(scope)).values("id")


@scope_cached
def opportunity_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[Opportunity]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return Opportunity.objects.none()
    return Opportunity.objects.filter(opportunity_scope_q(scope)).select_related(
        "customer", "owner", "org_unit"
    )


@scope_cached
def gate_decision_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[GateDecision]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return GateDecision.objects.none()
    return GateDecision.objects.filter(opportunity_scope_q(scope, prefix="opportunity__")).select_related(
        "opportunity", "decider"
    )


def product_visible_to(user: User) -> QuerySet[Product]:
    """The catalogue is shared reference data."""
    if not user.is_authenticated:
        return Product.objects.none()
    return Product.objects.all()


@scope_cached
def support_request_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[SupportRequest]:
    """Support requests follow their opportunity's visibility."""
    scope = scope or scope_for(user)
    if scope.is_empty:
        return SupportRequest.objects.none()
    return SupportRequest.objects.filter(opportunity_scope_q(scope, prefix="opportunity__")).select_related(
        "opportunity", "requested_by", "expert"
    )


def support_request_response_time(request: SupportRequest) -> dt.timedelta | None:
    """How long the resource centre took to answer: assigned_at − created_at (None while unassigned)."""
    if request.assigned_at is None:
        return None
    return request.assigned_at - request.created_at


def with_response_time(requests: QuerySet[SupportRequest]) -> QuerySet[SupportRequest]:
    """Annotate `response_time` (assigned_at − created_at; NULL while unassigned) in the database."""
    return requests.annotate(
        response_time=ExpressionWrapper(F("assigned_at") - F("created_at"), output_field=DurationField())
    )


def support_response_summary(requests: QuerySet[SupportRequest]) -> dict:
    """{"requests": n, "answered": m, "average_response": timedelta | None} over the given requests."""
    return with_response_time(requests).aggregate(
        requests=Count("id"),
        answered=Count("assigned_at"),
        average_response=Avg("response_time"),
    )
