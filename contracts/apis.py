"""REST APIs of contracts, invoices and receipts, and the actions of the contract and cash workflow.

Every action is a thin view: the record is looked up through its visibility selector (404 if not visible),
the body parsed by an input serializer, then ONE service of contracts.services is called with
`actor=request.user`. Winning an opportunity is routed under /api/v1/opportunities/{id}/win/ but lives here:
it opens a contract, a step above the pipeline (pipeline never imports contracts).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.response import Response

from contracts.filters import ContractFilter, InvoiceFilter, ReceiptFilter
from contracts.models import Contract, ContractChange, Invoice, PaymentMilestone, Receipt
from contracts.selectors import (
    contract_visible_to,
    invoice_visible_to,
    milestone_visible_to,
    receipt_visible_to,
)
from contracts.serializers import (
    ContractChangeDecideInputSerializer,
    ContractChangeOutputSerializer,
    ContractChangeProposeInputSerializer,
    ContractCloseInputSerializer,
    ContractCreateInputSerializer,
    ContractOutputSerializer,
    InvoiceCancelInputSerializer,
    InvoiceIssueInputSerializer,
    InvoiceOutputSerializer,
    MilestoneAchieveInputSerializer,
    MilestoneOutputSerializer,
    OpportunityWinInputSerializer,
    ReceiptOutputSerializer,
    ReceiptRecordInputSerializer,
)
from contracts.services import (
    contract_change_apply,
    contract_change_decide,
    contract_change_propose,
    contract_close,
    contract_confirm,
    contract_create,
    invoice_cancel,
    invoice_issue,
    milestone_achieve,
    opportunity_win,
    receipt_record,
)
from contracts.services.lifecycle import milestone_plan
from ltc.api.bulk import (
    CHOICE,
    DATE,
    DECIMAL,
    INT,
    BulkContext,
    BulkField,
    BulkReference,
    BulkResult,
    BulkRowsInvalid,
    BulkSpec,
    insert_rows,
    over_limit_ids,
    recompute_totals,
)
from ltc.api.views import ActionApi, BulkUpsertApi, DetailApi, ListCreateApi
from pipeline.models import Opportunity
from pipeline.selectors import opportunity_visible_to
from pipeline.serializers import EmptyInputSerializer
from relationships.apis import OWNER_REFERENCE
from relationships.selectors import customer_visible_to

# --- Contracts ------------------------------------------------------------------------------------------


class ContractListApi(ListCreateApi):
    """GET the visible contracts; POST imports one from the ERP (contract_create: RECEIVED, milestones from
    the payment terms; the same external_id again returns the contract already imported)."""

    api_resource = "contracts"
    filterset_class = ContractFilter
    output_serializer_class = ContractOutputSerializer
    input_serializer_class = ContractCreateInputSerializer

    def get_queryset(self) -> QuerySet[Contract]:
        return contract_visible_to(self.request.user)

    def perform_create(self, data: dict[str, Any]) -> Contract:
        return contract_create(actor=self.request.user, **data)


class ContractDetailApi(DetailApi):
    api_resource = "contracts"
    output_serializer_class = ContractOutputSerializer

    def get_queryset(self) -> QuerySet[Contract]:
        return contract_visible_to(self.request.user)


class _ContractActionApi(ActionApi):
    api_resource = "contracts"
    output_serializer_class = ContractOutputSerializer

    def get_queryset(self) -> QuerySet[Contract]:
        return contract_visible_to(self.request.user)


class ContractConfirmApi(_ContractActionApi):
    """RECEIVED → EXECUTING (money can then be recorded)."""

    input_serializer_class = EmptyInputSerializer

    def perform_action(self, contract: Contract, data: dict[str, Any]) -> Contract:
        return contract_confirm(contract=contract, actor=self.request.user)


class ContractCloseApi(_ContractActionApi):
    """EXECUTING → CLOSED with an evaluation, once delivered, invoiced and collected in full."""

    input_serializer_class = ContractCloseInputSerializer

    def perform_action(self, contract: Contract, data: dict[str, Any]) -> Contract:
        return contract_close(contract=contract, actor=self.request.user, **data)


class ContractMilestonesApi(_ContractActionApi):
    """GET the contract's payment milestones (by sequence)."""

    http_method_names = ["get", "options"]
    output_serializer_class = MilestoneOutputSerializer

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contract = self.get_object()
        rows = PaymentMilestone.objects.filter(contract_id=contract.pk).order_by("sequence")
        data = self.output_serializer_class(rows, many=True, context=self.output_context()).data
        return Response({"next": None, "results": data})


