"""Browser pages of contracts and cash, and the win action that turns an opportunity into a contract.

Thin views like pipeline.views: records through the `*_visible_to` selectors (404 otherwise), writes through
the services, refusals shown as messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from contracts.forms import (
    ContractFilterForm,
    InvoiceIssueForm,
    MilestoneAchieveForm,
    OpportunityWinForm,
    ReceiptRecordForm,
)
from contracts.models import Contract, Invoice
from contracts.selectors import (
    contract_balance,
    contract_visible_to,
    invoice_visible_to,
    milestone_visible_to,
    receipt_visible_to,
)
from contracts.services import (
    contract_confirm,
    invoice_issue,
    milestone_achieve,
    opportunity_win,
    receipt_record,
)
from contracts.services.access import can_work
from ltc.errors import ApplicationError
from pipeline.models import Opportunity, Stage
from pipeline.selectors import opportunity_visible_to
from pipeline.views import form_errors_text, run_action
from relationships.forms import form_add_application_error
from relationships.views import paginate

UNPAID = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)


@login_required
def contract_list(request: HttpRequest) -> HttpResponse:
    form = ContractFilterForm(request.GET or None)
    contracts = contract_visible_to(request.user)
    if form.is_valid():
        if form.cleaned_data["status"]:
            contracts = contracts.filter(status=form.cleaned_data["status"])
        q = form.cleaned_data["q"]
        if q:
            contracts = contracts.filter(Q(number__icontains=q) | Q(title__icontains=q))
    page = paginate(request, contracts.order_by("-signed_on", "-pk"))
    return render(request, "contracts/contract_list.html", {"form": form, "page": page})


@login_required
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The contract with its milestones, invoices and receipts, and the cash actions for those allowed.
    Eight queries at most."""
    user = request.user
    contract = get_object_or_404(contract_visible_to(user).select_related("opportunity"), pk=pk)
    milestones = list(milestone_visible_to(user).filter(contract=contract).order_by("sequence"))
    invoices = list(
        invoice_visible_to(user).filter(contract=contract).select_related(None).order_by("issued_on", "pk")
    )
    receipts = list(
        receipt_visible_to(user)
        .filter(contract=contract)
        .select_related("invoice")
        .order_by("received_on", "pk")
    )
    milestone_by_pk = {m.pk: m for m in milestones}
    for invoice in invoices:
        invoice.milestone_obj = milestone_by_pk.get(invoice.milestone_id)
    works = can_work(user, contract)
    executing = contract.status == Contract.Status.EXECUTING
    context: dict[str, Any] = {
        "contract": contract,
        "balance": contract_balance(contract),
        "milestones": milestones,
        "invoices": invoices,
        "receipts": receipts,
        "works": works,
        "can_confirm": works and contract.status == Contract.Status.RECEIVED,
        "executing": executing,
    }
    if works and executing:
        open_milestones = [m for m in milestones if m.invoiced_amount < m.amount]
        unpaid = [inv for inv in invoices if inv.status in UNPAID]
        context["invoice_form"] = InvoiceIssueForm(
            milestones=milestone_visible_to(user).filter(contract=contract), offered=open_milestones
        )
        context["receipt_form"] = ReceiptRecordForm(
            invoices=invoice_visible_to(user).filter(contract=contract), offered=unpaid
        )
    return render(request, "contracts/contract_detail.html", context)


def _contract_action(
    request: HttpRequest, pk: int, form: Any, act: Callable[[Contract, dict], Any], success: str
) -> HttpResponse:
    contract = get_object_or_404(contract_visible_to(request.user), pk=pk)
    if form is not None and not form.is_valid():
        messages.error(request, form_errors_text(form))
    else:
        run_action(request, lambda: act(contract, form.cleaned_data if form is not None else {}), success)
    return redirect("contract-detail", pk=contract.pk)


@login_required
@require_POST
def contract_confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _contract_action(
        request,
        pk,
        None,
        lambda contract, d: contract_confirm(contract=contract, actor=request.user),
        _("Contract confirmed: now executing. 合同已确认，进入执行。"),
    )


@login_required
@require_POST
def milestone_achieve_view(request: HttpRequest, pk: int, milestone_pk: int) -> HttpResponse:
    milestone = get_object_or_404(milestone_visible_to(request.user).filter(contract_id=pk), pk=milestone_pk)
    return _contract_action(
        request,
        pk,
        MilestoneAchieveForm(request.POST),
        lambda contract, d: milestone_achieve(
            milestone=milestone, actor=request.user, achieved_on=d["achieved_on"]
        ),
        _("Milestone achieved. 里程碑已达成。"),
    )


@login_required
@require_POST
def invoice_issue_view(request: HttpRequest, pk: int) -> HttpResponse:
    milestones = milestone_visible_to(request.user).filter(contract_id=pk)
    return _contract_action(
        request,
        pk,
        InvoiceIssueForm(request.POST, milestones=milestones),
        lambda contract, d: invoice_issue(
            actor=request.user,
            contract=contract,
            milestone=d["milestone"],
            number=d["number"],
            amount=d["amount"],
            issued_on=d["issued_on"],
            due_on=d["due_on"],
        ),
        _("Invoice issued. 发票已开具。"),
    )


@login_required
@require_POST
def receipt_record_view(request: HttpRequest, pk: int) -> HttpResponse:
    invoices = invoice_visible_to(request.user).filter(contract_id=pk)
    return _contract_action(
        request,
        pk,
        ReceiptRecordForm(request.POST, invoices=invoices),
        lambda contract, d: receipt_record(
            actor=request.user,
            invoice=d["invoice"],
            amount=d["amount"],
            received_on=d["received_on"],
            reference=d["reference"],
        ),
        _("Receipt recorded. 回款已记录。"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_win_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Win the deal (NEGOTIATE with an ATC GO) and open its contract; then show the contract."""
    user = request.user
    opp: Opportunity = get_object_or_404(opportunity_visible_to(user), pk=pk)
    existing = Contract.objects.filter(opportunity_id=opp.pk).values_list("pk", flat=True).first()
    if existing is not None and contract_visible_to(user).filter(pk=existing).exists():
        return redirect("contract-detail", pk=existing)
    if request.method == "POST":
        form = OpportunityWinForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                contract = opportunity_win(
                    opportunity=opp,
                    actor=user,
                    payment_terms=data["payment_terms"],
                    signed_on=data["signed_on"],
                    number=data["number"] or None,
                    reason=data["reason"],
                )
            except ApplicationError as exc:
                form_add_application_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Won! Contract %(number)s opened. 赢单！已生成合同%(number)s。")
                    % {"number": contract.number},
                )
                return redirect("contract-detail", pk=contract.pk)
    else:
        form = OpportunityWinForm()
    context = {"opp": opp, "form": form, "at_negotiate": opp.stage == Stage.NEGOTIATE}
    return render(request, "contracts/opportunity_win.html", context)
