"""Browser pages of customers and visits: thin views over the selectors and services.

The customer detail page also lists the customer's leads and opportunities, which live in the app above, so
that page is `pipeline.views.customer_detail`; it builds on `customer_detail_context` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import User
from accounts.selectors import scope_for
from ltc.errors import ApplicationError
from relationships.forms import (
    CustomerFilterForm,
    VisitLogForm,
    customer_picker,
    form_add_application_error,
)
from relationships.models import IRON_TRIANGLE, Contact, Customer, CustomerTeamMember, TriangleRole
from relationships.selectors import (
    contact_visible_to,
    customer_visible_to,
    private_notes_visible,
    visit_visible_to,
)
from relationships.services import visit_log

PAGE_SIZE = 25


@dataclass
class Page:
    """One page of a list, without a COUNT: `PAGE_SIZE + 1` rows are read to know whether a next page exists."""

    items: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def previous_number(self) -> int:
        return self.number - 1


def paginate(request: HttpRequest, queryset: QuerySet, *, size: int = PAGE_SIZE) -> Page:
    try:
        number = max(1, min(int(request.GET.get("page", 1)), 10_000))
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * size
    rows = list(queryset[start : start + size + 1])
    return Page(items=rows[:size], number=number, has_next=len(rows) > size)


# --- Visits ----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def visit_create(request: HttpRequest) -> HttpResponse:
    """Log a visit from a phone: pick the customer, write the notes, save (type and date have defaults)."""
    user = request.user
    q = request.GET.get("q", "").strip()
    preselected = None
    if request.method == "GET" and request.GET.get("customer", "").isdigit():
        preselected = customer_visible_to(user).filter(pk=int(request.GET["customer"])).first()
    customers = customer_picker(user, q=q, selected=preselected)
    if request.method == "POST":
        form = VisitLogForm(request.POST, user=user, customers=customers)
        if form.is_valid():
            data = form.cleaned_data
            try:
                visit = visit_log(
                    actor=user,
                    customer=data["customer"],
                    visited_on=data["visited_on"],
                    visit_type=data["visit_type"],
                    purpose=data["purpose"],
                    outcome=data["outcome"],
                    next_step=data["next_step"],
                    next_step_on=data["next_step_on"],
                )
            except ApplicationError as exc:
                form_add_application_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Visit to %(customer)s logged. 已记录对%(customer)s的拜访。")
                    % {"customer": visit.customer.name},
                )
                return redirect("my-week")
    else:
        initial: dict[str, Any] = {}
        if preselected is not None:
            initial["customer"] = preselected.pk
        elif q and len(customers) == 1:
            initial["customer"] = customers[0].pk
        form = VisitLogForm(initial=initial, user=user, customers=customers)
    return render(request, "relationships/visit_form.html", {"form": form, "q": q, "found": len(customers)})


# --- Customers -------------------------------------------------------------------------------------------


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    form = CustomerFilterForm(request.GET or None)
    customers = customer_visible_to(request.user)
    if form.is_valid():
        if form.cleaned_data["q"]:
            customers = customers.filter(name__icontains=form.cleaned_data["q"])
        if form.cleaned_data["tier"]:
            customers = customers.filter(tier=form.cleaned_data["tier"])
        if form.cleaned_data["industry"]:
            customers = customers.filter(industry=form.cleaned_data["industry"])
    page = paginate(request, customers.order_by("name", "pk"))
    return render(request, "relationships/customer_list.html", {"form": form, "page": page})


# The order of the power map: who decides first, then who shapes the decision.
POWER_MAP_ORDER = ("DECIDER", "APPROVER", "INFLUENCER", "INITIATOR", "BUYER", "GATEKEEPER", "USER")


def customer_detail_context(user: User, customer: Customer) -> dict[str, Any]:
    """The relationships part of the customer page: archive, iron triangle, power map, recent visits.

    Three queries: the team, the contacts (with their owners' units, for the private-card rule), and the
    recent visits.
    """
    scope = scope_for(user)
    team = list(
        CustomerTeamMember.objects.filter(customer=customer).select_related("user").order_by("role", "pk")
    )
    by_role = {member.role: member for member in team}
    triangle = [(role, TriangleRole(role).label, by_role.get(role)) for role in IRON_TRIANGLE]
    others = [m for m in team if m.role not in IRON_TRIANGLE]

    contacts = list(
        contact_visible_to(user, scope=scope)
        .filter(customer=customer)
        .select_related("owner__org_unit")
        .order_by("name", "pk")
    )
    groups: dict[str, list[dict[str, Any]]] = {role: [] for role in POWER_MAP_ORDER}
    for contact in contacts:
        contact.customer = customer  # the page's customer, with its account department already read
        groups.setdefault(contact.decision_role, []).append(
            {
                "contact": contact,
                "private_notes": contact.private_notes
                if private_notes_visible(user, contact, scope=scope)
                else None,
            }
        )
    power_map = [(Contact.DecisionRole(role).label, rows) for role, rows in groups.items() if rows]
    visits = list(
        visit_visible_to(user, scope=scope).filter(customer=customer).order_by("-visited_on", "-pk")[:10]
    )
    archive = [
        (Customer._meta.get_field(field).verbose_name, getattr(customer, field))
        for field in Customer.ARCHIVE_FIELDS
    ]
    return {
        "customer": customer,
        "archive": archive,
        "archive_empty": not any((text or "").strip() for _label, text in archive),
        "triangle": triangle,
        "other_team": others,
        "power_map": power_map,
        "contact_count": len(contacts),
        "visits": visits,
    }
