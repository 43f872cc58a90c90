"""Database constraints: the shared harness, the ltc tables' cases, and the meta-test that every constraint of
every model in ltc, accounts, relationships, pipeline and contracts has a case.

Each case proves two things against the real database (SQLite and PostgreSQL): a valid row is stored, and a
row that breaks the named constraint is refused with an IntegrityError raised by `create()` or `update()`
(never by `full_clean`). The error must name that constraint (PostgreSQL names every constraint; SQLite names
CHECK constraints and lists the columns of a UNIQUE one), so a case cannot pass by tripping another rule.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from ltc.models import (
    ApiClient,
    FunnelRollup,
    IdempotencyRecord,
    KpiTarget,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEvent,
    WebhookSubscription,
)
from tests.factories import CustomerFactory, OrgUnitFactory, UserFactory

CONSTRAINED_APPS = ("ltc", "accounts", "relationships", "pipeline", "contracts")
CASE_MODULES = (
    "tests.ltc.test_constraints",
    "tests.accounts.test_constraints",
    "tests.relationships.test_constraints",
    "tests.pipeline.test_constraints",
    "tests.contracts.test_constraints",
)

TODAY = dt.date(2026, 11, 23)


# --- The harness ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """A CheckConstraint: `build()` stores a valid row; `.update(**bad)` on it must be refused; `.update(**good)`
    (a value at the edge of what is allowed) must pass."""

    name: str
    build: Callable[[], models.Model]
    bad: dict
    good: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Unique:
    """A UniqueConstraint: `build()` stores a first row; `duplicate(first)` creates a clashing row and must be
    refused; `distinct(first)` creates a row that differs in the key (or falls outside the condition) and must
    be stored."""

    name: str
    build: Callable[[], models.Model]
    duplicate: Callable[[models.Model], models.Model]
    distinct: Callable[[models.Model], models.Model]

    def __str__(self) -> str:
        return self.name


def constraint_named(model: type[models.Model], name: str) -> models.BaseConstraint:
    for constraint in model._meta.constraints:
        if constraint.name == name:
            return constraint
    raise AssertionError(f"{model.__name__} has no constraint {name!r}")


def assert_names_constraint(error: IntegrityError, model: type[models.Model], name: str) -> None:
    message = str(error)
    constraint = constraint_named(model, name)
    if connection.vendor == "sqlite" and isinstance(constraint, models.UniqueConstraint):
        table = model._meta.db_table
        columns = ", ".join(f"{table}.{model._meta.get_field(f).column}" for f in constraint.fields)
        assert message == f"UNIQUE constraint failed: {columns}", message
    else:
        assert f'"{name}"' in message or message.endswith(f": {name}"), message


def run_check(case: Check) -> None:
    obj = case.build()
    model = type(obj)
    rows = model._default_manager.filter(pk=obj.pk)
    assert rows.exists()
    if case.good:
        rows.update(**case.good)
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        rows.update(**case.bad)
    assert_names_constraint(caught.value, model, case.name)


def run_unique(case: Unique) -> None:
    first = case.build()
    model = type(first)
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        case.duplicate(first)
    assert_names_constraint(caught.value, model, case.name)
    second = case.distinct(first)
    assert second.pk != first.pk
    assert model._default_manager.filter(pk__in=[first.pk, second.pk]).count() == 2


def covered_names(cases) -> set[str]:
    return {case.name for case in cases}


# --- Builders of valid rows for the models without a factory ------------------------------------------


def build_kpi_target(**kwargs) -> KpiTarget:
    values = {
        "metric": KpiTarget.Metric.ORDERS,
        "period_start": dt.date(2026, 1, 1),
        "period_end": dt.date(2026, 12, 31),
        "target_amount": Decimal("1000000.00"),
    }
    values.update(kwargs)
    if not any(values.get(key) for key in ("org_unit", "user", "customer")):
        values["org_unit"] = OrgUnitFactory()
    return KpiTarget.objects.create(**values)


def build_funnel_rollup(**kwargs) -> FunnelRollup:
    values = {"month": dt.date(2026, 11, 1), "customer_tier": "B", "stage": "VALIDATE", "count": 3}
    values.update(kwargs)
    if "org_unit" not in values:
        values["org_unit"] = OrgUnitFactory()
    if "owner" not in values:
        values["owner"] = UserFactory(org_unit=values["org_unit"])
    values.setdefault("refreshed_at", timezone.now())
    return FunnelRollup.objects.create(**values)


def _same_subject(first: KpiTarget) -> dict:
    return {"org_unit": first.org_unit, "user": first.user, "customer": first.customer}


def _kpi_clash(first: KpiTarget) -> KpiTarget:
    return build_kpi_target(
        metric=first.metric,
        period_start=first.period_start,
        period_end=first.period_end,
        **_same_subject(first),
    )


def _kpi_next_year(first: KpiTarget) -> KpiTarget:
    return build_kpi_target(
        metric=first.metric,
        period_start=first.period_start.replace(year=first.period_start.year + 1),
        period_end=first.period_end.replace(year=first.period_end.year + 1),
        **_same_subject(first),
    )


def build_api_client(**kwargs) -> ApiClient:
    values = {"name": "ERP", "key_hash": "0" * 64, "scopes": ["customers:read"]}
    values.update(kwargs)
    values.setdefault("key_prefix", f"{next(_prefixes):08x}")
    values.setdefault("acting_user", UserFactory())
    return ApiClient.objects.create(**values)


def build_idempotency(**kwargs) -> IdempotencyRecord:
    values = {
        "principal": "user:1",
        "key": "key-1",
        "request_hash": "0" * 64,
        "method": "POST",
        "path": "/api/",
    }
    values.update(kwargs)
    return IdempotencyRecord.objects.create(**values)


_prefixes = iter(range(1, 10**6))


def build_webhook_event(**kwargs) -> WebhookEvent:
    values = {"event_type": "opportunity.won", "obj_type": "opportunity", "obj_id": 1, "payload": {"id": 1}}
    values.update(kwargs)
    return WebhookEvent.objects.create(**values)


def build_webhook_subscription(**kwargs) -> WebhookSubscription:
    values = {
        "name": "ERP hook",
        "target_url": "http://127.0.0.1:9/hook",
        "secret": "s" * 32,
        "event_types": ["*"],
    }
    values.update(kwargs)
    return WebhookSubscription.objects.create(**values)


def build_webhook_delivery(**kwargs) -> WebhookDelivery:
    kwargs.setdefault("event", build_webhook_event())
    kwargs.setdefault("subscription", build_webhook_subscription())
    return WebhookDelivery.objects.create(**kwargs)


def build_webhook_attempt(**kwargs) -> WebhookDeliveryAttempt:
    values = {
        "number": 1,
        "trigger": "INITIAL",
        "started_at": timezone.now(),
        "status_code": 200,
        "succeeded": True,
    }
    values.update(kwargs)
    values.setdefault("delivery", build_webhook_delivery())
    return WebhookDeliveryAttempt.objects.create(**values)


# --- ltc cases -------------------------------------------------------------------------------------------

CHECKS = [
    Check(
        "webhookattempt_trigger_valid",
        build_webhook_attempt,
        bad={"trigger": "Z"},
        good={"trigger": "REPLAY"},
    ),
    Check(
        "webhookevent_type_valid",
        build_webhook_event,
        bad={"event_type": "lead.z"},
        good={"event_type": "receipt.recorded"},
    ),
    Check(
        "webhookdelivery_status_valid", build_webhook_delivery, bad={"status": "Z"}, good={"status": "FAILED"}
    ),
    Check(
        "webhookdelivery_delivered_has_time",
        build_webhook_delivery,
        bad={"status": "DELIVERED", "delivered_at": None},
        good={"status": "DELIVERED", "delivered_at": timezone.now()},
    ),
    Check("kpitarget_metric_valid", build_kpi_target, bad={"metric": "BOGUS"}, good={"metric": "VISITS"}),
    Check(
        "kpitarget_amount_nonneg",
        build_kpi_target,
        bad={"target_amount": Decimal("-0.01")},
        good={"target_amount": Decimal("0")},
    ),
    Check(
        "kpitarget_period_order",
        build_kpi_target,
        bad={"period_end": dt.date(2025, 12, 31)},
        good={"period_end": dt.date(2026, 1, 1)},
    ),
]


UNIQUES = [
    Unique(
        "webhookdelivery_unique_event_sub",
        build_webhook_delivery,
        lambda a: build_webhook_delivery(event=a.event, subscription=a.subscription),
        lambda a: build_webhook_delivery(event=a.event),
    ),
    Unique(
        "webhookattempt_unique_number",
        build_webhook_attempt,
        lambda a: build_webhook_attempt(delivery=a.delivery, number=a.number),
        lambda a: build_webhook_attempt(delivery=a.delivery, number=a.number + 1, trigger="RETRY"),
    ),
    Unique(
        "apiclient_key_prefix_unique",
        build_api_client,
        lambda a: build_api_client(key_prefix=a.key_prefix),
        lambda a: build_api_client(),
    ),
    Unique(
        "idempotency_unique_principal_key",
        build_idempotency,
        lambda a: build_idempotency(principal=a.principal, key=a.key),
        lambda a: build_idempotency(principal="client:7", key=a.key),
    ),
    Unique("kpitarget_unique_unit_period", build_kpi_target, _kpi_clash, _kpi_next_year),
    Unique(
        "kpitarget_unique_user_period",
        lambda: build_kpi_target(user=UserFactory()),
        _kpi_clash,
        _kpi_next_year,
    ),
    Unique(
        "kpitarget_unique_customer_period",
        lambda: build_kpi_target(customer=CustomerFactory()),
        _kpi_clash,
        _kpi_next_year,
    ),
    Unique(
        "funnelrollup_unique_cell",
        build_funnel_rollup,
        lambda a: build_funnel_rollup(
            month=a.month, org_unit=a.org_unit, owner=a.owner, customer_tier=a.customer_tier, stage=a.stage
        ),
        lambda a: build_funnel_rollup(
            month=a.month, org_unit=a.org_unit, owner=a.owner, customer_tier=a.customer_tier, stage="GUIDE"
        ),
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("case", CHECKS, ids=str)
def test_check_constraint(case):
    run_check(case)


@pytest.mark.django_db
@pytest.mark.parametrize("case", UNIQUES, ids=str)
def test_unique_constraint(case):
    run_unique(case)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "subject",
    [
        pytest.param({}, id="none"),
        pytest.param({"org_unit": True, "user": True}, id="unit-and-user"),
        pytest.param({"org_unit": True, "customer": True}, id="unit-and-customer"),
        pytest.param({"user": True, "customer": True}, id="user-and-customer"),
        pytest.param({"org_unit": True, "user": True, "customer": True}, id="all-three"),
    ],
)
def test_kpitarget_one_subject_refuses(subject):
    unit = OrgUnitFactory()
    values = {
        "org_unit": unit if subject.get("org_unit") else None,
        "user": UserFactory(org_unit=unit) if subject.get("user") else None,
        "customer": CustomerFactory(account_dept=unit) if subject.get("customer") else None,
    }
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        KpiTarget.objects.create(
            metric="ORDERS", period_start=TODAY, period_end=TODAY, target_amount=Decimal("1"), **values
        )
    assert_names_constraint(caught.value, KpiTarget, "kpitarget_one_subject")


@pytest.mark.django_db
@pytest.mark.parametrize("subject", ["org_unit", "user", "customer"])
def test_kpitarget_one_subject_accepts_each_subject(subject):
    unit = OrgUnitFactory()
    value = {
        "org_unit": unit,
        "user": UserFactory(org_unit=unit),
        "customer": CustomerFactory(account_dept=unit),
    }
    target = build_kpi_target(**{subject: value[subject]})
    assert getattr(target, f"{subject}_id") == value[subject].pk


SPECIAL = {"kpitarget_one_subject"}
COVERED = covered_names(CHECKS) | covered_names(UNIQUES) | SPECIAL


# --- The meta-test ---------------------------------------------------------------------------------------


def all_constraint_names() -> set[str]:
    names: set[str] = set()
    for label in CONSTRAINED_APPS:
        for model in apps.get_app_config(label).get_models():
            if model.__name__.startswith("Historical"):
                continue
            names.update(constraint.name for constraint in model._meta.constraints)
    return names


def test_every_constraint_has_a_test():
    covered: set[str] = set()
    for module_name in CASE_MODULES:
        module = importlib.import_module(module_name)
        covered |= module.COVERED
    declared = all_constraint_names()
    missing = sorted(declared - covered)
    stale = sorted(covered - declared)
    assert not missing, f"constraints without a test: {missing}"
    assert not stale, f"tests for constraints that no longer exist: {stale}"