class ContractChangesApi(_ContractActionApi):
    """GET the contract's changes; POST proposes one (it applies only after an approved decision)."""

    http_method_names = ["get", "post", "options"]
    creates = True
    input_serializer_class = ContractChangeProposeInputSerializer
    output_serializer_class = ContractChangeOutputSerializer

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contract = self.get_object()
        rows = ContractChange.objects.filter(contract_id=contract.pk).order_by("created_at", "id")
        data = self.output_serializer_class(rows, many=True, context=self.output_context()).data
        return Response({"next": None, "results": data})

    def perform_action(self, contract: Contract, data: dict[str, Any]) -> ContractChange:
        return contract_change_propose(contract=contract, actor=self.request.user, **data)


class _ContractChildActionApi(ActionApi):
    """An action on a record inside a visible contract: /contracts/{pk}/<children>/{child_pk}/<action>/."""

    api_resource = "contracts"
    child_url_kwarg = "child_pk"

    def get_object(self, *, for_update: bool = False):
        contract_pk = self.kwargs.get("pk")
        self.kwargs["pk"] = self.kwargs[self.child_url_kwarg]
        try:
            instance = super().get_object(for_update=for_update)
        finally:
            self.kwargs["pk"] = contract_pk
        if instance.contract_id != contract_pk:
            raise Http404
        return instance


class ContractChangeDecideApi(_ContractChildActionApi):
    """Approve or reject a proposed change: a manager, executive or admin over the contract's org unit, within
    the authority for the amount, never the proposer (403 otherwise)."""

    input_serializer_class = ContractChangeDecideInputSerializer
    output_serializer_class = ContractChangeOutputSerializer

    def get_queryset(self) -> QuerySet[ContractChange]:
        visible = contract_visible_to(self.request.user).values("id")
        return ContractChange.objects.filter(contract_id__in=visible)

    def perform_action(self, change: ContractChange, data: dict[str, Any]) -> ContractChange:
        return contract_change_decide(change=change, actor=self.request.user, **data)


class ContractChangeApplyApi(_ContractChildActionApi):
    """Apply an approved change (new amount, milestones rescaled on their un-invoiced part; new date)."""

    input_serializer_class = EmptyInputSerializer
    output_serializer_class = ContractChangeOutputSerializer

    def get_queryset(self) -> QuerySet[ContractChange]:
        visible = contract_visible_to(self.request.user).values("id")
        return ContractChange.objects.filter(contract_id__in=visible)

    def perform_action(self, change: ContractChange, data: dict[str, Any]) -> ContractChange:
        return contract_change_apply(change=change, actor=self.request.user)


class MilestoneAchieveApi(_ContractChildActionApi):
    """Record that a payment milestone was reached (default: today)."""

    input_serializer_class = MilestoneAchieveInputSerializer
    output_serializer_class = MilestoneOutputSerializer

    def get_queryset(self) -> QuerySet[PaymentMilestone]:
        return milestone_visible_to(self.request.user)

    def perform_action(self, milestone: PaymentMilestone, data: dict[str, Any]) -> PaymentMilestone:
        return milestone_achieve(milestone=milestone, actor=self.request.user, **data)


class OpportunityWinApi(ActionApi):
    """POST /opportunities/{id}/win/: win the deal (NEGOTIATE with a current ATC GO) and open its contract
    (201 with the contract). Safe to repeat: a won opportunity answers with the contract it already has."""

    api_resource = "opportunities"
    creates = True
    input_serializer_class = OpportunityWinInputSerializer
    output_serializer_class = ContractOutputSerializer

    def get_queryset(self) -> QuerySet[Opportunity]:
        return opportunity_visible_to(self.request.user)

    def perform_action(self, opp: Opportunity, data: dict[str, Any]) -> Contract:
        return opportunity_win(opportunity=opp, actor=self.request.user, **data)


# --- Invoices -------------------------------------------------------------------------------------------


class InvoiceListApi(ListCreateApi):
    """GET the visible invoices; POST issues one against a milestone or a whole contract (invoice_issue: never
    beyond the milestone's or the contract's un-invoiced amount)."""

    api_resource = "invoices"
    filterset_class = InvoiceFilter
    output_serializer_class = InvoiceOutputSerializer
    input_serializer_class = InvoiceIssueInputSerializer

    def get_queryset(self) -> QuerySet[Invoice]:
        return invoice_visible_to(self.request.user)

    def perform_create(self, data: dict[str, Any]) -> Invoice:
        return invoice_issue(actor=self.request.user, **data)


