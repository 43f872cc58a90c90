"""`manage.py seed_demo`: build a realistic, reproducible demo company at any scale."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.models import User
from ltc.seed import DEFAULT_SCALE, DEFAULT_SEED, database_has_people, print_logins, seed_demo


class Command(BaseCommand):
    help = (
        "Build a demo company: org tree, people, customers, leads, opportunities, contracts and cash. "
        "--scale is the number of opportunities; the rest is proportional. 生成演示数据。"
    )

    # A data command: it must not depend on URL or API modules being importable at the time.
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=int, default=DEFAULT_SCALE, help="number of opportunities (default %(default)s)"
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)"
        )
        parser.add_argument(
            "--today",
            type=dt.date.fromisoformat,
            default=None,
            help="the date the data is relative to, YYYY-MM-DD (default: today)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing (but print the log-ins) when the database already has people",
        )
        parser.add_argument("--force", action="store_true", help="run even with DJANGO_DEBUG off")
        parser.add_argument("--print-logins", action="store_true", help="only print the demo log-ins")

    def handle(self, *args, scale, seed, today, if_empty, force, print_logins: bool, **options):
        using = options.get("database", "default") or "default"
        if print_logins:
            print_logins_to(self.stdout, using)
            return
        if not settings.DEBUG and not force:
            raise CommandError(
                _(
                    "DJANGO_DEBUG is off: this looks like production. seed_demo writes demo people with known "
                    "passwords; add --force if you really mean it. 生产环境下拒绝生成演示数据（如确需生成请加 --force）。"
                )
            )
        if scale < 1:
            raise CommandError(_("--scale must be at least 1. 规模至少为 1。"))
        if database_has_people(using=using):
            if if_empty:
                self.stdout.write(
                    _("The database already has people: nothing written. 数据库已有数据，未写入。")
                )
                print_logins_to(self.stdout, using)
                return
            raise CommandError(
                _(
                    "The database already holds %(count)d people: seed_demo never adds a second company on top. "
                    "Use a fresh database, or empty this one with `manage.py flush`. "
                    "数据库已有数据，为避免重复请使用空数据库或先执行 flush。"
                )
                % {"count": User.objects.using(using).count()}
            )
        seed_demo(scale=scale, seed=seed, today=today, stdout=self.stdout, using=using)
        print_logins_to(self.stdout, using)


def print_logins_to(stdout, using: str) -> None:
    print_logins(stdout, using=using)
