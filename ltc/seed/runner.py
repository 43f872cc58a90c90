"""One generator run: the phases in dependency order, in one transaction, with a timing summary."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import TextIO

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from accounts.models import User
from ltc.seed.base import Clock, Loader, Rand, TableStat
from ltc.seed.cash import build_contracts, build_kpi_targets
from ltc.seed.customers import build_customers, build_relationship_work, build_visits
from ltc.seed.org import build_org
from ltc.seed.pipeline import build_leads, build_opportunities, build_products

DEFAULT_SCALE = 300
DEFAULT_SEED = 2026
# Of all leads, the share converted into an opportunity: 2 leads per opportunity, 60% of opportunities from one.
LEADS_PER_OPPORTUNITY = 2
OPPORTUNITIES_FROM_LEADS = 0.6


@dataclass
class SeedResult:
    scale: int
    seed: int
    today: dt.date
    seconds: float
    tables: list[TableStat]
    phases: list[tuple[str, float]]

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def database_has_people(*, using: str = "default") -> bool:
    return User.objects.using(using).exists()


def seed_demo(
    *,
    scale: int = DEFAULT_SCALE,
    seed: int = DEFAULT_SEED,
    today: dt.date | None = None,
    stdout: TextIO | None = None,
    using: str = "default",
    use_copy: bool | None = None,
) -> SeedResult:
    """Build the demo company: `scale` opportunities and everything around them, in one transaction.

    Same `scale`, `seed` and `today` give the same rows (ids included, on an empty database). The caller
    checks that the database is empty; this function only adds rows.
    """
    if scale < 1:
        raise ValueError("scale must be at least 1")

    def say(text: str) -> None:
        if stdout is not None:
            stdout.write(text + "\n")
            stdout.flush()

    clock = Clock(today or timezone.localdate())
    rand = Rand(seed)
    loader = Loader(clock=clock, using=using, use_copy=use_copy)
    quota = settings.LTC["VISIT_QUOTA_PER_WEEK"]
    phases: list[tuple[str, float]] = []
    started = time.perf_counter()

    def phase(name: str, fn, **kwargs):
        say(f"{name} …")
        t0 = time.perf_counter()
        result = fn(loader=loader, rand=rand, clock=clock, **kwargs)
        loader.flush_full()
        phases.append((name, time.perf_counter() - t0))
        say(f"{name}: {phases[-1][1]:.1f}s")
        return result

    say(
        f"Seeding scale={scale} seed={seed} today={clock.today} "
        f"({'COPY' if loader.use_copy else 'bulk_create'}) …"
    )
    with transaction.atomic(using=using), loader.given_timestamps():
        if loader.use_copy:
            with connections[using].cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        org = phase("org tree and people", build_org, scale=scale, say=say)
        products = phase("products", build_products)
        customers = phase(
            "customers and contacts",
            build_customers,
            org=org,
            count=max(scale // 5, 3 * len(org.depts)),
            say=say,
        )
        phase("relationship work", build_relationship_work, org=org, cust=customers)
        phase("visits", build_visits, org=org, cust=customers, scale=scale, quota=quota)
        converted = phase(
            "leads",
            build_leads,
            org=org,
            cust=customers,
            count=LEADS_PER_OPPORTUNITY * scale,
            convert_share=OPPORTUNITIES_FROM_LEADS / LEADS_PER_OPPORTUNITY,
        )
        won = phase(
            "opportunities",
            build_opportunities,
            org=org,
            cust=customers,
            count=scale,
            converted=converted,
            products=products,
        )
        actuals = phase("contracts and cash", build_contracts, org=org, won=won)
        phase("KPI targets", build_kpi_targets, org=org, actuals=actuals, quota=quota)
        t0 = time.perf_counter()
        loader.flush_all()
        loader.reset_sequences()
        phases.append(("final flush", time.perf_counter() - t0))
        t0 = time.perf_counter()
        loader.restore_constraints()
        phases.append(("constraints and indexes", time.perf_counter() - t0))
        t0 = time.perf_counter()
    phases.append(("commit", time.perf_counter() - t0))
    result = SeedResult(
        scale=scale,
        seed=seed,
        today=clock.today,
        seconds=time.perf_counter() - started,
        tables=sorted(loader.stats.values(), key=lambda s: -s.rows),
        phases=phases,
    )
    if stdout is not None:
        print_summary(result, stdout)
    return result


def print_summary(result: SeedResult, stdout: TextIO) -> None:
    stdout.write("\nRows written 写入行数\n")
    stdout.write(f"{'table':<40} {'rows':>12} {'write s':>9} {'rows/s':>10}\n")
    for t in result.tables:
        rate = f"{t.rows / t.seconds:,.0f}" if t.seconds > 0 else "-"
        stdout.write(f"{t.label:<40} {t.rows:>12,} {t.seconds:>9.2f} {rate:>10}\n")
    stdout.write(f"{'total':<40} {result.rows:>12,} {sum(t.seconds for t in result.tables):>9.2f}\n")
    stdout.write("\nPhases (generation + writes) 阶段耗时\n")
    for name, seconds in result.phases:
        stdout.write(f"{name:<40} {seconds:>9.2f}s\n")
    stdout.write(
        f"\nDone in {result.seconds:.1f}s: {result.rows:,} rows, "
        f"{result.rows / max(result.seconds, 1e-9):,.0f} rows/s overall. 完成。\n"
    )
