"""Browser forms of leads and opportunities. They parse input; the services decide (see relationships.forms)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import user_visible_to
from pipeline.models import OPEN_STAGES, GateDecision, Lead, LeadReview, Stage
from relationships.forms import (
    CustomerPickField,
    DateInput,
    clean_visible_customer,
    set_customer_choices,
)
from relationships.models import Customer

MINE_CHOICES = [("mine", _("Mine 我的")), ("team", _("My team's 团队的"))]


def _score_field(label: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, min_value=0, max_value=10, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )


class ActiveUserField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj} · {obj.get_job_role_display()}"


def active_users(user: User) -> Any:
    return user_visible_to(user).filter(is_active=True).order_by("full_name", "username")


# --- Leads -----------------------------------------------------------------------------------------------


class LeadFilterForm(forms.Form):
    whose = forms.ChoiceField(label=_("Whose 范围"), choices=MINE_CHOICES, required=False)
    status = forms.ChoiceField(
        label=_("Status 状态"),
        choices=[("", _("All statuses 全部状态"))] + Lead.Status.choices,
        required=False,
    )
    q = forms.CharField(label=_("Title 标题"), required=False, max_length=100)


class LeadCreateForm(forms.Form):
    title = forms.CharField(label=_("Title 标题"), max_length=200)
    customer = CustomerPickField(label=_("Customer 客户"), choices=(), required=False)
    prospect_name = forms.CharField(
        label=_("…or a prospect's name 或潜在客户名称"), max_length=200, required=False
    )
    source = forms.ChoiceField(
        label=_("Source 来源"), choices=Lead.Source.choices, initial=Lead.Source.VISIT, required=False
    )
    need = forms.CharField(label=_("Need 客户需求"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    budget_known = forms.BooleanField(label=_("Budget known 预算明确"), required=False)
    estimated_amount = forms.DecimalField(
        label=_("Estimated amount 预估金额"), min_value=0, max_digits=18, decimal_places=2, required=False
    )
    next_review_on = forms.DateField(label=_("Next review 下次评审"), widget=DateInput(), required=False)
    visit = forms.IntegerField(widget=forms.HiddenInput, required=False)
    allow_duplicate = forms.BooleanField(
        label=_("Create anyway: it is not a duplicate 仍然创建：不是重复线索"), required=False
    )

    def __init__(self, *args: Any, user: User, customers: list[Customer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        set_customer_choices(self.fields["customer"], customers)

    def clean_customer(self) -> Customer | None:
        return clean_visible_customer(self.user, self.cleaned_data.get("customer"), required=False)

    def clean_source(self) -> str:
        return self.cleaned_data.get("source") or Lead.Source.MARKET_INSIGHT

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("visit") and data.get("customer") is None and not data.get("prospect_name"):
            self.add_error("customer", _("Name a customer or a prospect. 请选择客户或填写潜在客户名称。"))
        return data


class LeadQualifyForm(forms.Form):
    is_lead_answer = forms.CharField(
        label=_("Is it a lead? (fits our strategy, risk acceptable) 是不是线索？"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    is_lead_score = _score_field(_("Score 0–10 得分"))
    how_far_answer = forms.CharField(
        label=_("How far is it? (urgent need, procurement process, budget) 进展到哪一步？"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    how_far_score = _score_field(_("Score 0–10 得分"))
    can_win_answer = forms.CharField(
        label=_("Can we win? (relationship, solution, team, competition) 我们能赢吗？"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    can_win_score = _score_field(_("Score 0–10 得分"))


class LeadNurturerForm(forms.Form):
    nurturer = ActiveUserField(label=_("Nurturer 培育人"), queryset=User.objects.none())

    def __init__(self, *args: Any, user: User, offered: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["nurturer"]
        field.queryset = active_users(user)
        # Offer the lead's colleagues; any active user is accepted.
        field.choices = [("", "—")] + [(u.pk, field.label_from_instance(u)) for u in offered]


class LeadReviewForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision 决定"), choices=LeadReview.Decision.choices)
    reason = forms.CharField(label=_("Why 理由"), widget=forms.Textarea(attrs={"rows": 2}))
    reassign_to = ActiveUserField(
        label=_("Reassign to 重新分配给"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args: Any, user: User, offered: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reassign_to"]
        field.queryset = active_users(user)
        field.choices = [("", "—")] + [(u.pk, field.label_from_instance(u)) for u in offered]


class LeadConvertForm(forms.Form):
    name = forms.CharField(label=_("Opportunity name 机会点名称"), max_length=200, required=False)
    amount = forms.DecimalField(
        label=_("Amount 金额"), min_value=0, max_digits=18, decimal_places=2, required=False
    )
    expected_sign_on = forms.DateField(
        label=_("Expected signing 预计签约日期"), widget=DateInput(), required=False
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason 原因"), max_length=255)


# --- Opportunities -----------------------------------------------------------------------------------------


class OpportunityFilterForm(forms.Form):
    whose = forms.ChoiceField(label=_("Whose 范围"), choices=MINE_CHOICES, required=False)
    stage = forms.ChoiceField(
        label=_("Stage 阶段"), choices=[("", _("All stages 全部阶段"))] + Stage.choices, required=False
    )
    q = forms.CharField(label=_("Name 名称"), required=False, max_length=100)


class OpportunityMoveForm(forms.Form):
    to_stage = forms.ChoiceField(label=_("Move to 移至"), choices=[(s.value, s.label) for s in OPEN_STAGES])
    reason = forms.CharField(label=_("Reason (needed to move back) 原因（退回时必填）"), required=False)


class GateDecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Decision 决策结果"), choices=GateDecision.Outcome.choices, widget=forms.RadioSelect
    )
    conditions = forms.CharField(
        label=_("Conditions 附加条件"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class OpportunityCloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Close as 关闭为"),
        choices=[(Stage.LOST, Stage.LOST.label), (Stage.ABANDONED, Stage.ABANDONED.label)],
    )
    reason = forms.CharField(label=_("Reason 原因"), max_length=255)
