"""The demo log-ins table: who to sign in as, printed after seeding and on demand."""

from __future__ import annotations

from typing import TextIO

from accounts.models import User
from ltc.seed import vocab
from ltc.seed.org import ADMIN_PASSWORD, DEMO_PASSWORD


def key_usernames() -> tuple[str, ...]:
    """The people worth signing in as: one of each role and every level of the first branch."""
    first_office = vocab.REGIONS[0][5][0][1]
    names = ["admin", "ceo", "cfo"]
    names += [f"mgr_{region[1]}" for region in vocab.REGIONS]
    names += [f"mgr_{region[5][0][1]}" for region in vocab.REGIONS]
    names += [f"mgr_{first_office}_{dept[1]}" for dept in vocab.ACCOUNT_DEPTS]
    names += [
        f"rep_{first_office}_1",
        f"rep_{first_office}_2",
        f"sr_{first_office}_1",
        f"fr_{first_office}_1",
    ]
    names += [f"rep_{region[5][0][1]}_1" for region in vocab.REGIONS[1:]]
    return tuple(names)


def demo_logins(*, using: str = "default") -> list[dict[str, str]]:
    order = key_usernames()
    users = {
        u.username: u for u in User.objects.using(using).filter(username__in=order).select_related("org_unit")
    }
    return [
        {
            "username": name,
            "role": users[name].get_job_role_display(),
            "org_unit": users[name].org_unit.name if users[name].org_unit else "",
            "password": ADMIN_PASSWORD if name == "admin" else DEMO_PASSWORD,
        }
        for name in order
        if name in users
    ]


def print_logins(stdout: TextIO, *, using: str = "default") -> int:
    """Print the demo log-ins; returns how many were printed (0 when the database holds no demo people)."""
    rows = demo_logins(using=using)
    if not rows:
        stdout.write(
            "No demo log-ins found: run `manage.py seed_demo` first. 未找到演示账号，请先运行 seed_demo。\n"
        )
        return 0
    headers = ("user name 用户名", "role 角色", "org unit 组织", "password 密码")
    keys = ("username", "role", "org_unit", "password")
    widths = [max(_width(h), *(_width(r[k]) for r in rows)) for h, k in zip(headers, keys, strict=True)]
    stdout.write("\nDemo log-ins 演示账号\n")
    stdout.write("  ".join(_pad(h, w) for h, w in zip(headers, widths, strict=True)) + "\n")
    stdout.write("  ".join("-" * w for w in widths) + "\n")
    for row in rows:
        stdout.write("  ".join(_pad(str(row[k]), w) for k, w in zip(keys, widths, strict=True)) + "\n")
    others = User.objects.using(using).count() - len(rows)
    if others > 0:
        stdout.write(
            f"… and {others} more people (rep_<office>_<n>, sr_…, fr_…, mgr_…) with the password "
            f"{DEMO_PASSWORD} 其余 {others} 人密码相同。\n"
        )
    return len(rows)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