class InvoiceDetailApi(DetailApi):
    api_resource = "invoices"
    output_serializer_class = InvoiceOutputSerializer

    def get_queryset(self) -> QuerySet[Invoice]:
        return invoice_visible_to(self.request.user)


class InvoiceCancelApi(ActionApi):
    """Cancel an unpaid invoice; its amount goes back to the milestone and the contract."""

    api_resource = "invoices"
    input_serializer_class = InvoiceCancelInputSerializer
    output_serializer_class = InvoiceOutputSerializer

    def get_queryset(self) -> QuerySet[Invoice]:
        return invoice_visible_to(self.request.user)

    def perform_action(self, invoice: Invoice, data: dict[str, Any]) -> Invoice:
        return invoice_cancel(invoice=invoice, actor=self.request.user, reason=data.get("reason", ""))


# --- Receipts -------------------------------------------------------------------------------------------


class ReceiptListApi(ListCreateApi):
    """GET the visible receipts; POST records money received against an invoice (overpaying is a 400 naming
    `amount`)."""

    api_resource = "receipts"
    filterset_class = ReceiptFilter
    output_serializer_class = ReceiptOutputSerializer
    input_serializer_class = ReceiptRecordInputSerializer

    def get_queryset(self) -> QuerySet[Receipt]:
        return receipt_visible_to(self.request.user)

    def perform_create(self, data: dict[str, Any]) -> Receipt:
        return receipt_record(actor=self.request.user, **data)


class ReceiptDetailApi(DetailApi):
    api_resource = "receipts"
    output_serializer_class = ReceiptOutputSerializer

    def get_queryset(self) -> QuerySet[Receipt]:
        return receipt_visible_to(self.request.user)


# --- Bulk upsert by external id (ERP sync) -----------------------------------------------------------------
# The money rules hold in bulk as in the services: contract terms change only through a contract change,
# money is recorded only on an executing contract, invoices never exceed their contract's (milestone's)
# amount and receipts never overpay an invoice. After the rows are written, the running totals of the
# contracts, milestones and invoices touched are recomputed in SQL (one UPDATE … FROM (SELECT … GROUP BY)
# per table) in the same transaction; the CHECK constraints on those totals are the guard, and a violation
# becomes a 400 naming the rows behind it, with nothing written.

NOT_CANCELLED = "c.status <> 'CANCELLED'"
TERMS_FIELDS = ("customer", "amount", "currency", "signed_on", "payment_terms")
OPEN_STATUSES = (Contract.Status.RECEIVED, Contract.Status.EXECUTING)


def _future(value: dt.date | None) -> bool:
    return value is not None and value > timezone.localdate()


def _contract_confirmed_at(row: dict[str, Any]) -> dict[str, Any]:
    """An executing contract has the time it was confirmed (kept when already set)."""
    confirmed = row["confirmed_at"]
    if row["status"] == Contract.Status.EXECUTING and confirmed is None:
        confirmed = timezone.now()
    return {"confirmed_at": confirmed}


def _contract_prepare(ctx: BulkContext) -> list[str]:
    customers = ctx.ref_data.get("customer", {})
    for index, row in enumerate(ctx.rows):
        current = ctx.reads.get(row["external_id"])
        if current is None:
            if _future(row.get("signed_on")):
                ctx.error(index, "signed_on", _("The date cannot be in the future. 日期不能晚于今天。"))
            row["org_unit"] = customers[row["customer"]]["account_dept_id"]
            continue
        row["org_unit"] = current["org_unit_id"]
        for name in TERMS_FIELDS:
            column = "customer_id" if name == "customer" else name
            if name in ctx.sent and row[name] != current[column]:
                ctx.error(
                    index,
                    name,
                    _(
                        "A signed contract's terms change through a contract change (POST "
                        "/contracts/{id}/changes/). 已签合同的条款须通过合同变更修改。"
                    ),
                )
        if (
            "status" in ctx.sent
            and row["status"] != current["status"]
            and not (
                current["status"] == Contract.Status.RECEIVED and row["status"] == Contract.Status.EXECUTING
            )
        ):
            ctx.error(
                index,
                "status",
                _("A contract goes only from RECEIVED to EXECUTING here. 此处合同状态只能从接收变为执行中。"),
            )
    return ["org_unit"] if "customer" in ctx.sent else []


