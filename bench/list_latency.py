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
- walked ("cold"): following `next` from the first page, against following `next` from the middle: pages no
  earlier request has read (the sync-feed case).
Each client alternates between the first-page chain and the deep chain, so both are measured at the same
moments: on a small shared box the load swings by 2× from one second to the next, which measuring one after
the other turned into deep/first ratios of 0.5 to 2 for the very same query.
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
import shutil
import subprocess
import sys
import tempfile
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
    port: int,
    principal: Principal,
    endpoint: str,
    *,
    chains: dict[str, str | None],
    requests: int,
    walk: bool,
) -> dict[str, tuple[list[float], list[float]]]:
    """`CLIENTS` threads, each sending `requests` requests that alternate between the chains (label → start
    cursor; None: the first page), client i starting on chain i, so that every chain is measured at the same
    moments, under the same load and cache. With `walk` a client follows `next` along each chain (else it
    repeats the chain's page). Returns {label: ([server ms], [client ms])}."""
    base = f"/api/v1/{endpoint}/?page_size={PAGE_SIZE}"
    labels = list(chains)
    times: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label in labels}
    lock = threading.Lock()
    errors: list[BaseException] = []
    barrier = threading.Barrier(CLIENTS)

    def worker(offset: int) -> None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            headers = principal.headers()
            cursors = dict(chains)
            mine: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label in labels}
            barrier.wait()
            for k in range(requests):
                label = labels[(k + offset) % len(labels)]
                cursor = cursors[label]
                path = base if cursor is None else f"{base}&cursor={cursor}"
                s_ms, c_ms, data = timed_get(conn, path, headers)
                mine[label][0].append(s_ms)
                mine[label][1].append(c_ms)
                if walk:
                    nxt = data.get("next")
                    cursors[label] = nxt.split("cursor=")[1].split("&")[0] if nxt else chains[label]
            conn.close()
            with lock:
                for label in labels:
                    times[label][0].extend(mine[label][0])
                    times[label][1].extend(mine[label][1])
        except BaseException as exc:  # noqa: BLE001 — reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return times


WRK_SCRIPT = """
wrk.method = "GET"
%(headers)s
local paths = {%(paths)s}
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("WRK %%d %%d %%d %%.3f %%.3f %%.3f\\n", summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def run_wrk(port: int, principal: Principal, paths: list[str], seconds: int) -> dict | None:
    """The same page reads from outside Python: wrk (C, one thread, `CLIENTS` kept-alive connections) sends
    the paths in turn for `seconds`; client-side latency as wrk measures it, from the socket. Returns None when
    wrk is not installed (Debian: apt-get install wrk)."""
    if shutil.which("wrk") is None:
        return None
    headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in principal.headers().items())
    script = WRK_SCRIPT % {"headers": headers, "paths": ", ".join(f'"{p}"' for p in paths)}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{CLIENTS}", f"-d{seconds}s", "-s", handle.name, f"http://127.0.0.1:{port}/"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(handle.name)
    line = next(line for line in out.splitlines() if line.startswith("WRK "))
    requests, bad_status, socket_errors, p50, p95, p99 = line.split()[1:]
    if int(bad_status) or int(socket_errors):
        raise RuntimeError(f"wrk: {bad_status} answers other than 2xx/3xx, {socket_errors} socket errors")
    return {"requests": int(requests), "p50": float(p50), "p95": float(p95), "p99": float(p99)}


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
    parser.add_argument(
        "--requests",
        type=int,
        default=50,
        help="requests per client per chain (first, deep) and mode (walk, hot)",
    )
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
        "--wrk",
        type=int,
        default=15,
        metavar="SECONDS",
        help="also read the first and the deep page in turn with wrk for this long per list (0: not)",
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
                # Both chains start on one page each (the first, or the middle one) and are measured in
                # alternation by every client: the same load and cache for both. A walk reads pages no earlier
                # request has read.
                chains = {"first": None, "deep": deep[0]}
                run_clients(
                    args.port, principal, endpoint, chains=chains, requests=10, walk=False
                )  # warm workers
                timed = {}
                for mode, walk in (("walk", True), ("hot", False)):
                    measured = run_clients(
                        args.port, principal, endpoint, chains=chains, requests=2 * args.requests, walk=walk
                    )
                    for label, samples in measured.items():
                        timed[f"{mode}_{label}"] = samples
                base = f"/api/v1/{endpoint}/?page_size={PAGE_SIZE}"
                wrk = (
                    run_wrk(args.port, principal, [base, f"{base}&cursor={deep[0]}"], args.wrk)
                    if args.wrk
                    else None
                )
                q_first, q_deep = count_queries(principal, endpoint, deep[0])
                row = {
                    "principal": principal.label,
                    "endpoint": endpoint,
                    "visible": visible,
                    "queries_first": q_first,
                    "queries_deep": q_deep,
                    "samples": len(timed["hot_first"][0]),
                    "wrk": wrk,
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
                    + f" | client p95 {max(row[k] for k in row if k.startswith('client_')):6.1f}"
                    + (f" | wrk {wrk['p50']:5.1f}/{wrk['p95']:5.1f} ({wrk['requests']})" if wrk else "")
                    + f" | queries {q_first}/{q_deep}",
                    flush=True,
                )
                results["lists"].append(row)
    print("saved", save_results(args.save_as, results))


if __name__ == "__main__":
    main()
