"""Reads of leads and opportunities, each behind one visibility selector."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.selectors import Scope, scope_for
from pipeline.models import GateDecision, Lead, Opportunity, OpportunityTeamMember, Product
from relationships.selectors import customer_ids_on_team


def lead_scope_q(scope: Scope) -> Q:
    if scope.everything:
        return Q()
    query = scope.units_q("org_unit")
    if scope.user_id is not None:
        uid = scope.user_id
        query |= Q(owner_id=uid) | Q(nurturer_id=uid) | Q(customer_id__in=customer_ids_on_team(uid))
    return query


def lead_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[Lead]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return Lead.objects.none()
    return Lead.objects.filter(lead_scope_q(scope)).select_related(
        "customer", "owner", "nurturer", "org_unit"
    )


def opportunity_ids_on_team(user_id: int) -> QuerySet:
    return OpportunityTeamMember.objects.filter(user_id=user_id).values("opportunity_id")


def opportunity_scope_q(scope: Scope, *, prefix: str = "") -> Q:
    if scope.everything:
        return Q()
    query = scope.units_q(f"{prefix}org_unit")
    if scope.user_id is not None:
        uid = scope.user_id
        query |= Q(**{f"{prefix}owner_id": uid})
        query |= Q(**{f"{prefix}pk__in": opportunity_ids_on_team(uid)})
        query |= Q(**{f"{prefix}customer_id__in": customer_ids_on_team(uid)})
    return query


def opportunity_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[Opportunity]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return Opportunity.objects.none()
    return Opportunity.objects.filter(opportunity_scope_q(scope)).select_related(
        "customer", "owner", "org_unit"
    )


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
