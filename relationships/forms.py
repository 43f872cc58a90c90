"""Browser forms of customers and visits, and the helpers the upper apps' forms share.

Forms only parse and check shapes (required, types, choices); the rules live in the services, whose
`ApplicationError` is copied onto the form by `form_add_application_error`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from ltc.errors import ApplicationError
from relationships.models import Customer, CustomerTier, Industry, Visit
from relationships.selectors import customer_visible_to

# How many customers a phone's customer picker lists (the search box finds the others).
CUSTOMER_PICKER_LIMIT = 50


def form_add_application_error(form: forms.Form, exc: ApplicationError) -> None:
    """Show a service's refusal on the form: the message on top, field errors on the fields the form has."""
    form.add_error(None, str(exc.message))
    for field, problems in (exc.extra or {}).items():
        if field in form.fields and isinstance(problems, list | tuple):
            for problem in problems:
                if isinstance(problem, str):
                    form.add_error(field, problem)


def customer_picker(user: User, *, q: str = "", selected: Customer | None = None) -> list[Customer]:
    """The customers a picker offers: with `q`, the visible customers whose name contains it; without, the
    user's most recently visited customers first, then the other visible customers by name. At most
    CUSTOMER_PICKER_LIMIT, plus `selected` if it is not among them. Three queries at most."""
    visible = customer_visible_to(user).select_related(None).only("id", "name")
    limit = CUSTOMER_PICKER_LIMIT
    q = (q or "").strip()
    if q:
        found = list(visible.filter(name__icontains=q).order_by("name", "pk")[:limit])
    else:
        recent_ids = list(
            Visit.objects.filter(rep_id=user.pk, customer_id__in=visible.values("id"))
            .values("customer_id")
            .annotate(last=Max("visited_on"))
            .order_by("-last", "customer_id")
            .values_list("customer_id", flat=True)[:limit]
        )
        rest = list(visible.exclude(pk__in=recent_ids).order_by("name", "pk")[: limit - len(recent_ids)])
        by_pk = {c.pk: c for c in visible.filter(pk__in=recent_ids)} if recent_ids else {}
        found = [by_pk[pk] for pk in recent_ids if pk in by_pk] + rest
    if selected is not None and all(c.pk != selected.pk for c in found):
        found.insert(0, selected)
    return found


class CustomerPickField(forms.TypedChoiceField):
    """A select of customers whose cleaned value is a Customer the user may see (else a field error)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("coerce", int)
        kwargs.setdefault("empty_value", None)
        super().__init__(*args, **kwargs)

    def valid_value(self, value: Any) -> bool:
        # A customer found by search is not in the offered list; visibility is checked in the form's clean.
        return str(value).isdigit()


def set_customer_choices(field: forms.Field, customers: list[Customer]) -> None:
    field.choices = [("", _("— choose a customer 选择客户 —"))] + [(c.pk, c.name) for c in customers]


def clean_visible_customer(user: User, pk: int | None, *, required: bool = True) -> Customer | None:
    if pk is None:
        if required:
            raise forms.ValidationError(_("Choose a customer. 请选择客户。"))
        return None
    customer = customer_visible_to(user).filter(pk=pk).first()
    if customer is None:
        raise forms.ValidationError(_("Choose a customer you can see. 请选择您有权查看的客户。"))
    return customer


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: Mapping[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class VisitLogForm(forms.Form):
    """The phone form: the customer is the only choice to make; type and date have defaults."""

    customer = CustomerPickField(
        label=_("Customer 客户"),
        choices=(),
        error_messages={"required": _("Choose a customer. 请选择客户。")},
    )
    visit_type = forms.ChoiceField(
        label=_("Type 类型"), choices=Visit.Type.choices, initial=Visit.Type.ROUTINE, required=False
    )
    visited_on = forms.DateField(label=_("Date 日期"), widget=DateInput(), required=False)
    outcome = forms.CharField(
        label=_("Notes: what happened 记录：拜访结果"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        error_messages={"required": _("Write what happened. 请填写拜访结果。")},
    )
    purpose = forms.CharField(label=_("Purpose 目的"), max_length=255, required=False)
    next_step = forms.CharField(label=_("Next step 下一步"), max_length=255, required=False)
    next_step_on = forms.DateField(label=_("Next step date 下一步日期"), widget=DateInput(), required=False)

    def __init__(self, *args: Any, user: User, customers: list[Customer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        set_customer_choices(self.fields["customer"], customers)
        self.fields["visited_on"].initial = timezone.localdate()

    def clean_customer(self) -> Customer | None:
        return clean_visible_customer(self.user, self.cleaned_data.get("customer"))

    def clean_visit_type(self) -> str:
        return self.cleaned_data.get("visit_type") or Visit.Type.ROUTINE

    def clean_visited_on(self) -> Any:
        return self.cleaned_data.get("visited_on") or timezone.localdate()


class CustomerFilterForm(forms.Form):
    q = forms.CharField(label=_("Name 名称"), required=False, max_length=100)
    tier = forms.ChoiceField(
        label=_("Tier 等级"), choices=[("", _("All tiers 全部等级"))] + CustomerTier.choices, required=False
    )
    industry = forms.ChoiceField(
        label=_("Industry 行业"),
        choices=[("", _("All industries 全部行业"))] + Industry.choices,
        required=False,
    )
