"""The demo and scale data generator behind `manage.py seed_demo` (see ltc/seed/runner.py)."""

from ltc.seed.logins import demo_logins, key_usernames, print_logins
from ltc.seed.org import ADMIN_PASSWORD, DEMO_PASSWORD
from ltc.seed.runner import DEFAULT_SCALE, DEFAULT_SEED, SeedResult, database_has_people, seed_demo

__all__ = [
    "ADMIN_PASSWORD",
    "DEFAULT_SCALE",
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "SeedResult",
    "database_has_people",
    "demo_logins",
    "key_usernames",
    "print_logins",
    "seed_demo",
]