def _contract_milestones(ctx: BulkContext, result: BulkResult) -> None:
    """The payment milestones of the contracts created, from their payment terms (two statements)."""
    if not result.created_keys:
        return
    created = Contract.objects.filter(external_id__in=result.created_keys).values_list(
        "pk", "amount", "signed_on", "payment_terms"
    )
    values = []
    for pk, amount, signed_on, terms in created:
        for item in milestone_plan(amount=amount, signed_on=signed_on, payment_terms=terms):
            values.append(
                [
                    pk,
                    item["sequence"],
                    item["kind"],
                    item["percent"],
                    item["amount"],
                    item["planned_on"],
                    Decimal("0.00"),
                    ctx.now,
                    ctx.now,
                ]
            )
    insert_rows(
        model=PaymentMilestone,
        columns=[
            "contract",
            "sequence",
            "kind",
            "percent",
            "amount",
            "planned_on",
            "invoiced_amount",
            "created_at",
            "updated_at",
        ],
        values=values,
    )


CONTRACT_BULK = BulkSpec(
    resource="contracts",
    model=Contract,
    visible=lambda actor, scope: contract_visible_to(actor, scope=scope),
    fields=(
        BulkField("number", required=True, max_length=64, unique=True),
        BulkField("title", max_length=200),
        BulkField("amount", DECIMAL, required=True, min_value=0),
        BulkField("currency", max_length=3, pattern=r"[A-Z]{3}"),
        BulkField("signed_on", DATE, required=True),
        BulkField(
            "payment_terms",
            CHOICE,
            # CUSTOM terms need their milestones listed: import those one by one (POST /contracts/).
            choices=tuple(t for t in Contract.PaymentTerms.values if t != Contract.PaymentTerms.CUSTOM),
        ),
        BulkField("status", CHOICE, choices=tuple(OPEN_STATUSES)),
    ),
    references=(
        BulkReference(
            "customer",
            queryset=lambda actor, scope: customer_visible_to(actor, scope=scope),
            required=True,
            nullable=False,
            fetch=("account_dept_id",),
            help_text="The customer's external_id.",
        ),
        dataclasses.replace(OWNER_REFERENCE, required=True, nullable=False),
    ),
    derive=_contract_confirmed_at,
    derive_reads=("status", "confirmed_at"),
    reads=(*[("customer_id" if n == "customer" else n) for n in TERMS_FIELDS], "status", "org_unit_id"),
    prepare=_contract_prepare,
    after_write=_contract_milestones,
)


class ContractBulkApi(BulkUpsertApi):
    """Contracts from the ERP (RECEIVED or EXECUTING), with milestones from their payment terms."""

    bulk_spec = CONTRACT_BULK


def _invoice_due_on(row: dict[str, Any]) -> dict[str, Any]:
    due_on = row["due_on"]
    if due_on is None and row["issued_on"] is not None:
        due_on = row["issued_on"] + dt.timedelta(days=int(settings.LTC.get("INVOICE_DUE_DAYS", 30)))
    return {"due_on": due_on}


def _invoice_prepare(ctx: BulkContext) -> list[str]:
    contracts = ctx.ref_data.get("contract", {})
    extra: list[str] = []
    milestones: dict[tuple[int, int], int] = {}
    if "milestone_sequence" in ctx.sent:
        wanted = {(r["contract"], r["milestone_sequence"]) for r in ctx.rows if r.get("milestone_sequence")}
        if wanted:
            milestones = {
                (contract_id, sequence): pk
                for pk, contract_id, sequence in PaymentMilestone.objects.filter(
                    contract_id__in={c for c, _s in wanted}, sequence__in={s for _c, s in wanted}
                ).values_list("pk", "contract_id", "sequence")
            }
        extra.append("milestone")
    if "contract" in ctx.sent:
        extra.append("currency")
    for index, row in enumerate(ctx.rows):
        current = ctx.reads.get(row["external_id"])
        contract_id = row.get("contract", current["contract_id"] if current else None)
        if "contract" in ctx.sent:
            row["currency"] = contracts[row["contract"]]["currency"]
            if current is not None and row["contract"] != current["contract_id"]:
                ctx.error(
                    index, "contract", _("An invoice cannot move to another contract. 发票不能改到其他合同。")
                )
        if current is None and contracts[row["contract"]]["status"] != Contract.Status.EXECUTING:
            ctx.error(
                index,
                "contract",
                _("Money is recorded only on an executing contract. 只有执行中的合同才能开票或回款。"),
            )
        if "milestone_sequence" in ctx.sent:
            sequence = row.get("milestone_sequence")
            row["milestone"] = milestones.get((contract_id, sequence)) if sequence else None
            if sequence and row["milestone"] is None:
                ctx.error(
                    index, "milestone_sequence", _("The contract has no such milestone. 合同没有该里程碑。")
                )
            elif current is not None and row["milestone"] != current["milestone_id"]:
                ctx.error(
                    index,
                    "milestone_sequence",
                    _("An invoice cannot move to another milestone. 发票不能改到其他里程碑。"),
                )
        if (
            row.get("due_on") is not None
            and row.get("issued_on") is not None
            and row["due_on"] < row["issued_on"]
        ):
            ctx.error(
                index,
                "due_on",
                _("An invoice falls due on or after its issue date. 到期日不能早于开票日期。"),
            )
        if current is not None and "amount" in ctx.sent and row["amount"] < current["paid_amount"]:
            ctx.error(
                index,
                "amount",
                _("Less than already received (%(paid)s). 少于已回款金额（%(paid)s）。")
                % {"paid": current["paid_amount"]},
            )
    return extra


