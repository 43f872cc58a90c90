"""The bill of quantities (BOQ): product lines whose total is the opportunity amount while lines exist."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from accounts.models import User
from ltc.errors import ApplicationError
from pipeline.models import Opportunity, OpportunityLine, Product
from pipeline.services.opportunities.access import check_can_drive, check_open, lock_visible, save_as

CENT = Decimal("0.01")
# The columns' limits (quantity: 12 digits, money: 18 digits, both with 2 decimals).
MAX_QUANTITY = Decimal(10) ** 10
MAX_AMOUNT = Decimal(10) ** 16


def line_amount(*, quantity: Decimal, unit_price: Decimal, discount_pct: Decimal) -> Decimal:
    """quantity × unit price × (1 − discount/100), rounded half-up to the cent."""
    return (quantity * unit_price * (1 - discount_pct / 100)).quantize(CENT, rounding=ROUND_HALF_UP)


def _recompute_amount(opp: Opportunity, actor: User) -> None:
    """With lines, the amount is their total; with none left, the amount stays as it was (editable again)."""
    total = OpportunityLine.objects.filter(opportunity_id=opp.pk).aggregate(total=Sum("line_amount"))["total"]
    if total is not None and total != opp.amount:
        opp.amount = total
        save_as(opp, actor, update_fields=["amount", "updated_at"])


def _decimal(value: Decimal | int | str, field: str) -> Decimal:
    try:
        return Decimal(value)
    except (ArithmeticError, TypeError, ValueError):
        raise ApplicationError(_("Not a number. 不是有效数字。"), {field: [_("Invalid. 无效。")]}) from None


@transaction.atomic
def opportunity_line_set(
    *,
    opportunity: Opportunity,
    actor: User,
    product: Product,
    quantity: Decimal | int | str,
    unit_price: Decimal | int | str | None = None,
    discount_pct: Decimal | int | str = 0,
) -> OpportunityLine:
    """Add or change the BOQ line for `product` (one line per product); the unit price defaults to the list
    price. The opportunity amount becomes the total of its lines in the same transaction. Safe to repeat.
    """
    opp = lock_visible(opportunity=opportunity, actor=actor)
    check_open(opp)
    check_can_drive(actor, opp)
    if not product.is_active:
        raise ApplicationError(
            _("This product is no longer sold. 该产品已停售。"), {"product": [_("Inactive. 已停用。")]}
        )
    if product.currency != opp.currency:
        raise ApplicationError(
            _(
                "The product is priced in %(product)s but the opportunity in %(opp)s. 产品币种与机会点币种不一致。"
            )
            % {"product": product.currency, "opp": opp.currency},
            {"product": [_("Currency differs. 币种不一致。")]},
        )
    qty = _decimal(quantity, "quantity").quantize(CENT, rounding=ROUND_HALF_UP)
    price = product.list_price if unit_price is None else _decimal(unit_price, "unit_price")
    discount = _decimal(discount_pct, "discount_pct")
    errors: dict[str, list[str]] = {}
    if not 0 < qty < MAX_QUANTITY:
        errors["quantity"] = [_("Must be more than 0 and a sane size. 必须大于0且在合理范围内。")]
    if price < 0:
        errors["unit_price"] = [_("Must be ≥ 0. 必须≥0。")]
    if not 0 <= discount <= 100:
        errors["discount_pct"] = [_("0–100. 须在0到100之间。")]
    if errors:
        raise ApplicationError(_("Please correct the BOQ line. 请修正配置清单行。"), errors)
    price, discount = price.quantize(CENT), discount.quantize(CENT)
    amount = line_amount(quantity=qty, unit_price=price, discount_pct=discount)
    if amount >= MAX_AMOUNT:
        raise ApplicationError(
            _("The line amount is too large. 行金额过大。"), {"quantity": [_("Too large. 过大。")]}
        )

    line = OpportunityLine.objects.filter(opportunity_id=opp.pk, product_id=product.pk).first()
    if line is None:
        line = OpportunityLine.objects.create(
            opportunity=opp,
            product=product,
            quantity=qty,
            unit_price=price,
            discount_pct=discount,
            line_amount=amount,
        )
    elif (line.quantity, line.unit_price, line.discount_pct) != (qty, price, discount):
        line.quantity, line.unit_price, line.discount_pct, line.line_amount = qty, price, discount, amount
        line.save(update_fields=["quantity", "unit_price", "discount_pct", "line_amount"])
    _recompute_amount(opp, actor)
    return line


@transaction.atomic
def opportunity_line_remove(*, opportunity: Opportunity, actor: User, product: Product) -> None:
    """Remove the BOQ line for `product` (nothing to remove: no change) and recompute the amount."""
    opp = lock_visible(opportunity=opportunity, actor=actor)
    check_open(opp)
    check_can_drive(actor, opp)
    deleted, _rows = OpportunityLine.objects.filter(opportunity_id=opp.pk, product_id=product.pk).delete()
    if deleted:
        _recompute_amount(opp, actor)
