"""Log in from a phone (375×812) and land on the home page (QUALITY.md P6: usable on a 375-px screen)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.factories import DEMO_PASSWORD, UserFactory


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_phone_log_in_lands_on_home(page: Page, live_server, screenshot_dir):
    UserFactory(username="wang.fang", full_name="王芳")

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    assert no_horizontal_scroll(page)
    button = page.get_by_role("button", name=re.compile("登录"))
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 300  # a thumb-sized target
    page.screenshot(path=str(screenshot_dir / "login-phone.png"), full_page=True)

    page.get_by_label(re.compile("用户名")).fill("wang.fang")
    page.get_by_label(re.compile("密码")).fill(DEMO_PASSWORD)
    button.tap()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("王芳")
    expect(page.get_by_role("button", name=re.compile("退出"))).to_be_visible()
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(screenshot_dir / "home-phone.png"), full_page=True)


def test_phone_wrong_password_stays_on_login_with_a_message(page: Page, live_server, screenshot_dir):
    UserFactory(username="li.lei")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label(re.compile("用户名")).fill("li.lei")
    page.get_by_label(re.compile("密码")).fill("wrong-password")
    page.get_by_role("button", name=re.compile("登录")).tap()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    expect(page.get_by_label(re.compile("用户名"))).to_have_value("li.lei")
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(screenshot_dir / "login-error-phone.png"), full_page=True)
