"""Browser pages of the pipeline: My week, the customer page, leads and opportunities.

Thin views: parse the form, call a selector or a service, render. Every list and record comes through a
`*_visible_to(request.user)` selector (another branch's record is a 404); a service's refusal
(`ApplicationError`, `NotAllowed`) becomes a message on the page, never a 500. Winning an opportunity opens a
contract, so that action is `contracts.views.opportunity_win`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from accounts.selectors import scope_for
from ltc.errors import ApplicationError
from pipeline.forms import (
    GateDecisionForm,
    LeadConvertForm,
    LeadCreateForm,
    LeadFilterForm,
    LeadNurturerForm,
    LeadQualifyForm,
    LeadReviewForm,
    OpportunityCloseForm,
    OpportunityFilterForm,
    OpportunityMoveForm,
    ReasonForm,
    active_users,
)
from pipeline.models import OPEN_STAGES, Lead, Opportunity, OpportunityLine, Stage
from pipeline.selectors import lead_visible_to, opportunity_ids_on_team, opportunity_visible_to
from pipeline.services.leads import (
    lead_assign_nurturer,
    lead_close,
    lead_convert,
    lead_create,
    lead_from_visit,
    lead_may_act,
    lead_qualify,
    lead_review_record,
    leads_due_for_review,
)
from pipeline.services.opportunities import (
    gate_decide,
    opportunity_abandon,
    opportunity_lose,
    opportunity_move_stage,
)
from pipeline.services.opportunities.access import can_drive, is_manager_above
from pipeline.services.opportunities.gates import GATE_AT_STAGE, STAGE_GATE
from relationships.forms import customer_picker, form_add_application_error
from relationships.models import IRON_TRIANGLE
from relationships.selectors import customer_visible_to, visit_visible_to, visits_per_rep_week, week_start
from relationships.views import customer_detail_context, paginate

# --- Shared ------------------------------------------------------------------------------------------------


def refusal_text(exc: ApplicationError) -> str:
    """A service's refusal as one line: the message, then the field messages that add something."""
    parts = [str(exc.message)]
    for problems in (exc.extra or {}).values():
        if isinstance(problems, list | tuple):
            parts += [str(p) for p in problems if isinstance(p, str) and str(p) not in parts]
    return " ".join(parts)


def form_errors_text(form: Any) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def run_action(request: HttpRequest, action: Callable[[], Any], success: str) -> Any:
    """Call a service; its refusal becomes an error message (returns None), success a success message."""
    try:
        result = action()
    except ApplicationError as exc:
        messages.error(request, refusal_text(exc))
        return None
    messages.success(request, success)
    return result


def is_manager(user: User) -> bool:
    return bool(user.is_manager or user.sees_everything)


# --- My week ---------------------------------------------------------------------------------------------


@login_required
def my_week(request: HttpRequest) -> HttpResponse:
    """A rep's week: visits against the quota, leads due for review, open deals by stage, next steps due.
    A manager also sees the visits of the reps below. Nine queries whatever the data."""
    user = request.user
    scope = scope_for(user)
    today = timezone.localdate()
    monday = week_start(today)
    sunday = monday + dt.timedelta(days=6)

    rows = visits_per_rep_week(user, week_from=today, scope=scope)
    own = next((row for row in rows if row["rep_id"] == user.pk), None)
    team_rows = [row for row in rows if row["rep_id"] != user.pk]
    team_rows.sort(key=lambda row: (row["met"], row["visits"], row["rep"]))
    visits = list(
        visit_visible_to(user, scope=scope)
        .filter(rep=user, visited_on__gte=monday, visited_on__lte=sunday)
        .order_by("-visited_on", "-pk")[:50]
    )
    quota = settings.LTC["VISIT_QUOTA_PER_WEEK"]
    done = own["visits"] if own else len(visits)

    leads_due = list(
        lead_visible_to(user, scope=scope)
        .filter(pk__in=leads_due_for_review(week=today).values("pk"))
        .filter(Q(nurturer=user) | Q(nurturer__isnull=True, owner=user))
        .order_by("next_review_on", "pk")[:20]
    )
    opportunities = list(
        opportunity_visible_to(user, scope=scope)
        .filter(stage__in=OPEN_STAGES)
        .filter(Q(owner=user) | Q(pk__in=opportunity_ids_on_team(user.pk)))
        .order_by("expected_sign_on", "pk")[:100]
    )
    by_stage = []
    for stage in OPEN_STAGES:
        deals = [opp for opp in opportunities if opp.stage == stage]
        by_stage.append(
            {
                "stage": stage,
                "label": stage.label,
                "deals": deals,
                "amount": sum((o.amount for o in deals), Decimal(0)),
            }
        )
    next_steps = list(
        visit_visible_to(user, scope=scope)
        .filter(rep=user, next_step_on__gte=today - dt.timedelta(days=14), next_step_on__lte=sunday)
        .exclude(next_step="")
        .order_by("next_step_on", "pk")[:20]
    )
    context = {
        "today": today,
        "monday": monday,
        "sunday": sunday,
        "done": done,
        "quota": quota,
        "has_quota": own is not None,  # the quota is a sales rep's (and anyone's who logs visits)
        "to_go": max(0, quota - done),
        "quota_pct": min(100, round(100 * done / quota)) if quota else 100,
        "visits": visits,
        "team_rows": team_rows[:50],
        "team_more": max(0, len(team_rows) - 50),
        "leads_due": leads_due,
        "by_stage": by_stage,
        "open_count": len(opportunities),
        "next_steps": next_steps,
    }
    return render(request, "home.html", context)


