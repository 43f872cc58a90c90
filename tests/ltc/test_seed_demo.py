import datetime as dt
import hashlib
import io
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Sum

from accounts.models import OrgUnit, User
from contracts.models import Contract, ContractNumberSequence, Invoice, PaymentMilestone, Receipt
from ltc.models import KpiTarget
from ltc.seed import ADMIN_PASSWORD, DEMO_PASSWORD, key_usernames, seed_demo
from pipeline.models import GateDecision, Lead, LeadQualification, LeadReview, Opportunity, Stage
from relationships.models import Customer, CustomerIssue, Visit
from tests.factories import DEMO_PASSWORD as FACTORY_PASSWORD

TODAY = dt.date(2026, 11, 22)
SCALE = 200


@pytest.fixture
def seeded(db):
    return seed_demo(scale=SCALE, seed=2026, today=TODAY)


def test_small_scale_covers_every_stage_and_status(seeded):
    connection.check_constraints()  # foreign keys are deferred: check them before the test rolls back
    assert seeded.rows > 5_000
    assert set(Opportunity.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert set(Lead.objects.values_list("status", flat=True)) == set(Lead.Status.values)
    assert set(Contract.objects.values_list("status", flat=True)) == set(Contract.Status.values)
    assert set(Invoice.objects.values_list("status", flat=True)) == set(Invoice.Status.values)
    assert set(CustomerIssue.objects.values_list("status", flat=True)) == set(CustomerIssue.Status.values)
    assert set(Customer.objects.values_list("tier", flat=True)) == set(Customer.Tier.values)
    assert set(LeadReview.objects.values_list("decision", flat=True)) == set(LeadReview.Decision.values)
    assert set(User.objects.values_list("job_role", flat=True)) == set(User.JobRole.values)
    assert Opportunity.objects.count() == SCALE


def test_org_tree_paths_and_managers(seeded):
    units = {u.pk: u for u in OrgUnit.objects.all()}
    assert {u.kind for u in units.values()} == set(OrgUnit.Kind.values)
    for unit in units.values():
        if unit.parent_id is None:
            assert unit.kind == OrgUnit.Kind.HQ
            assert unit.path == f"/{unit.pk}/"
            assert unit.depth == 0
        else:
            parent = units[unit.parent_id]
            assert unit.path == f"{parent.path}{unit.pk}/"
            assert unit.depth == parent.depth + 1
            assert OrgUnit.CHILD_KIND[parent.kind] == unit.kind
        assert unit.manager is not None and unit.manager.org_unit_id == unit.pk
    # Everyone but the top reports to the manager of their own unit or of the unit above.
    for user in User.objects.exclude(username__in=["admin", "ceo"]).select_related("manager", "org_unit"):
        assert user.manager is not None
        assert user.org_unit.path.startswith(user.manager.org_unit.path)


def test_pipeline_is_consistent_with_stages(seeded):
    probability = settings.LTC["STAGE_PROBABILITY"]
    gates = defaultdict(set)
    for opp_id, gate, outcome in GateDecision.objects.values_list("opportunity_id", "gate", "outcome"):
        if outcome == "GO":
            gates[opp_id].add(gate)
    roles = defaultdict(set)
    for opp in Opportunity.objects.prefetch_related("team"):
        roles[opp.pk] = {m.role for m in opp.team.all()}
        assert opp.probability == probability[opp.stage]
        if opp.stage in ("GUIDE", "BID", "NEGOTIATE", "WON"):
            assert "ATI" in gates[opp.pk], opp.stage
        if opp.stage in ("NEGOTIATE", "WON"):
            assert "ATB" in gates[opp.pk]
        if opp.stage == "WON":
            assert "ATC" in gates[opp.pk]
            assert opp.closed_at is not None
            assert Contract.objects.filter(opportunity=opp).exists()
        if opp.stage in ("BID", "NEGOTIATE", "WON"):
            assert {"AR", "SR", "FR"} <= roles[opp.pk]
        if opp.stage in ("LOST", "ABANDONED"):
            assert opp.close_reason and opp.closed_at is not None
        if opp.stage in ("VALIDATE", "GUIDE", "BID", "NEGOTIATE"):
            assert opp.closed_at is None
        assert opp.created_at <= opp.stage_changed_at
    for lead in Lead.objects.filter(status="CONVERTED"):
        assert lead.converted_at is not None
        assert lead.opportunity.created_at == lead.converted_at
    assert not Lead.objects.filter(status="CLOSED", close_reason="").exists()
    graded = Lead.objects.exclude(grade="").count()
    assert LeadQualification.objects.count() == graded > 0


def test_money_adds_up_and_receivables_age_into_every_bucket(seeded):
    for contract in Contract.objects.all():
        milestones = list(PaymentMilestone.objects.filter(contract=contract))
        assert sum(m.amount for m in milestones) == contract.amount
        live = Invoice.objects.filter(contract=contract).exclude(status="CANCELLED")
        assert contract.invoiced_amount == (live.aggregate(s=Sum("amount"))["s"] or 0)
        assert contract.collected_amount == (
            Receipt.objects.filter(contract=contract).aggregate(s=Sum("amount"))["s"] or 0
        )
        for m in milestones:
            assert m.invoiced_amount == (live.filter(milestone=m).aggregate(s=Sum("amount"))["s"] or 0)
        assert contract.number.startswith(f"HT-{contract.signed_on.year}-")
    for invoice in Invoice.objects.all():
        paid = invoice.receipts.aggregate(s=Sum("amount"))["s"] or Decimal("0")
        assert paid == invoice.paid_amount
        expected = "PAID" if paid == invoice.amount else "PARTIALLY_PAID" if paid else None
        if invoice.status != "CANCELLED":
            assert invoice.status == (expected or "ISSUED")
    assert not Receipt.objects.filter(received_on__gte=TODAY).exists()
    overdue = Invoice.objects.filter(status__in=["ISSUED", "PARTIALLY_PAID"], due_on__lt=TODAY)
    buckets = Counter()
    for due_on in overdue.values_list("due_on", flat=True):
        days = (TODAY - due_on).days
        buckets[0 if days <= 30 else 1 if days <= 90 else 2 if days <= 180 else 3] += 1
    assert set(buckets) == {0, 1, 2, 3}
    last = dict(ContractNumberSequence.objects.values_list("year", "last_value"))
    for year, count in Counter(Contract.objects.values_list("signed_on__year", flat=True)).items():
        assert last[year] == count
    assert KpiTarget.objects.filter(org_unit__kind="HQ", metric="ORDERS").exists()


def test_customers_names_archive_and_visit_quota_spread(seeded):
    names = list(Customer.objects.values_list("name", flat=True))
    assert len(names) == len(set(names))
    fields = Customer.ARCHIVE_FIELDS
    for customer in Customer.objects.all():
        filled = sum(1 for f in fields if getattr(customer, f))
        assert customer.archive_completeness == round(100 * filled / len(fields))
    quota = settings.LTC["VISIT_QUOTA_PER_WEEK"]
    last_monday = TODAY - dt.timedelta(days=TODAY.weekday() + 7)
    week = Visit.objects.filter(
        visited_on__gte=last_monday, visited_on__lt=last_monday + dt.timedelta(days=7)
    )
    per_rep = Counter(week.values_list("rep_id", flat=True))
    assert any(n < quota for n in per_rep.values()) and any(n > quota for n in per_rep.values())
    assert not Visit.objects.filter(visited_on__gte=TODAY).exists()


def test_every_role_and_admin_log_in_with_the_demo_passwords(seeded):
    assert DEMO_PASSWORD == FACTORY_PASSWORD
    admin = authenticate(username="admin", password=ADMIN_PASSWORD)
    assert admin is not None and admin.is_superuser
    for role in User.JobRole.values:
        if role == User.JobRole.ADMIN:
            continue
        user = User.objects.filter(job_role=role).order_by("pk").first()
        assert authenticate(username=user.username, password=DEMO_PASSWORD) == user
    assert set(key_usernames()) <= set(User.objects.values_list("username", flat=True))


def _digest() -> str:
    parts = [
        list(OrgUnit.objects.order_by("pk").values_list("pk", "code", "path", "manager__username")),
        list(User.objects.order_by("pk").values_list("username", "full_name", "job_role", "org_unit__code")),
        list(Customer.objects.order_by("pk").values_list("name", "tier", "annual_purchase", "tax_id")),
        list(
            Opportunity.objects.order_by("pk").values_list(
                "name", "amount", "stage", "created_at", "closed_at"
            )
        ),
        list(
            Invoice.objects.order_by("pk").values_list("number", "amount", "status", "due_on", "paid_amount")
        ),
        list(Visit.objects.order_by("pk").values_list("customer_id", "rep_id", "visited_on", "visit_type")),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


@pytest.mark.django_db(transaction=True)
def test_same_seed_gives_the_same_data():
    seed_demo(scale=60, seed=11, today=TODAY)
    first = _digest()
    call_command("flush", interactive=False, verbosity=0)
    seed_demo(scale=60, seed=11, today=TODAY)
    assert _digest() == first
    call_command("flush", interactive=False, verbosity=0)
    seed_demo(scale=60, seed=12, today=TODAY)
    assert _digest() != first


def _row_counts() -> dict[str, int]:
    models = (User, OrgUnit, Customer, Visit, Lead, Opportunity, Contract, Invoice, Receipt, KpiTarget)
    return {m._meta.label: m.objects.count() for m in models}


@pytest.mark.django_db
def test_command_if_empty_prints_logins_and_writes_nothing_the_second_time(settings):
    settings.DEBUG = True  # the test runner turns DEBUG off; a developer's machine has it on
    out = io.StringIO()
    call_command("seed_demo", "--scale", "40", "--today", "2026-11-22", stdout=out)
    assert "rep_sh_1" in out.getvalue() and DEMO_PASSWORD in out.getvalue()
    before = _row_counts()
    out = io.StringIO()
    call_command("seed_demo", "--scale", "40", "--if-empty", stdout=out)
    assert _row_counts() == before
    assert "rep_sh_1" in out.getvalue() and ADMIN_PASSWORD in out.getvalue()
    with pytest.raises(CommandError, match="flush"):
        call_command("seed_demo", "--scale", "40", "--force", stdout=io.StringIO())
    assert _row_counts() == before
    out = io.StringIO()
    call_command("seed_demo", "--print-logins", stdout=out)
    assert "mgr_east" in out.getvalue()


@pytest.mark.django_db
def test_command_refuses_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("seed_demo", "--scale", "20", stdout=io.StringIO())
    assert not User.objects.exists()
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("seed_demo", "--scale", "20", "--if-empty", stdout=io.StringIO())
    call_command("seed_demo", "--scale", "20", "--force", stdout=io.StringIO())
    assert User.objects.filter(username="admin", is_superuser=True).exists()


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_postgres_copy_path_resets_sequences(seeded):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    connection.check_constraints()
    top = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
    dept = OrgUnit.objects.filter(kind="ACCOUNT_DEPT").first()
    created = Customer.objects.create(name="新客户", account_dept=dept)
    assert created.pk > top
    assert (
        User.objects.create_user(username="late_joiner").pk
        > User.objects.exclude(username="late_joiner").order_by("-pk").values_list("pk", flat=True).first()
    )
