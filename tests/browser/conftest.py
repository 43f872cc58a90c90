"""Browser tests: Playwright driving Debian's Chromium (see docs PLATFORM.md), against pytest-django's live_server.

Every test under tests/browser is marked `browser` and is skipped, with the reason, when /usr/bin/chromium
is missing (install it with `apt-get install -y chromium`; `playwright install` is not needed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; without this Django refuses DB access
# from the test (SynchronousOnlyOperation) while the live server answers the browser.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
HERE = Path(__file__).resolve().parent
PHONE = {"width": 375, "height": 812}


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: apt-get install -y chromium")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A phone: 375×812 CSS pixels, touch, Chinese first (the product's default language).
    return {
        **browser_context_args,
        "viewport": PHONE,
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
        "locale": "zh-CN",
    }


@pytest.fixture
def screenshot_dir() -> Path:
    path = Path(os.environ.get("LTC_SCREENSHOT_DIR", "/tmp/ltc-screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    return path