# --- The customer page -----------------------------------------------------------------------------------


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(customer_visible_to(request.user), pk=pk)
    context = customer_detail_context(request.user, customer)
    context["leads"] = list(
        lead_visible_to(request.user).filter(customer=customer).order_by("-created_at", "-pk")[:20]
    )
    context["opportunities"] = list(
        opportunity_visible_to(request.user).filter(customer=customer).order_by("-created_at", "-pk")[:20]
    )
    return render(request, "relationships/customer_detail.html", context)


# --- Leads -----------------------------------------------------------------------------------------------


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    data = request.GET.copy()
    data.setdefault("whose", "team" if is_manager(user) else "mine")
    form = LeadFilterForm(data)
    leads = lead_visible_to(user)
    if form.is_valid():
        if form.cleaned_data["whose"] == "mine":
            leads = leads.filter(Q(owner=user) | Q(nurturer=user))
        if form.cleaned_data["status"]:
            leads = leads.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["q"]:
            leads = leads.filter(title__icontains=form.cleaned_data["q"])
    page = paginate(request, leads.order_by("-created_at", "-pk"))
    return render(request, "pipeline/lead_list.html", {"form": form, "page": page})


@login_required
@require_http_methods(["GET", "POST"])
def lead_create_view(request: HttpRequest) -> HttpResponse:
    """A new lead, for a customer or a prospect, or revealed by a visit (`?visit=<id>` prefills the form).

    A similar open lead is a warning: the candidates are shown with a "create anyway" box."""
    user = request.user
    visit_id = request.POST.get("visit") or request.GET.get("visit") or ""
    visit = get_object_or_404(visit_visible_to(user), pk=int(visit_id)) if visit_id.isdigit() else None
    q = request.GET.get("q", "").strip()
    preselected = None
    if request.GET.get("customer", "").isdigit():
        preselected = customer_visible_to(user).filter(pk=int(request.GET["customer"])).first()
    customers = [] if visit is not None else customer_picker(user, q=q, selected=preselected)
    duplicates: list[Lead] = []
    duplicate_warning = False
    if request.method == "POST":
        form = LeadCreateForm(request.POST, user=user, customers=customers)
        if form.is_valid():
            data = form.cleaned_data
            common = {
                "actor": user,
                "title": data["title"],
                "need": data["need"],
                "budget_known": data["budget_known"],
                "estimated_amount": data["estimated_amount"] or Decimal(0),
                "next_review_on": data["next_review_on"],
                "allow_duplicate": data["allow_duplicate"],
            }
            try:
                if visit is not None:
                    lead = lead_from_visit(visit=visit, **common)
                else:
                    lead = lead_create(
                        customer=data["customer"],
                        prospect_name=data["prospect_name"] if data["customer"] is None else "",
                        source=data["source"],
                        **common,
                    )
            except ApplicationError as exc:
                form_add_application_error(form, exc)
                if exc.code == "duplicate":
                    duplicate_warning = True
                    ids = [pk for pk in exc.extra.get("duplicates", []) if isinstance(pk, int)]
                    duplicates = list(lead_visible_to(user).filter(pk__in=ids).order_by("pk"))
            else:
                messages.success(request, _("Lead created. 线索已创建。"))
                return redirect("lead-detail", pk=lead.pk)
    else:
        initial: dict[str, Any] = {}
        if visit is not None:
            initial = {
                "visit": visit.pk,
                "title": visit.next_step or visit.purpose,
                "need": visit.outcome,
                "source": Lead.Source.VISIT,
            }
        elif preselected is not None:
            initial["customer"] = preselected.pk
        form = LeadCreateForm(initial=initial, user=user, customers=customers)
    context = {
        "form": form,
        "visit": visit,
        "q": q,
        "duplicates": duplicates,
        "duplicate_warning": duplicate_warning,
    }
    return render(request, "pipeline/lead_form.html", context)


