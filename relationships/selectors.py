"""Reads of customers, contacts, visits and relationship work, each behind one visibility selector."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.selectors import Scope, scope_for
from relationships.models import (
    Contact,
    Customer,
    CustomerIssue,
    CustomerTeamMember,
    RelationshipAssessment,
    RelationshipPlan,
    Visit,
)


def customer_ids_on_team(user_id: int) -> QuerySet:
    return CustomerTeamMember.objects.filter(user_id=user_id).values("customer_id")


def customer_scope_q(scope: Scope, *, prefix: str = "") -> Q:
    """Customers the scope may see: own, on the customer's team, or below in the org tree."""
    if scope.everything:
        return Q()
    query = scope.units_q(f"{prefix}account_dept")
    if scope.user_id is not None:
        uid = scope.user_id
        query |= Q(**{f"{prefix}owner_id": uid})
        query |= Q(**{f"{prefix}pk__in": customer_ids_on_team(uid)})
    return query


def customer_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[Customer]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return Customer.objects.none()
    return Customer.objects.filter(customer_scope_q(scope)).select_related("account_dept", "owner")


def contact_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[Contact]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return Contact.objects.none()
    if scope.everything:
        return Contact.objects.select_related("customer", "owner")
    return Contact.objects.filter(
        customer_id__in=Customer.objects.filter(customer_scope_q(scope)).values("id")
    ).select_related("customer", "owner")


def private_notes_visible(user: User, contact: Contact, *, scope: Scope | None = None) -> bool:
    """The private relationship card: the owner and the people above the owner, never peers."""
    scope = scope or scope_for(user)
    if scope.everything:
        return True
    if contact.owner_id is None:
        return scope.covers_unit(contact.customer.account_dept)
    return scope.covers_user(contact.owner)


def visit_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[Visit]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return Visit.objects.none()
    qs = Visit.objects.select_related("customer", "rep", "org_unit")
    if scope.everything:
        return qs
    query = scope.units_q("org_unit")
    if scope.user_id is not None:
        query |= Q(rep_id=scope.user_id) | Q(customer_id__in=customer_ids_on_team(scope.user_id))
    return qs.filter(query)


def customer_issue_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[CustomerIssue]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return CustomerIssue.objects.none()
    qs = CustomerIssue.objects.select_related("customer", "owner")
    if scope.everything:
        return qs
    return qs.filter(customer_id__in=Customer.objects.filter(customer_scope_q(scope)).values("id"))


def relationship_plan_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[RelationshipPlan]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return RelationshipPlan.objects.none()
    qs = RelationshipPlan.objects.select_related("customer", "owner")
    if scope.everything:
        return qs
    return qs.filter(customer_id__in=Customer.objects.filter(customer_scope_q(scope)).values("id"))


def relationship_assessment_visible_to(
    user: User, *, scope: Scope | None = None
) -> QuerySet[RelationshipAssessment]:
    """Assessments are private relationship cards: the assessor and the people above, never peers."""
    scope = scope or scope_for(user)
    if scope.is_empty:
        return RelationshipAssessment.objects.none()
    qs = RelationshipAssessment.objects.select_related("contact", "contact__customer", "assessor")
    if scope.everything:
        return qs
    query = scope.units_q("assessor__org_unit")
    if scope.user_id is not None:
        query |= Q(assessor_id=scope.user_id)
    return qs.filter(query)
