"""The org tree and user admin: units are created and moved through accounts.services, so path and depth are
always right; the user admin edits the LTC fields."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import OrgUnit, User
from tests.factories import UserFactory, org_tree


@pytest.fixture
def root_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True, job_role="ADMIN"))
    return client


def unit_form(**overrides) -> dict:
    data = {
        "code": "SZ",
        "name": "深圳代表处",
        "name_en": "Shenzhen",
        "kind": "REP_OFFICE",
        "parent": "",
        "manager": "",
        "market_type": "NEW",
        "is_active": "on",
        "external_id": "",
    }
    data.update({key: ("" if value is None else value) for key, value in overrides.items()})
    return data


def test_adding_a_unit_sets_path_and_depth(root_client, tree):
    response = root_client.post(reverse("admin:accounts_orgunit_add"), unit_form(parent=tree["region2"].pk))
    assert response.status_code == 302, response.context["adminform"].form.errors
    unit = OrgUnit.objects.get(code="SZ")
    assert unit.path == f"{tree['region2'].path}{unit.pk}/"
    assert unit.depth == tree["region2"].depth + 1
    assert unit.external_id is None


def test_adding_a_unit_under_the_wrong_level_is_a_form_error(root_client, tree):
    response = root_client.post(reverse("admin:accounts_orgunit_add"), unit_form(parent=tree["hq"].pk))
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    assert not OrgUnit.objects.filter(code="SZ").exists()


def test_moving_a_unit_rewrites_the_subtree(root_client, tree):
    office = tree["office"]
    url = reverse("admin:accounts_orgunit_change", args=[office.pk])
    data = unit_form(code=office.code, name="上海代表处（划转）", parent=tree["region2"].pk, name_en="")
    data.pop("kind")  # read-only on change
    response = root_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    office.refresh_from_db()
    assert office.parent_id == tree["region2"].pk
    assert office.name == "上海代表处（划转）"
    assert office.path == f"{tree['region2'].path}{office.pk}/"
    for dept in (tree["dept1"], tree["dept2"]):
        dept.refresh_from_db()
        assert dept.path == f"{office.path}{dept.pk}/"
        assert dept.depth == office.depth + 1


def test_a_unit_cannot_move_under_its_own_subtree(root_client):
    tree = org_tree()
    region = tree["region"]
    data = unit_form(code=region.code, name=region.name, parent=tree["office"].pk)
    data.pop("kind")
    response = root_client.post(reverse("admin:accounts_orgunit_change", args=[region.pk]), data)
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    region.refresh_from_db()
    assert region.parent_id == tree["hq"].pk


def test_user_admin_edits_the_ltc_fields(root_client, tree):
    boss = UserFactory(org_unit=tree["region"], job_role=User.JobRole.MANAGER)
    user = UserFactory(username="li.lei", org_unit=tree["dept1"])
    url = reverse("admin:accounts_user_change", args=[user.pk])
    page = root_client.get(url)
    assert page.status_code == 200
    for field in (
        "org_unit",
        "manager",
        "job_role",
        "preferred_language",
        "full_name",
        "external_id",
        "phone",
    ):
        assert field in page.context["adminform"].form.fields
    data = {
        "username": "li.lei",
        "full_name": "李雷",
        "email": "li.lei@example.com",
        "external_id": "HR-0042",
        "phone": "13800000000",
        "org_unit": tree["dept2"].pk,
        "manager": boss.pk,
        "job_role": User.JobRole.SOLUTION_EXPERT,
        "preferred_language": "en",
        "is_active": "on",
        "date_joined_0": "2026-01-05",
        "date_joined_1": "09:00:00",
        "initial-date_joined_0": "2026-01-05",
        "initial-date_joined_1": "09:00:00",
    }
    response = root_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert (user.full_name, user.external_id, user.org_unit_id, user.manager_id, user.job_role) == (
        "李雷",
        "HR-0042",
        tree["dept2"].pk,
        boss.pk,
        User.JobRole.SOLUTION_EXPERT,
    )
    assert user.preferred_language == "en"


def test_user_changelist_searches_by_full_name(root_client, tree):
    UserFactory(username="han.meimei", full_name="韩梅梅", org_unit=tree["dept3"])
    response = root_client.get(reverse("admin:accounts_user_changelist"), {"q": "韩梅梅"})
    assert [u.username for u in response.context["cl"].result_list] == ["han.meimei"]


def test_login_failures_are_for_administrators_only(client, db, tree):
    manager = UserFactory(org_unit=tree["region"], job_role=User.JobRole.MANAGER, is_staff=True)
    client.force_login(manager)
    assert client.get(reverse("admin:accounts_loginfailure_changelist")).status_code == 403