def _lead_for(request: HttpRequest, pk: int) -> Lead:
    leads = lead_visible_to(request.user).select_related(
        "owner__org_unit", "nurturer__org_unit", "opportunity", "source_visit", "merged_into"
    )
    return get_object_or_404(leads, pk=pk)


def _colleagues(user: User, lead: Lead) -> list[User]:
    """The people offered as nurturer: the active users of the lead's representative office (its parent)."""
    ids = lead.org_unit.path.strip("/").split("/")
    office_path = "/" + "/".join(ids[:-1]) + "/" if len(ids) > 1 else lead.org_unit.path
    return list(active_users(user).filter(org_unit__path__startswith=office_path)[:200])


@login_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_for(request, pk)
    user = request.user
    may_act = lead_may_act(user, lead)
    is_open = lead.status in Lead.OPEN_STATUSES
    context: dict[str, Any] = {
        "lead": lead,
        "may_act": may_act,
        "is_open": is_open,
        "qualifications": list(
            lead.qualifications.select_related("qualified_by").order_by("-created_at", "-pk")
        ),
        "reviews": list(lead.reviews.select_related("decided_by", "reassigned_to").order_by("-week", "-pk")),
        "transitions": list(lead.transitions.select_related("actor").order_by("created_at", "pk")),
        "opportunity": getattr(lead, "opportunity", None),
    }
    if may_act and is_open:
        offered = _colleagues(user, lead)
        context.update(
            qualify_form=LeadQualifyForm(),
            nurturer_form=LeadNurturerForm(
                user=user, offered=offered, initial={"nurturer": lead.nurturer_id}
            ),
            review_form=LeadReviewForm(user=user, offered=offered),
            convert_form=LeadConvertForm(initial={"name": lead.title, "amount": lead.estimated_amount}),
            close_form=ReasonForm(),
        )
    return render(request, "pipeline/lead_detail.html", context)


def _lead_action(request: HttpRequest, pk: int, form: Any, act: Callable[[Lead, dict], Any], success: str):
    lead = _lead_for(request, pk)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("lead-detail", pk=lead.pk)
    result = run_action(request, lambda: act(lead, form.cleaned_data), success)
    if isinstance(result, Opportunity):
        return redirect("opportunity-detail", pk=result.pk)
    return redirect("lead-detail", pk=lead.pk)


@login_required
@require_POST
def lead_qualify_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _lead_action(
        request,
        pk,
        LeadQualifyForm(request.POST),
        lambda lead, d: lead_qualify(lead=lead, actor=request.user, **d),
        _("Lead qualified. 线索已验证。"),
    )


@login_required
@require_POST
def lead_nurturer_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _lead_action(
        request,
        pk,
        LeadNurturerForm(request.POST, user=request.user, offered=[]),
        lambda lead, d: lead_assign_nurturer(lead=lead, actor=request.user, nurturer=d["nurturer"]),
        _("Nurturer assigned. 已指定培育人。"),
    )


@login_required
@require_POST
def lead_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    def review(lead: Lead, d: dict) -> Any:
        lead_review_record(
            lead=lead,
            actor=request.user,
            decision=d["decision"],
            reason=d["reason"],
            reassign_to=d["reassign_to"],
        )
        # A CONVERT decision converts: go to the new opportunity.
        return Opportunity.objects.filter(lead_id=lead.pk).first()

    return _lead_action(
        request,
        pk,
        LeadReviewForm(request.POST, user=request.user, offered=[]),
        review,
        _("Review decision recorded. 评审决定已记录。"),
    )


@login_required
@require_POST
def lead_convert_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _lead_action(
        request,
        pk,
        LeadConvertForm(request.POST),
        lambda lead, d: lead_convert(
            lead=lead,
            actor=request.user,
            name=d["name"] or None,
            amount=d["amount"],
            expected_sign_on=d["expected_sign_on"],
        ),
        _("Lead converted into an opportunity. 线索已转化为机会点。"),
    )


@login_required
@require_POST
def lead_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _lead_action(
        request,
        pk,
        ReasonForm(request.POST),
        lambda lead, d: lead_close(lead=lead, actor=request.user, reason=d["reason"]),
        _("Lead closed. 线索已关闭。"),
    )


# --- Opportunities ---------------------------------------------------------------------------------------


