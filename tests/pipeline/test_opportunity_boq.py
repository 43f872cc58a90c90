"""The bill of quantities: line amounts, the opportunity total, refusals."""

from decimal import Decimal

import pytest

from ltc.errors import ApplicationError, NotAllowed
from pipeline.models import OpportunityLine
from pipeline.services.opportunities import line_amount, opportunity_line_remove, opportunity_line_set
from tests.factories import ProductFactory, UserFactory, opportunity_deal

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(tree):
    return opportunity_deal(tree, amount=Decimal("777"))


def test_line_amount_rounds_half_up_to_the_cent():
    assert line_amount(
        quantity=Decimal("3"), unit_price=Decimal("33.33"), discount_pct=Decimal("12.5")
    ) == Decimal("87.49")  # 99.99 × 0.875 = 87.49125
    assert line_amount(
        quantity=Decimal("1"), unit_price=Decimal("0.05"), discount_pct=Decimal("50")
    ) == Decimal("0.03")  # 0.025 rounds up


def test_boq_total_becomes_the_amount(deal):
    base = ProductFactory(list_price=Decimal("10000.00"))
    radio = ProductFactory(list_price=Decimal("2500.50"))
    line = opportunity_line_set(opportunity=deal.opp, actor=deal.sr, product=base, quantity=3)
    assert (line.unit_price, line.line_amount) == (Decimal("10000.00"), Decimal("30000.00"))
    opportunity_line_set(
        opportunity=deal.opp, actor=deal.sr, product=radio, quantity=Decimal("4"), discount_pct=Decimal("10")
    )
    deal.opp.refresh_from_db()
    assert deal.opp.amount == Decimal("30000.00") + Decimal("9001.80")
    assert deal.opp.history.first().history_user == deal.sr

    # Changing a line updates it in place (one line per product) and the total follows.
    opportunity_line_set(opportunity=deal.opp, actor=deal.sr, product=base, quantity=1, unit_price="9000")
    assert OpportunityLine.objects.filter(opportunity=deal.opp).count() == 2
    deal.opp.refresh_from_db()
    assert deal.opp.amount == Decimal("18001.80")

    opportunity_line_remove(opportunity=deal.opp, actor=deal.sr, product=radio)
    deal.opp.refresh_from_db()
    assert deal.opp.amount == Decimal("9000.00")
    # The last line gone: the amount keeps its value and becomes editable again.
    opportunity_line_remove(opportunity=deal.opp, actor=deal.sr, product=base)
    opportunity_line_remove(opportunity=deal.opp, actor=deal.sr, product=base)
    deal.opp.refresh_from_db()
    assert deal.opp.amount == Decimal("9000.00")
    assert not OpportunityLine.objects.exists()


def test_setting_the_same_line_twice_changes_nothing(deal):
    product = ProductFactory()
    opportunity_line_set(opportunity=deal.opp, actor=deal.sr, product=product, quantity=2)
    rows = deal.opp.history.count()
    opportunity_line_set(opportunity=deal.opp, actor=deal.sr, product=product, quantity=2)
    assert deal.opp.history.count() == rows
    assert OpportunityLine.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -2}, "quantity"),
        ({"quantity": "lots"}, "quantity"),
        ({"quantity": Decimal("1e12")}, "quantity"),
        ({"quantity": 1, "unit_price": -5}, "unit_price"),
        ({"quantity": 1, "discount_pct": 101}, "discount_pct"),
    ],
)
def test_bad_lines_are_refused_with_field_errors(deal, kwargs, field):
    with pytest.raises(ApplicationError) as err:
        opportunity_line_set(opportunity=deal.opp, actor=deal.sr, product=ProductFactory(), **kwargs)
    assert field in err.value.extra
    deal.opp.refresh_from_db()
    assert deal.opp.amount == Decimal("777.00")
    assert not OpportunityLine.objects.exists()


def test_inactive_or_foreign_currency_products_are_refused(deal):
    with pytest.raises(ApplicationError) as err:
        opportunity_line_set(
            opportunity=deal.opp, actor=deal.sr, product=ProductFactory(is_active=False), quantity=1
        )
    assert "停售" in str(err.value) and "no longer sold" in str(err.value)
    with pytest.raises(ApplicationError) as err:
        opportunity_line_set(
            opportunity=deal.opp, actor=deal.sr, product=ProductFactory(currency="USD"), quantity=1
        )
    assert "币种不一致" in str(err.value)


def test_only_the_deal_team_or_managers_edit_the_boq(deal, tree):
    with pytest.raises(NotAllowed):
        opportunity_line_set(
            opportunity=deal.opp,
            actor=UserFactory(org_unit=tree["dept3"]),
            product=ProductFactory(),
            quantity=1,
        )
