"""QUALITY.md P6 in a real browser: on a 375×812 phone a rep logs a visit in ≤ 3 taps/fields beyond the notes
and sees it on "My week"; no page scrolls sideways and the targets are thumb-sized."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from relationships.models import Visit
from tests.factories import (
    DEMO_PASSWORD,
    CustomerFactory,
    CustomerTeamMemberFactory,
    OrgUnitFactory,
    UserFactory,
)


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label(re.compile("用户名")).fill(username)
    page.get_by_label(re.compile("密码")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("登录")).tap()
    expect(page.get_by_role("heading", level=1)).to_contain_text("我的一周")


def test_phone_logs_a_visit_in_three_taps_and_sees_it_on_my_week(page: Page, live_server, screenshot_dir):
    hq = OrgUnitFactory(name="总部")
    dept = OrgUnitFactory(parent=OrgUnitFactory(parent=OrgUnitFactory(parent=hq)), name="运营商系统部")
    rep = UserFactory(username="zhang.wei", full_name="张伟", org_unit=dept)
    customer = CustomerFactory(name="中国移动浙江公司（杭州分公司）", account_dept=dept, owner=rep)
    CustomerTeamMemberFactory(customer=customer, user=rep, role="AR")
    for name in ("浙江省电力公司", "杭州市政府数据资源管理局"):
        CustomerFactory(name=name, account_dept=dept, owner=rep)

    log_in(page, live_server, "zhang.wei")
    assert no_horizontal_scroll(page)

    taps_and_fields = 0
    page.get_by_role("navigation").get_by_role("link", name=re.compile("记拜访")).tap()
    taps_and_fields += 1
    expect(page).to_have_url(f"{live_server.url}/visits/new/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("记录拜访")
    assert no_horizontal_scroll(page)
    save = page.get_by_role("button", name=re.compile("保存拜访"))
    box = save.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 300
    customer_select = page.get_by_label("Customer 客户", exact=True)
    select_box = customer_select.bounding_box()
    assert select_box is not None and select_box["height"] >= 44
    page.screenshot(path=str(screenshot_dir / "visit-form-phone.png"), full_page=True)

    customer_select.select_option(label=customer.name)
    taps_and_fields += 1
    page.get_by_label(re.compile("拜访结果")).fill("客户同意下周做专网技术交流")  # the notes
    save.tap()
    taps_and_fields += 1
    assert taps_and_fields <= 3

    expect(page).to_have_url(f"{live_server.url}/week/")
    expect(page.get_by_role("status")).to_contain_text("已记录对中国移动浙江公司（杭州分公司）的拜访")
    visits = page.get_by_role("region", name=re.compile("本周拜访"))
    expect(visits).to_contain_text(customer.name)
    expect(visits).to_contain_text("客户同意下周做专网技术交流")
    expect(visits).to_contain_text("1 / 6")
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(screenshot_dir / "my-week-phone.png"), full_page=True)

    visit = Visit.objects.get()
    assert (visit.customer, visit.rep, visit.visit_type) == (customer, rep, Visit.Type.ROUTINE)


def test_phone_visit_form_shows_a_missing_customer_without_losing_the_notes(
    page: Page, live_server, screenshot_dir
):
    hq = OrgUnitFactory(name="总部")
    dept = OrgUnitFactory(parent=OrgUnitFactory(parent=OrgUnitFactory(parent=hq)))
    UserFactory(username="li.na", org_unit=dept)

    log_in(page, live_server, "li.na")
    page.goto(f"{live_server.url}/visits/new/")
    page.get_by_label(re.compile("拜访结果")).fill("没有选客户")
    page.get_by_role("button", name=re.compile("保存拜访")).tap()
    expect(page.locator(".errorlist")).to_contain_text("请选择客户")
    expect(page.get_by_label(re.compile("拜访结果"))).to_have_value("没有选客户")
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(screenshot_dir / "visit-form-error-phone.png"), full_page=True)
    assert not Visit.objects.exists()