def _name_rows(ctx: BulkContext, field: str, by: str, parents: set[int], message: str) -> None:
    for index, row in enumerate(ctx.rows):
        current = ctx.reads.get(row["external_id"]) or {}
        if row.get(by, current.get(f"{by}_id")) in parents:
            ctx.error(index, field, message)


def _invoice_totals(ctx: BulkContext, result: BulkResult) -> None:
    contracts = {r.get("contract") for r in ctx.rows} | {c["contract_id"] for c in ctx.reads.values()}
    milestones = {r.get("milestone") for r in ctx.rows} | {c["milestone_id"] for c in ctx.reads.values()}
    contracts.discard(None)
    milestones.discard(None)
    touched = result.updated_keys
    try:
        with transaction.atomic():
            recompute_totals(
                model=Contract,
                ids=contracts,
                child_model=Invoice,
                fk="contract",
                target="invoiced_amount",
                child_filter=NOT_CANCELLED,
                now=ctx.now,
            )
            recompute_totals(
                model=PaymentMilestone,
                ids=milestones,
                child_model=Invoice,
                fk="milestone",
                target="invoiced_amount",
                child_filter=NOT_CANCELLED,
                now=ctx.now,
            )
            if touched:
                # A changed amount may settle (or unsettle) what was already received.
                _invoice_paid(
                    Invoice.objects.filter(external_id__in=touched).values_list("pk", flat=True), ctx.now
                )
    except IntegrityError:
        over = over_limit_ids(
            model=Contract,
            ids=contracts,
            child_model=Invoice,
            fk="contract",
            limit="amount",
            child_filter=NOT_CANCELLED,
        )
        _name_rows(
            ctx,
            "amount",
            "contract",
            over,
            _("The contract's invoices would exceed its amount. 发票合计将超过合同金额。"),
        )
        over = over_limit_ids(
            model=PaymentMilestone,
            ids=milestones,
            child_model=Invoice,
            fk="milestone",
            limit="amount",
            child_filter=NOT_CANCELLED,
        )
        _name_rows(
            ctx,
            "milestone_sequence",
            "milestone",
            over,
            _("The milestone's invoices would exceed its amount. 发票合计将超过里程碑金额。"),
        )
        if not ctx.errors:
            raise
        raise BulkRowsInvalid(ctx.errors) from None


INVOICE_STATUS = (
    "CASE WHEN p.status = 'CANCELLED' THEN p.status WHEN s.total >= p.amount THEN 'PAID' "
    "WHEN s.total > 0 THEN 'PARTIALLY_PAID' ELSE 'ISSUED' END"
)


def _invoice_paid(ids, now: dt.datetime) -> None:
    recompute_totals(
        model=Invoice,
        ids=list(ids),
        child_model=Receipt,
        fk="invoice",
        target="paid_amount",
        extra_sets={"status": INVOICE_STATUS},
        now=now,
    )


