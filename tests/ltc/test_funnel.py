import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from ltc.models import FunnelRollup
from ltc.selectors import FunnelFilter, funnel_metrics
from ltc.tasks import funnel_rollup_refresh_task
from tests.factories import (
    ContractFactory,
    CustomerFactory,
    InvoiceFactory,
    LeadFactory,
    OpportunityFactory,
    ReceiptFactory,
    UserFactory,
)


@pytest.fixture
def pipeline_data(tree):
    """One branch with a won deal collected in part, one lost deal, and a deal in another branch."""
    now = timezone.now()
    today = timezone.localdate()
    rep = UserFactory(username="rep", org_unit=tree["dept1"])
    other_rep = UserFactory(username="rep_south", org_unit=tree["dept3"])
    east = CustomerFactory(account_dept=tree["dept1"], tier="A")
    south = CustomerFactory(account_dept=tree["dept3"], tier="S")
    lead = LeadFactory(customer=east, owner=rep, status="CONVERTED", converted_at=now, grade="A")
    LeadFactory(customer=east, owner=rep)
    won = OpportunityFactory(
        customer=east, owner=rep, lead=lead, stage="WON", closed_at=now, amount=Decimal("1000000.00")
    )
    OpportunityFactory(
        customer=east,
        owner=rep,
        stage="LOST",
        closed_at=now,
        close_reason="price",
        amount=Decimal("300000.00"),
    )
    OpportunityFactory(customer=east, owner=rep, stage="BID", amount=Decimal("200000.00"))
    OpportunityFactory(
        customer=south, owner=other_rep, stage="WON", closed_at=now, amount=Decimal("5000000.00")
    )
    contract = ContractFactory(
        customer=east,
        owner=rep,
        opportunity=won,
        amount=Decimal("1000000.00"),
        signed_on=today - dt.timedelta(days=20),
        invoiced_amount=Decimal("300000.00"),
        collected_amount=Decimal("300000.00"),
    )
    invoice = InvoiceFactory(
        contract=contract,
        amount=Decimal("300000.00"),
        paid_amount=Decimal("300000.00"),
        status="PAID",
        issued_on=today - dt.timedelta(days=15),
    )
    ReceiptFactory(
        invoice=invoice,
        contract=contract,
        amount=Decimal("300000.00"),
        received_on=today - dt.timedelta(days=5),
    )
    return {"rep": rep, "other_rep": other_rep, "today": today}


@pytest.mark.django_db
def test_funnel_metrics_for_a_rep_cover_only_their_records(pipeline_data, tree):
    today = pipeline_data["today"]
    metrics = funnel_metrics(
        user=pipeline_data["rep"], flt=FunnelFilter(today - dt.timedelta(days=30), today)
    )
    stages = metrics["stages"]
    assert stages["leads"]["count"] == 2
    assert stages["qualified"]["count"] == 1
    assert stages["opportunities"]["count"] == 3
    assert stages["won"] == {"count": 1, "amount": Decimal("1000000.00")}
    assert stages["lost"]["count"] == 1
    assert metrics["rates"]["win_rate"] == 0.5
    assert stages["contracted"]["amount"] == Decimal("1000000.00")
    assert stages["invoiced"]["amount"] == Decimal("300000.00")
    assert stages["collected"]["amount"] == Decimal("300000.00")
    assert metrics["cycle_days"]["signing_to_cash"] == 15.0
    assert metrics["open_pipeline"] == {"BID": {"count": 1, "amount": Decimal("200000.00")}}


@pytest.mark.django_db
def test_funnel_metrics_cut_by_org_unit_and_tier(pipeline_data, tree):
    today = pipeline_data["today"]
    admin = UserFactory(username="boss", is_superuser=True, org_unit=tree["hq"])
    period = (today - dt.timedelta(days=30), today)
    everything = funnel_metrics(user=admin, flt=FunnelFilter(*period))
    assert everything["stages"]["won"]["count"] == 2
    south = funnel_metrics(user=admin, flt=FunnelFilter(*period, org_unit=tree["region2"]))
    assert south["stages"]["won"] == {"count": 1, "amount": Decimal("5000000.00")}
    tier_a = funnel_metrics(user=admin, flt=FunnelFilter(*period, customer_tier="A"))
    assert tier_a["stages"]["won"]["amount"] == Decimal("1000000.00")


@pytest.mark.django_db
def test_rollup_refresh_twice_gives_identical_tables(pipeline_data):
    first = funnel_rollup_refresh_task()
    snapshot = sorted(
        FunnelRollup.objects.values_list(
            "month", "org_unit_id", "owner_id", "customer_tier", "stage", "count", "amount"
        )
    )
    second = funnel_rollup_refresh_task()
    again = sorted(
        FunnelRollup.objects.values_list(
            "month", "org_unit_id", "owner_id", "customer_tier", "stage", "count", "amount"
        )
    )
    assert first["cells"] == second["cells"] == len(snapshot)
    assert snapshot == again
    won = FunnelRollup.objects.filter(stage="WON")
    assert sum(cell.amount for cell in won) == Decimal("6000000.00")
    assert {cell.stage for cell in FunnelRollup.objects.all()} >= {
        "LEAD",
        "OPPORTUNITY",
        "WON",
        "LOST",
        "CONTRACTED",
        "INVOICED",
        "COLLECTED",
    }


@pytest.mark.django_db
def test_rollup_refresh_drops_cells_that_no_longer_exist(pipeline_data):
    from contracts.models import Receipt

    funnel_rollup_refresh_task()
    assert FunnelRollup.objects.filter(stage="COLLECTED").exists()
    Receipt.objects.all().delete()
    result = funnel_rollup_refresh_task()
    assert result["deleted"] >= 1
    assert not FunnelRollup.objects.filter(stage="COLLECTED").exists()
