"""Reads of contracts and cash, each behind one visibility selector."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.selectors import Scope, scope_for
from contracts.models import Contract, Invoice, PaymentMilestone, Receipt
from pipeline.selectors import opportunity_ids_on_team
from relationships.selectors import customer_ids_on_team


def contract_scope_q(scope: Scope, *, prefix: str = "") -> Q:
    if scope.everything:
        return Q()
    query = scope.units_q(f"{prefix}org_unit")
    if scope.user_id is not None:
        uid = scope.user_id
        query |= Q(**{f"{prefix}owner_id": uid})
        query |= Q(**{f"{prefix}opportunity_id__in": opportunity_ids_on_team(uid)})
        query |= Q(**{f"{prefix}customer_id__in": customer_ids_on_team(uid)})
    return query


def contract_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[Contract]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return Contract.objects.none()
    return Contract.objects.filter(contract_scope_q(scope)).select_related("customer", "owner", "org_unit")


def _visible_contract_ids(scope: Scope) -> QuerySet:
    return Contract.objects.filter(contract_scope_q(scope)).values("id")


def milestone_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[PaymentMilestone]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return PaymentMilestone.objects.none()
    qs = PaymentMilestone.objects.select_related("contract")
    return qs if scope.everything else qs.filter(contract_id__in=_visible_contract_ids(scope))


def invoice_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[Invoice]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return Invoice.objects.none()
    qs = Invoice.objects.select_related("contract", "milestone")
    return qs if scope.everything else qs.filter(contract_id__in=_visible_contract_ids(scope))


def receipt_visible_to(user: User, *, scope: Scope | None = None) -> QuerySet[Receipt]:
    scope = scope or scope_for(user)
    if scope.is_empty:
        return Receipt.objects.none()
    qs = Receipt.objects.select_related("contract", "invoice")
    return qs if scope.everything else qs.filter(contract_id__in=_visible_contract_ids(scope))