INVOICE_BULK = BulkSpec(
    resource="invoices",
    model=Invoice,
    visible=lambda actor, scope: invoice_visible_to(actor, scope=scope),
    fields=(
        BulkField("number", required=True, max_length=64, unique=True),
        BulkField("amount", DECIMAL, required=True, min_value=Decimal("0.01")),
        BulkField("issued_on", DATE, required=True),
        BulkField(
            "due_on", DATE, nullable=True, help_text="Default (or null): issued_on + the configured due days."
        ),
        BulkField(
            "milestone_sequence",
            INT,
            nullable=True,
            min_value=1,
            max_value=32767,
            write=False,
            help_text="The contract's milestone this invoice is for, by its sequence (1, 2, …).",
        ),
    ),
    references=(
        BulkReference(
            "contract",
            queryset=lambda actor, scope: contract_visible_to(actor, scope=scope),
            required=True,
            nullable=False,
            fetch=("status", "currency"),
            help_text="The contract's external_id.",
        ),
    ),
    derive=_invoice_due_on,
    derive_reads=("issued_on", "due_on"),
    reads=("contract_id", "milestone_id", "paid_amount"),
    prepare=_invoice_prepare,
    after_write=_invoice_totals,
)


class InvoiceBulkApi(BulkUpsertApi):
    """Invoices from the ERP against executing contracts (and their milestones), within their amounts."""

    bulk_spec = INVOICE_BULK


def _receipt_prepare(ctx: BulkContext) -> list[str]:
    invoices = ctx.ref_data.get("invoice", {})
    for index, row in enumerate(ctx.rows):
        current = ctx.reads.get(row["external_id"])
        if _future(row.get("received_on")):
            ctx.error(
                index, "received_on", _("Money cannot be received in the future. 到账日期不能晚于今天。")
            )
        if "invoice" not in ctx.sent:
            continue
        invoice = invoices[row["invoice"]]
        row["contract"], row["currency"] = invoice["contract_id"], invoice["currency"]
        moves_money = (
            current is None
            or row["invoice"] != current["invoice_id"]
            or ("amount" in ctx.sent and row["amount"] != current["amount"])
        )
        if not moves_money:
            continue
        if invoice["status"] == Invoice.Status.CANCELLED:
            ctx.error(index, "invoice", _("This invoice is cancelled. 该发票已作废。"))
        elif invoice["contract__status"] != Contract.Status.EXECUTING:
            ctx.error(
                index,
                "invoice",
                _("Money is recorded only on an executing contract. 只有执行中的合同才能开票或回款。"),
            )
    return ["contract", "currency"] if "invoice" in ctx.sent else []


def _receipt_totals(ctx: BulkContext, result: BulkResult) -> None:
    invoices = {r.get("invoice") for r in ctx.rows} | {c["invoice_id"] for c in ctx.reads.values()}
    contracts = {r.get("contract") for r in ctx.rows} | {c["contract_id"] for c in ctx.reads.values()}
    invoices.discard(None)
    contracts.discard(None)
    try:
        with transaction.atomic():
            _invoice_paid(invoices, ctx.now)
            recompute_totals(
                model=Contract,
                ids=contracts,
                child_model=Receipt,
                fk="contract",
                target="collected_amount",
                now=ctx.now,
            )
    except IntegrityError:
        over = over_limit_ids(model=Invoice, ids=invoices, child_model=Receipt, fk="invoice", limit="amount")
        _name_rows(
            ctx,
            "amount",
            "invoice",
            over,
            _("Overpaying an invoice is refused. 回款金额超过发票未回款金额，已拒绝。"),
        )
        if not ctx.errors:
            raise
        raise BulkRowsInvalid(ctx.errors) from None


RECEIPT_BULK = BulkSpec(
    resource="receipts",
    model=Receipt,
    visible=lambda actor, scope: receipt_visible_to(actor, scope=scope),
    fields=(
        BulkField("amount", DECIMAL, required=True, min_value=Decimal("0.01")),
        BulkField("received_on", DATE, required=True),
        BulkField("reference", max_length=64),
    ),
    references=(
        BulkReference(
            "invoice",
            queryset=lambda actor, scope: invoice_visible_to(actor, scope=scope),
            required=True,
            nullable=False,
            fetch=("contract_id", "currency", "status", "contract__status"),
            help_text="The invoice's external_id.",
        ),
    ),
    reads=("invoice_id", "contract_id", "amount"),
    prepare=_receipt_prepare,
    insert_values=lambda actor: {"recorded_by": actor.pk},
    after_write=_receipt_totals,
)


class ReceiptBulkApi(BulkUpsertApi):
    """Receipts from the ERP against invoices; overpaying an invoice is refused (rows named)."""

    bulk_spec = RECEIPT_BULK
