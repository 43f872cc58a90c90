"""Database constraints of the org tree and people (harness: tests/ltc/test_constraints.py)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from accounts.models import OrgUnit, User
from tests.factories import OrgUnitFactory, UserFactory
from tests.ltc.test_constraints import (
    Check,
    Unique,
    assert_names_constraint,
    covered_names,
    run_check,
    run_unique,
)


def build_region() -> OrgUnit:
    return OrgUnitFactory(parent=OrgUnitFactory())


CHECKS = [
    Check("orgunit_kind_valid", build_region, bad={"kind": "PLANET"}, good={"kind": "REP_OFFICE"}),
    Check(
        "orgunit_market_type_valid",
        build_region,
        bad={"market_type": "SWAMP"},
        good={"market_type": "MATURE"},
    ),
    # A non-HQ unit without a parent is refused; an HQ without a parent is the valid root.
    Check("orgunit_only_hq_is_root", build_region, bad={"parent": None}, good={"kind": "REP_OFFICE"}),
    Check("user_job_role_valid", UserFactory, bad={"job_role": "PIRATE"}, good={"job_role": "EXECUTIVE"}),
    Check(
        "user_language_valid",
        UserFactory,
        bad={"preferred_language": "fr"},
        good={"preferred_language": "en"},
    ),
]

UNIQUES = [
    Unique(
        "orgunit_code_unique",
        OrgUnitFactory,
        lambda a: OrgUnitFactory(code=a.code),
        lambda a: OrgUnitFactory(code=a.code + "-2"),
    ),
    Unique(
        "orgunit_external_id_unique",
        lambda: OrgUnitFactory(external_id="ERP-UNIT-1"),
        lambda a: OrgUnitFactory(external_id=a.external_id),
        lambda a: OrgUnitFactory(external_id="ERP-UNIT-2"),
    ),
    Unique(
        "user_external_id_unique",
        lambda: UserFactory(external_id="HR-1"),
        lambda a: UserFactory(external_id=a.external_id),
        lambda a: UserFactory(external_id="HR-2"),
    ),
]

COVERED = covered_names(CHECKS) | covered_names(UNIQUES)


@pytest.mark.django_db
@pytest.mark.parametrize("case", CHECKS, ids=str)
def test_check_constraint(case):
    run_check(case)


@pytest.mark.django_db
@pytest.mark.parametrize("case", UNIQUES, ids=str)
def test_unique_constraint(case):
    run_unique(case)


@pytest.mark.django_db
def test_hq_root_is_allowed_and_non_hq_root_refused_on_create():
    assert OrgUnitFactory(kind=OrgUnit.Kind.HQ).parent_id is None
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        OrgUnit.objects.create(
            code="R-ORPHAN", name="orphan", kind=OrgUnit.Kind.REGION, parent=None, path="/x/"
        )
    assert_names_constraint(caught.value, OrgUnit, "orgunit_only_hq_is_root")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "build"),
    [
        pytest.param(OrgUnit, lambda: OrgUnitFactory(external_id=None), id="orgunit"),
        pytest.param(User, lambda: UserFactory(external_id=None), id="user"),
    ],
)
def test_many_rows_without_external_id(model, build):
    first, second = build(), build()
    assert model.objects.filter(pk__in=[first.pk, second.pk], external_id__isnull=True).count() == 2