@login_required
def opportunity_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    data = request.GET.copy()
    data.setdefault("whose", "team" if is_manager(user) else "mine")
    form = OpportunityFilterForm(data)
    opportunities = opportunity_visible_to(user)
    if form.is_valid():
        if form.cleaned_data["whose"] == "mine":
            opportunities = opportunities.filter(Q(owner=user) | Q(pk__in=opportunity_ids_on_team(user.pk)))
        if form.cleaned_data["stage"]:
            opportunities = opportunities.filter(stage=form.cleaned_data["stage"])
        if form.cleaned_data["q"]:
            opportunities = opportunities.filter(name__icontains=form.cleaned_data["q"])
    page = paginate(request, opportunities.order_by("-updated_at", "-pk"))
    return render(request, "pipeline/opportunity_list.html", {"form": form, "page": page})


STAGE_BAR = (*OPEN_STAGES, Stage.WON)


def _stage_bar(opp: Opportunity) -> list[dict[str, Any]]:
    reached = STAGE_BAR.index(opp.stage) if opp.stage in STAGE_BAR else -1
    bar = []
    for index, stage in enumerate(STAGE_BAR):
        state = "done" if index < reached else "current" if index == reached else "todo"
        bar.append({"stage": stage, "label": stage.label, "gate": STAGE_GATE.get(stage), "state": state})
    return bar


@login_required
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The deal: stage bar, iron triangle, gate decisions, stage history, BOQ and the actions the user may take.
    Nine queries at most."""
    user = request.user
    opp = get_object_or_404(opportunity_visible_to(user).select_related("lead"), pk=pk)
    team = list(opp.team.select_related("user").order_by("role", "pk"))
    by_role = {m.role: m for m in team}
    context: dict[str, Any] = {
        "opp": opp,
        "stage_bar": _stage_bar(opp),
        "triangle": [(role, role.label, by_role.get(role)) for role in IRON_TRIANGLE],
        "other_team": [m for m in team if m.role not in IRON_TRIANGLE],
        "decisions": list(
            opp.gate_decisions.select_related("decider", "escalated_to").order_by("-created_at", "-pk")
        ),
        "transitions": list(opp.transitions.select_related("actor").order_by("created_at", "pk")),
        "lines": list(
            OpportunityLine.objects.filter(opportunity=opp).select_related("product").order_by("pk")
        ),
    }
    if opp.is_open:
        drives = can_drive(user, opp)
        gate = GATE_AT_STAGE.get(opp.stage)
        here = OPEN_STAGES.index(opp.stage)
        next_stage = OPEN_STAGES[here + 1] if here + 1 < len(OPEN_STAGES) else None
        context.update(
            drives=drives,
            gate=gate,
            gate_label=gate.label if gate else "",
            next_stage=next_stage,
            may_decide=bool(gate) and is_manager(user) and is_manager_above(user, opp),
            move_form=OpportunityMoveForm(initial={"to_stage": next_stage or opp.stage}),
            gate_form=GateDecisionForm(initial={"outcome": "GO"}),
            close_form=OpportunityCloseForm(),
            can_win=opp.stage == Stage.NEGOTIATE,
        )
    return render(request, "pipeline/opportunity_detail.html", context)


def _opportunity_action(
    request: HttpRequest, pk: int, form: Any, act: Callable[[Opportunity, dict], Any], success: str
):
    opp = get_object_or_404(opportunity_visible_to(request.user), pk=pk)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
    else:
        run_action(request, lambda: act(opp, form.cleaned_data), success)
    return redirect("opportunity-detail", pk=opp.pk)


@login_required
@require_POST
def opportunity_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _opportunity_action(
        request,
        pk,
        OpportunityMoveForm(request.POST),
        lambda opp, d: opportunity_move_stage(
            opportunity=opp, actor=request.user, to_stage=d["to_stage"], reason=d["reason"]
        ),
        _("Stage changed. 阶段已变更。"),
    )


@login_required
@require_POST
def opportunity_gate_view(request: HttpRequest, pk: int) -> HttpResponse:
    def decide(opp: Opportunity, d: dict) -> Any:
        gate = GATE_AT_STAGE.get(opp.stage, "")
        return gate_decide(
            opportunity=opp, actor=request.user, gate=gate, outcome=d["outcome"], conditions=d["conditions"]
        )

    return _opportunity_action(
        request, pk, GateDecisionForm(request.POST), decide, _("Gate decision recorded. 决策已记录。")
    )


@login_required
@require_POST
def opportunity_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    def close(opp: Opportunity, d: dict) -> Any:
        service = opportunity_lose if d["outcome"] == Stage.LOST else opportunity_abandon
        return service(opportunity=opp, actor=request.user, reason=d["reason"])

    return _opportunity_action(
        request, pk, OpportunityCloseForm(request.POST), close, _("Opportunity closed. 机会点已关闭。")
    )
