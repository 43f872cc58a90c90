"""P2, in detail: what one list request costs inside the process, one request at a time (no concurrency).

    .venv/bin/python bench/list_cost.py --db ltc_bench_1m [--endpoints invoices] [--requests 100]

For each principal of bench/list_latency.py (admin client, region client, region manager by session) and list,
on the first page (`?page_size=50`), warm cache:
- request: the whole request through Django's test client (middleware, authentication, the queries, rendering),
  median and p90 of `--requests` requests;
- compile: turning the visibility-filtered page query into SQL (a clone of the selector's QuerySet, ordered and
  sliced as the page reads it, keys only: the joins of select_related and the columns are not the filter's),
  median of 200;
- plan / execute / buffers: PostgreSQL's own figures for the page query the request sent
  (EXPLAIN (ANALYZE, BUFFERS), the third of three runs).
Nothing here is a latency bar (list_latency.py measures those under load); it says where a request's time goes,
and compares two commits when run from a checkout of each against the same database.
Results are printed and saved to var/bench/list_cost.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import os  # noqa: E402

from bench.common import (  # noqa: E402
    DEFAULT_PG,
    db_url,
    django_setup,
    machine,
    percentile,
    save_results,
    server_env,
)

PAGE_SIZE = 50


def _median_ms(fn, times: int) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(principal, endpoint: str, requests: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from bench.list_latency import visible_queryset
    from ltc.api.pagination import DEFAULT_ORDERING

    http = APIClient()
    if principal.token:
        http.credentials(HTTP_AUTHORIZATION=f"Token {principal.token}")
    else:
        http.force_login(principal.user)
    path = f"/api/v1/{endpoint}/?page_size={PAGE_SIZE}"
    for _ in range(10):
        assert http.get(path).status_code == 200
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        http.get(path)
        samples.append((time.perf_counter() - started) * 1000)

    visible = visible_queryset(endpoint, principal)  # once: it authenticates the principal

    def compile_page() -> None:
        page = visible.select_related(None).order_by(*DEFAULT_ORDERING).values("pk")[: PAGE_SIZE + 1]
        page.query.get_compiler(connection=connection).as_sql()

    compile_page()
    compile_ms = _median_ms(compile_page, 200)

    with CaptureQueriesContext(connection) as queries:
        http.get(path)
    page_sql = [q["sql"] for q in queries.captured_queries if f"LIMIT {PAGE_SIZE + 1}" in q["sql"]][0]
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + page_sql)
            plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else plan
    top = plan["Plan"]
    return {
        "principal": principal.label,
        "endpoint": endpoint,
        "request_p50": statistics.median(samples),
        "request_p90": percentile(samples, 90),
        "compile_ms": compile_ms,
        "plan_ms": plan["Planning Time"],
        "execute_ms": plan["Execution Time"],
        "buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
        "queries": len(queries.captured_queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server URL (no database)")
    parser.add_argument("--db", default="ltc_bench_1m", help="a seeded database (see bench/list_latency.py)")
    parser.add_argument("--endpoints", default="opportunities,customers,invoices")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--save-as", default="list_cost", help="name of the JSON file in var/bench/")
    args = parser.parse_args()
    url = db_url(args.pg, args.db)
    # The server's settings (DEBUG off, no TLS redirect, no throttle limit), for Django's test client.
    os.environ.update({**server_env(url), "DJANGO_ALLOWED_HOSTS": "testserver"})
    django_setup(url)

    from bench.list_latency import make_principals

    principals, _region = make_principals()
    rows = []
    print(f"{'principal':>40} {'list':>14} | request p50/p90 | compile | plan | execute | buffers | queries")
    for principal in principals:
        for endpoint in args.endpoints.split(","):
            row = measure(principal, endpoint, args.requests)
            rows.append(row)
            print(
                f"{principal.label:>40} {endpoint:>14} | {row['request_p50']:6.2f} / {row['request_p90']:6.2f} | "
                f"{row['compile_ms']:5.2f} | {row['plan_ms']:4.2f} | {row['execute_ms']:5.2f} | "
                f"{row['buffers']:7,} | {row['queries']}",
                flush=True,
            )
    print(
        "saved", save_results(args.save_as, {"machine": machine(args.pg), "database": args.db, "lists": rows})
    )


if __name__ == "__main__":
    main()
