"""Browser forms of contracts and cash. They parse input; the services decide (see relationships.forms)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts.models import Contract, Invoice, PaymentMilestone
from relationships.forms import DateInput

# Custom terms need milestones typed in one by one: the win form offers the standard sets.
WIN_TERMS = [(value, label) for value, label in Contract.PaymentTerms.choices if value != "CUSTOM"]


def _money(label: Any, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=18,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
        **kwargs,
    )


class ContractFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status 状态"),
        choices=[("", _("All statuses 全部状态"))] + Contract.Status.choices,
        required=False,
    )
    q = forms.CharField(label=_("Number or title 编号或名称"), required=False, max_length=100)


class OpportunityWinForm(forms.Form):
    payment_terms = forms.ChoiceField(label=_("Payment terms 付款条件"), choices=WIN_TERMS)
    signed_on = forms.DateField(label=_("Signed on 签约日期"), widget=DateInput())
    number = forms.CharField(
        label=_("Contract number (blank: numbered for you) 合同编号（留空自动编号）"),
        max_length=64,
        required=False,
    )
    reason = forms.CharField(label=_("Notes 备注"), required=False, max_length=255)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["signed_on"].initial = timezone.localdate()


class MilestoneAchieveForm(forms.Form):
    achieved_on = forms.DateField(label=_("Achieved on 达成日期"), widget=DateInput(), required=False)


class InvoiceIssueForm(forms.Form):
    number = forms.CharField(label=_("Invoice number 发票号"), max_length=64)
    amount = _money(_("Amount 金额"))
    milestone = forms.ModelChoiceField(
        label=_("Milestone 里程碑"), queryset=PaymentMilestone.objects.none(), required=False
    )
    issued_on = forms.DateField(label=_("Issued on 开票日期"), widget=DateInput(), required=False)
    due_on = forms.DateField(label=_("Due on 到期日"), widget=DateInput(), required=False)

    def __init__(
        self, *args: Any, milestones: Any, offered: list[PaymentMilestone] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["milestone"]
        field.queryset = milestones
        # Offer the milestones the page has already read (no second query to draw the select).
        field.choices = [("", _("— the contract as a whole 整个合同 —"))] + [
            (m.pk, f"#{m.sequence} {m.get_kind_display()} · {m.amount - m.invoiced_amount}") for m in offered
        ]


class ReceiptRecordForm(forms.Form):
    invoice = forms.ModelChoiceField(label=_("Invoice 发票"), queryset=Invoice.objects.none())
    amount = _money(_("Amount received 回款金额"))
    received_on = forms.DateField(label=_("Received on 到账日期"), widget=DateInput(), required=False)
    reference = forms.CharField(label=_("Bank reference 银行流水号"), max_length=64, required=False)

    def __init__(self, *args: Any, invoices: Any, offered: list[Invoice] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["invoice"]
        field.queryset = invoices
        field.choices = [("", "—")] + [
            (inv.pk, f"{inv.number} · {inv.outstanding} {inv.currency}") for inv in offered
        ]
