"""P2/P5: list endpoints at ~1,000,000 opportunities, 50 rows a page, 4 concurrent clients.

    # once: a seeded database (≈ 30 min at 1M on 2 cores); --scale is the number of opportunities
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ltc_bench_1m .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ltc_bench_1m .venv/bin/python manage.py seed_demo \\
        --scale 1000000 --seed 2026 --today 2026-11-22
    # then (a few minutes):
    .venv/bin/python bench/list_latency.py --db ltc_bench_1m
    .venv/bin/python bench/list_latency.py --db ltc_bench_1m --explain   # plans of the page queries only

For each principal and endpoint (GET /api/v1/{opportunities,customers,invoices}/?page_size=50), two ways,
each comparing the first page with a deep one under the same cache conditions:
- repeated ("hot"): the first page again and again, against a deep page again and again (a cursor crafted
  for the row in the middle of what the principal may see — row ≈ 500,000 of 1M opportunities for the admin);
- walked ("cold"): the clients follow `next` from the first page, against following `next` from the middle:
  the pages are ones no earlier request has read (the sync-feed case).
4 client threads, each with its own kept-alive connection, against gunicorn (4 workers, DEBUG off) on
loopback. The figure is server side: the `Server-Timing: app;dur=` header of ltc.middleware (everything
Django does, the queries included; not the WSGI server or the socket); client-side times are printed too.
Principals: an API client with the admin scope (the whole company), an API client bound to a region
("*:read" with that region as its org unit), and the region's manager logged in through a session (the
scope of a person: own records, the subtree, the teams the person is on).
Queries per request are counted in-process (Django test client, CaptureQueriesContext).
Results are printed and saved to var/bench/list_latency.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    DEFAULT_PG,
    PYTHON,
    ROOT,
    Server,
    database_exists,
    db_url,
    django_setup,
    machine,
    percentile,
    recreate_database,
    save_results,
    server_ms,
)

ENDPOINTS = ("opportunities", "customers", "invoices")
CLIENTS = 4
PAGE_SIZE = 50


class Principal:
    def __init__(self, label: str, *, token: str | None = None, session: str | None = None, user=None):
        self.label, self.token, self.session, self.user = label, token, session, user

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        if self.session:
            headers["Cookie"] = f"sessionid={self.session}"
        return headers


def ensure_seeded(pg: str, name: str, scale: int) -> None:
    """Create, migrate and seed `name` with seed_demo at `scale` unless it already holds opportunities."""
    import psycopg2

    if database_exists(pg, name):
        with psycopg2.connect(db_url(pg, name)) as conn, conn.cursor() as cur:
            cur.execute("SELECT to_regclass('pipeline_opportunity') IS NOT NULL")
            if cur.fetchone()[0]:
                cur.execute("SELECT EXISTS (SELECT 1 FROM pipeline_opportunity)")
                if cur.fetchone()[0]:
                    return
    print(f"seeding {name} with seed_demo --scale {scale} (once; long) …", flush=True)
    recreate_database(pg, name)
    env = {**os.environ, "DATABASE_URL": db_url(pg, name)}
    subprocess.run(
        [PYTHON, "manage.py", "seed_demo", "--scale", str(scale), "--seed", "2026", "--today", "2026-11-22"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def make_principals():
    """The admin client, a region-bound client and the region's manager (session). Returns (principals, region)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db.models import Count

    from accounts.models import OrgUnit, User
    from ltc.api.services import api_client_create
    from pipeline.models import Opportunity

    # The region with the most opportunities (its subtree's), and its manager.
    regions = list(OrgUnit.objects.filter(kind=OrgUnit.Kind.REGION).order_by("pk"))
    counts = dict(
        Opportunity.objects.values("org_unit__path")
        .annotate(n=Count("id"))
        .values_list("org_unit__path", "n")
    )
    region = max(
        regions, key=lambda r: sum(n for path, n in counts.items() if path and path.startswith(r.path))
    )
    manager = region.manager or User.objects.filter(org_unit=region, job_role=User.JobRole.MANAGER).first()
    stamp = time.strftime("%Y%m%d%H%M%S")
    _admin, admin_token = api_client_create(name=f"bench admin {stamp}", scopes=["admin"])
    _regional, region_token = api_client_create(
        name=f"bench region {stamp}", scopes=["*:read"], org_unit=region
    )
    principals = [
        Principal("admin client", token=admin_token),
        Principal(f"region client ({region.code})", token=region_token),
    ]
    if manager is not None:
        session = SessionStore()
        session[SESSION_KEY] = str(manager.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = manager.get_session_auth_hash()
        session.create()
        principals.append(
            Principal(
                f"region manager {manager.username} (session)", session=session.session_key, user=manager
            )
        )
    return principals, region


def visible_queryset(endpoint: str, principal: Principal):
    """The queryset the list view pages through, for this principal (for crafting deep cursors)."""
    from accounts.models import User
    from contracts.selectors import invoice_visible_to
    from ltc.api.authentication import ApiTokenAuthentication
    from pipeline.selectors import opportunity_visible_to
    from relationships.selectors import customer_visible_to

    user: User = (
        principal.user
        if principal.user is not None
        else ApiTokenAuthentication().authenticate_key(principal.token)[0]
    )
    selector = {
        "opportunities": opportunity_visible_to,
        "customers": customer_visible_to,
        "invoices": invoice_visible_to,
    }[endpoint]
    return selector(user)


def deep_cursors(endpoint: str, principal: Principal, *, spread: int = CLIENTS) -> tuple[list[str], int]:
    """Cursors for `spread` positions around the middle of the visible rows, and the number of visible rows.

    The middle row is found with an OFFSET query here (once, outside the timing); the cursor encodes its
    (updated_at, id) exactly as the API's own `next` link would.
    """
    from ltc.api.pagination import DEFAULT_ORDERING, _encode

    qs = visible_queryset(endpoint, principal).order_by(*DEFAULT_ORDERING).values_list(*DEFAULT_ORDERING)
    total = qs.count()
    cursors = []
    for k in range(spread):
        position = max(0, total // 2 + k * PAGE_SIZE * 10 - 1)
        row = qs[position : position + 1]
        values = list(row)
        if values:
            cursors.append(_encode(list(values[0])))
    return cursors, total


def timed_get(
    conn: http.client.HTTPConnection, path: str, headers: dict[str, str]
) -> tuple[float, float, dict]:
    started = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    client_ms = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}: {body[:300]!r}")
    headers_in = {k.lower(): v for k, v in response.getheaders()}
    return server_ms(headers_in), client_ms, json.loads(body)


def run_clients(
    port: int, principal: Principal, endpoint: str, *, starts: list[str | None], requests: int, walk: bool
):
    """`CLIENTS` threads; thread i starts at `starts[i]` (None: the first page) and, with `walk`, follows
    `next` (else repeats its page). Returns ([server ms], [client ms])."""
    base = f"/api/v1/{endpoint}/?page_size={PAGE_SIZE}"
    server_times: list[float] = []
    client_times: list[float] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    barrier = threading.Barrier(CLIENTS)

    def worker(start: str | None) -> None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            headers = principal.headers()
            cursor = start
            mine_s, mine_c = [], []
            barrier.wait()
            for _ in range(requests):
                path = base if cursor is None else f"{base}&cursor={cursor}"
                s_ms, c_ms, data = timed_get(conn, path, headers)
                mine_s.append(s_ms)
                mine_c.append(c_ms)
                if walk:
                    nxt = data.get("next")
                    cursor = nxt.split("cursor=")[1].split("&")[0] if nxt else start
            conn.close()
            with lock:
                server_times.extend(mine_s)
                client_times.extend(mine_c)
        except BaseException as exc:  # noqa: BLE001 — reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(starts[i % len(starts)],)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return server_times, client_times


def count_queries(principal: Principal, endpoint: str, cursor: str) -> tuple[int, int]:
    """Queries of the first and of a deep page, through the Django test client on the same database."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    http = APIClient()
    if principal.token:
        http.credentials(HTTP_AUTHORIZATION=f"Token {principal.token}")
    else:
        http.force_login(principal.user)
    counts = []
    for path in (
        f"/api/v1/{endpoint}/?page_size={PAGE_SIZE}",
        f"/api/v1/{endpoint}/?page_size={PAGE_SIZE}&cursor={cursor}",
    ):
        with CaptureQueriesContext(connection) as queries:
            response = http.get(path)
        assert response.status_code == 200, response.content[:300]
        counts.append(len(queries))
    return counts[0], counts[1]


def explain(principal: Principal, endpoint: str, cursor: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the page query of the first and a deep page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    http = APIClient()
    if principal.token:
        http.credentials(HTTP_AUTHORIZATION=f"Token {principal.token}")
    else:
        http.force_login(principal.user)
    for label, path in (
        ("first", f"/api/v1/{endpoint}/?page_size={PAGE_SIZE}"),
        ("deep", f"/api/v1/{endpoint}/?page_size={PAGE_SIZE}&cursor={cursor}"),
    ):
        with CaptureQueriesContext(connection) as queries:
            http.get(path)
        page_sql = [q["sql"] for q in queries.captured_queries if f"LIMIT {PAGE_SIZE + 1}" in q["sql"]]
        for sql in page_sql:
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = "\n".join(row[0] for row in cur.fetchall())
            print(f"\n=== {principal.label} {endpoint} {label} page ===\n{sql}\n{plan}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server URL (no database)")
    parser.add_argument("--db", default="ltc_bench_1m", help="a seeded database (see the module docstring)")
    parser.add_argument("--requests", type=int, default=50, help="requests per client per measurement")
    parser.add_argument("--port", type=int, default=8792)
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("--explain", action="store_true", help="print the page queries' plans and stop")
    parser.add_argument("--save-as", default="list_latency", help="name of the JSON file in var/bench/")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the server, e.g. LTC_PG_OPTIONS=",
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=1_000_000,
        help="opportunities to seed when the database is missing or empty (seed_demo; ≈ 30 min at 1M)",
    )
    args = parser.parse_args()
    endpoints = args.endpoints.split(",")
    url = db_url(args.pg, args.db)
    ensure_seeded(args.pg, args.db, args.scale)
    django_setup(url)

    from contracts.models import Invoice
    from pipeline.models import Opportunity
    from relationships.models import Customer

    sizes = {
        "opportunities": Opportunity.objects.count(),
        "customers": Customer.objects.count(),
        "invoices": Invoice.objects.count(),
    }
    print("rows:", sizes, flush=True)
    principals, region = make_principals()
    cursors = {}
    for principal in principals:
        for endpoint in endpoints:
            cursors[(principal.label, endpoint)] = deep_cursors(endpoint, principal)
            print(
                f"{principal.label:>40} {endpoint:>14}: {cursors[(principal.label, endpoint)][1]:>9,} visible",
                flush=True,
            )
    if args.explain:
        for principal in principals:
            for endpoint in endpoints:
                explain(principal, endpoint, cursors[(principal.label, endpoint)][0][0])
        return

    results: dict = {
        "machine": machine(args.pg),
        "database": args.db,
        "rows": sizes,
        "region": region.code,
        "clients": CLIENTS,
        "requests_per_client": args.requests,
        "lists": [],
    }
    extra_env = dict(item.split("=", 1) for item in args.server_env)
    results["server_env"] = extra_env
    log = ROOT / "var" / "bench" / "list_gunicorn.log"
    with Server(url, port=args.port, workers=CLIENTS, log=log, env=extra_env):
        for principal in principals:
            for endpoint in endpoints:
                deep, visible = cursors[(principal.label, endpoint)]
                # The four clients start together on one page (the first, or the middle one): the same
                # conditions for both, and a walk is one chain of pages that no earlier request has read.
                first_starts: list[str | None] = [None]
                deep = deep[:1]
                # Warm every worker (not the data: the walks below start where no request has been).
                run_clients(args.port, principal, endpoint, starts=first_starts, requests=5, walk=False)
                run_clients(args.port, principal, endpoint, starts=deep, requests=5, walk=False)
                timed = {}
                for mode, walk in (("walk", True), ("hot", False)):
                    for label, starts in (("first", first_starts), ("deep", deep)):
                        timed[f"{mode}_{label}"] = run_clients(
                            args.port, principal, endpoint, starts=starts, requests=args.requests, walk=walk
                        )
                q_first, q_deep = count_queries(principal, endpoint, deep[0])
                row = {
                    "principal": principal.label,
                    "endpoint": endpoint,
                    "visible": visible,
                    "queries_first": q_first,
                    "queries_deep": q_deep,
                    "samples": len(timed["hot_first"][0]),
                }
                for key, (server, client) in timed.items():
                    row[f"{key}_p50"] = percentile(server, 50)
                    row[f"{key}_p95"] = percentile(server, 95)
                    row[f"client_{key}_p95"] = percentile(client, 95)
                for mode in ("hot", "walk"):
                    row[f"{mode}_ratio_p50"] = row[f"{mode}_deep_p50"] / row[f"{mode}_first_p50"]
                    row[f"{mode}_ratio_p95"] = row[f"{mode}_deep_p95"] / row[f"{mode}_first_p95"]
                print(
                    f"{principal.label:>40} {endpoint:>14} | "
                    + " | ".join(
                        f"{mode} first {row[f'{mode}_first_p50']:5.1f}/{row[f'{mode}_first_p95']:5.1f} "
                        f"deep {row[f'{mode}_deep_p50']:5.1f}/{row[f'{mode}_deep_p95']:5.1f} "
                        f"ratio {row[f'{mode}_ratio_p50']:.2f}"
                        for mode in ("hot", "walk")
                    )
                    + f" | client p95 {max(row[k] for k in row if k.startswith('client_')):6.1f} | "
                    f"queries {q_first}/{q_deep}",
                    flush=True,
                )
                results["lists"].append(row)
    print("saved", save_results(args.save_as, results))


if __name__ == "__main__":
    main()
