"""Opening an opportunity: stage VALIDATE, the customer's iron triangle copied onto the deal team."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from ltc.errors import ApplicationError, NotAllowed
from pipeline.models import Lead, Opportunity, OpportunityTeamMember, Stage
from pipeline.services.opportunities.access import save_as
from relationships.models import IRON_TRIANGLE, Customer, CustomerTeamMember, TriangleRole
from relationships.selectors import customer_visible_to


def stage_probability(stage: str) -> int:
    return int(settings.LTC["STAGE_PROBABILITY"][stage])


def check_amount(amount: Decimal) -> Decimal:
    amount = Decimal(amount)
    if amount < 0:
        raise ApplicationError(
            _("The amount cannot be negative. 金额不能为负数。"), {"amount": [_("Must be ≥ 0. 必须≥0。")]}
        )
    return amount


@transaction.atomic
def opportunity_create(
    *,
    actor: User,
    customer: Customer,
    name: str,
    amount: Decimal = Decimal(0),
    currency: str = "CNY",
    owner: User | None = None,
    lead: Lead | None = None,
    expected_sign_on: dt.date | None = None,
    competitors: str = "",
    external_id: str | None = None,
) -> Opportunity:
    """Open an opportunity at VALIDATE for a customer the actor can see.

    The customer's iron triangle (AR/SR/FR) is copied onto the deal's team; the owner (default: the actor)
    becomes AR when the customer has none. Safe to call twice: a second call for the same lead, or with the
    same external_id, returns the opportunity already made.
    """
    if not customer_visible_to(actor).filter(pk=customer.pk).exists():
        raise NotAllowed(
            _("You cannot see this customer. 您无权查看该客户。"), {"customer": [_("Not found. 不存在。")]}
        )
    if lead is not None:
        existing = Opportunity.objects.filter(lead_id=lead.pk).first()
        if existing is not None:
            return existing
    if external_id:
        existing = Opportunity.objects.filter(external_id=external_id).first()
        if existing is not None:
            if existing.customer_id != customer.pk:
                raise ApplicationError(
                    _(
                        "This external id belongs to another customer's opportunity. 该外部编号已被其他客户的机会点使用。"
                    ),
                    {"external_id": [_("Already used. 已被使用。")]},
                )
            return existing
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("A name is required. 必须填写名称。"), {"name": [_("Required. 必填。")]})
    amount = check_amount(amount)
    if lead is not None and lead.customer_id is not None and lead.customer_id != customer.pk:
        raise ApplicationError(
            _("The lead belongs to another customer. 该线索属于其他客户。"),
            {"lead": [_("Another customer. 客户不一致。")]},
        )
    owner = owner or actor
    opp = Opportunity(
        name=name,
        customer=customer,
        lead=lead,
        amount=amount,
        currency=currency,
        owner=owner,
        org_unit_id=customer.account_dept_id,
        expected_sign_on=expected_sign_on,
        competitors=competitors,
        external_id=external_id or None,
        stage=Stage.VALIDATE,
        probability=stage_probability(Stage.VALIDATE),
        stage_changed_at=timezone.now(),
    )
    save_as(opp, actor)

    members: dict[int, str] = {}
    for member in CustomerTeamMember.objects.filter(customer=customer, role__in=IRON_TRIANGLE).order_by(
        "role", "pk"
    ):
        # One person, one seat on the deal team (a customer may list the same person twice).
        members.setdefault(member.user_id, member.role)
    if TriangleRole.AR not in members.values() and owner.pk not in members:
        members[owner.pk] = TriangleRole.AR
    for user_id, role in members.items():
        save_as(OpportunityTeamMember(opportunity=opp, user_id=user_id, role=role), actor)
    return opp
