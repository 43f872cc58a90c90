"""P1: ERP bulk upsert through the API, end to end, against raw COPY of the same rows in the same run.

    .venv/bin/python bench/bulk_upsert.py                       # sizes 1000,5000,10000, 3 runs each
    .venv/bin/python bench/bulk_upsert.py --sizes 1000 --runs 1  # a quick look

What it does, on a database of its own (`--db`, default ltc_bench, dropped and re-created and migrated):
1. An org tree (HQ → region → rep office → 4 account departments), 20 account managers and an API client
   with the "admin" scope (ltc.api.services.api_client_create).
2. gunicorn (1 worker, DEBUG off) on 127.0.0.1:`--port`.
3. For each size and run, fresh external ids:
   - create: POST /api/v1/customers/bulk/ with N rows; client wall-clock from sending the request to the
     last byte of the answer (HTTP, JSON parse, validation, lookups, the write, commit) → rows/s;
   - COPY: the same N rows as stored (read back with COPY … TO STDOUT, outside the timing) are COPYed into
     a scratch table created `LIKE relationships_customer INCLUDING ALL` plus the same foreign keys (same
     indexes, unique and check constraints, FKs), then committed → rows/s; ratio = API / COPY;
   - unchanged: the same request again; it must answer unchanged = N and leave every row's (ctid, xmin),
     updated_at and the row count as they were (PostgreSQL rewrites a row's ctid/xmin on any UPDATE);
   - update: every row with a new English name and amount → updated = N, rows/s.
4. Queries per request, in-process through the Django test client and CaptureQueriesContext on the same
   database: 1,000 new rows, 10,000 new rows, 10,000 unchanged rows (the counts must be equal).
Figures: median of the runs. Results are printed and saved to var/bench/bulk_upsert.json.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    DEFAULT_PG,
    ROOT,
    Server,
    db_url,
    django_setup,
    machine,
    median,
    recreate_database,
    request,
    save_results,
)

CUSTOMER_TABLE = "relationships_customer"
SCRATCH_TABLE = "bench_copy_customer"
INDUSTRIES = ("TELECOM", "GOVERNMENT", "FINANCE", "ENERGY", "TRANSPORT", "MANUFACTURING", "OTHER")
MARKETS = ("BREAKTHROUGH", "NEW", "MATURE")


def build_company() -> tuple[list[str], list[str], str]:
    """The org tree, the account managers and an admin API client: (dept codes, usernames, token)."""
    from accounts.models import OrgUnit, User
    from accounts.services import org_unit_create
    from ltc.api.services import api_client_create

    hq = org_unit_create(code="B-HQ", name="基准总部", kind=OrgUnit.Kind.HQ)
    region = org_unit_create(code="B-R1", name="基准地区部", kind=OrgUnit.Kind.REGION, parent=hq)
    office = org_unit_create(code="B-O1", name="基准代表处", kind=OrgUnit.Kind.REP_OFFICE, parent=region)
    depts = [
        org_unit_create(code=f"B-D{i}", name=f"基准系统部{i}", kind=OrgUnit.Kind.ACCOUNT_DEPT, parent=office)
        for i in range(4)
    ]
    users = [
        User.objects.create(
            username=f"bench.am{i:02d}",
            full_name=f"基准客户经理{i}",
            org_unit=depts[i % len(depts)],
            job_role=User.JobRole.SALES_REP,
        )
        for i in range(20)
    ]
    _client, token = api_client_create(name="Bench ERP", scopes=["admin"])
    return [d.code for d in depts], [u.username for u in users], token


def customer_rows(tag: str, n: int, depts: list[str], owners: list[str], *, version: int = 0) -> list[dict]:
    """N realistic ERP customer rows; `version` > 0 changes every row's English name and amount."""
    rows = []
    for i in range(n):
        amount = (i * 7919 + version * 104_729) % 20_000_000
        rows.append(
            {
                "external_id": f"{tag}-{i:06d}",
                "name": f"基准客户{tag}-{i}有限公司",
                "name_en": f"Bench Customer {tag}-{i} Co., Ltd." + (f" v{version}" if version else ""),
                "tax_id": f"91BENCH{tag}{i:07d}",
                "industry": INDUSTRIES[i % len(INDUSTRIES)],
                "annual_purchase": f"{amount}.00",
                "currency": "CNY",
                "repeat_purchase": i % 3 == 0,
                "named_top_account": i % 50 == 0,
                "market_type": MARKETS[i % len(MARKETS)],
                "status": "ACTIVE",
                "account_dept": depts[i % len(depts)],
                "owner": owners[i % len(owners)],
            }
        )
    return rows


def create_scratch_table(cur) -> list[str]:
    """A table of the customer table's shape: columns, defaults, indexes, checks, uniques and foreign keys.

    Returns the columns a row carries (all but the identity `id`), in table order.
    """
    cur.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")
    cur.execute(f"CREATE TABLE {SCRATCH_TABLE} (LIKE {CUSTOMER_TABLE} INCLUDING ALL)")
    cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [CUSTOMER_TABLE],
    )
    for name, definition in cur.fetchall():
        cur.execute(f'ALTER TABLE {SCRATCH_TABLE} ADD CONSTRAINT "{f"bench_{name}"[:63]}" {definition}')
    cur.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND NOT attisdropped AND attname <> 'id' ORDER BY attnum",
        [CUSTOMER_TABLE],
    )
    return [row[0] for row in cur.fetchall()]


def stored_rows(conn, columns: list[str], tag: str) -> io.StringIO:
    """The rows the API stored for `tag`, in PostgreSQL's COPY text format (read outside any timing)."""
    buffer = io.StringIO()
    with conn.cursor() as cur:
        query = cur.mogrify(
            f"COPY (SELECT {', '.join(columns)} FROM {CUSTOMER_TABLE} WHERE external_id LIKE %s "
            "ORDER BY id) TO STDOUT",
            [f"{tag}-%"],
        ).decode()
        cur.copy_expert(query, buffer)
    conn.commit()
    buffer.seek(0)
    return buffer


def copy_seconds(conn, columns: list[str], buffer: io.StringIO) -> float:
    """COPY the buffer into the scratch table and commit: the reference path."""
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.copy_expert(f"COPY {SCRATCH_TABLE} ({', '.join(columns)}) FROM STDIN", buffer)
    conn.commit()
    return time.perf_counter() - started


def row_versions(conn, tag: str) -> tuple[int, list[tuple]]:
    """(row count, sorted (external_id, ctid, xmin, updated_at)) of the rows of `tag`."""
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT external_id, ctid::text, xmin::text, updated_at FROM {CUSTOMER_TABLE} "
            "WHERE external_id LIKE %s ORDER BY external_id",
            [f"{tag}-%"],
        )
        rows = cur.fetchall()
        cur.execute(f"SELECT count(*) FROM {CUSTOMER_TABLE}")
        total = cur.fetchone()[0]
    conn.commit()
    return total, rows


def post_rows(port: int, token: str, rows: list[dict]) -> tuple[dict, float]:
    """POST the rows on a new loopback connection (the JSON is encoded before the clock starts)."""
    body = json.dumps({"rows": rows}, ensure_ascii=False).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        status, _headers, data, seconds = request(
            conn, "POST", "/api/v1/customers/bulk/", token=token, body=body
        )
    finally:
        conn.close()
    if status != 200:
        raise RuntimeError(f"bulk upsert answered {status}: {data[:500]!r}")
    return json.loads(data), seconds


def count_queries(depts: list[str], owners: list[str], token: str) -> dict[str, int]:
    """Queries per request through the Django test client, on the same database: must not grow with N."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    counts: dict[str, int] = {}
    # The first request of a minute also stamps the client's last_used_at: not a per-row query, left out.
    http.post("/api/v1/customers/bulk/", {"rows": customer_rows("QWARM", 10, depts, owners)}, format="json")
    for label, tag, n in (("create 1,000", "Q1K", 1000), ("create 10,000", "Q10K", 10_000)):
        with CaptureQueriesContext(connection) as queries:
            response = http.post(
                "/api/v1/customers/bulk/", {"rows": customer_rows(tag, n, depts, owners)}, format="json"
            )
        assert response.status_code == 200 and response.json()["created"] == n, response.content[:300]
        counts[label] = len(queries)
    with CaptureQueriesContext(connection) as queries:
        response = http.post(
            "/api/v1/customers/bulk/", {"rows": customer_rows("Q10K", 10_000, depts, owners)}, format="json"
        )
    assert response.json()["unchanged"] == 10_000, response.content[:300]
    counts["unchanged 10,000"] = len(queries)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server URL (no database)")
    parser.add_argument("--db", default="ltc_bench", help="database to drop, create and use")
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    url = db_url(args.pg, args.db)

    recreate_database(args.pg, args.db)
    django_setup(url)
    depts, owners, token = build_company()

    import psycopg2

    pg = psycopg2.connect(url)
    with pg.cursor() as cur:
        columns = create_scratch_table(cur)
    pg.commit()

    results: dict = {"machine": machine(args.pg), "database": args.db, "runs": args.runs, "sizes": {}}
    with Server(url, port=args.port, workers=1, log=ROOT / "var" / "bench" / "bulk_gunicorn.log"):
        post_rows(
            args.port, token, customer_rows("WARM", 100, depts, owners)
        )  # load code, stamp last_used_at
        for n in sizes:
            runs = []
            for run in range(1, args.runs + 1):
                tag = f"S{n}R{run}"
                rows = customer_rows(tag, n, depts, owners)
                created, api_s = post_rows(args.port, token, rows)
                assert created == {"created": n, "updated": 0, "unchanged": 0}, created
                copy_s = copy_seconds(pg, columns, stored_rows(pg, columns, tag))

                before = row_versions(pg, tag)
                unchanged, unchanged_s = post_rows(args.port, token, rows)
                after = row_versions(pg, tag)
                assert unchanged == {"created": 0, "updated": 0, "unchanged": n}, unchanged
                assert before == after, "re-sending unchanged rows rewrote rows"

                changed, update_s = post_rows(
                    args.port, token, customer_rows(tag, n, depts, owners, version=1)
                )
                assert changed == {"created": 0, "updated": n, "unchanged": 0}, changed
                runs.append(
                    {
                        "api_create_rows_s": n / api_s,
                        "copy_rows_s": n / copy_s,
                        "ratio": copy_s / api_s,
                        "unchanged_rows_s": n / unchanged_s,
                        "update_rows_s": n / update_s,
                        "unchanged_wrote_nothing": before == after,
                    }
                )
                print(
                    f"{n:>6} rows run {run}: API create {n / api_s:>8,.0f} rows/s | COPY {n / copy_s:>8,.0f} "
                    f"rows/s | ratio {copy_s / api_s:6.1%} | unchanged {n / unchanged_s:>8,.0f} rows/s "
                    f"(wrote nothing) | update {n / update_s:>8,.0f} rows/s",
                    flush=True,
                )
            results["sizes"][n] = {
                "runs": runs,
                "median": {
                    key: median([r[key] for r in runs])
                    for key in (
                        "api_create_rows_s",
                        "copy_rows_s",
                        "ratio",
                        "unchanged_rows_s",
                        "update_rows_s",
                    )
                },
            }

    results["queries_per_request"] = count_queries(depts, owners, token)
    pg.close()
    print("\nMedians of", args.runs, "runs (client wall-clock on loopback, gunicorn 1 worker, DEBUG off)")
    print(
        f"{'rows/request':>12} {'API create':>12} {'COPY':>12} {'ratio':>7} {'unchanged':>12} {'update':>12}"
    )
    for n, figures in results["sizes"].items():
        m = figures["median"]
        print(
            f"{n:>12,} {m['api_create_rows_s']:>12,.0f} {m['copy_rows_s']:>12,.0f} {m['ratio']:>7.1%} "
            f"{m['unchanged_rows_s']:>12,.0f} {m['update_rows_s']:>12,.0f}"
        )
    print("queries per request:", results["queries_per_request"])
    print("saved", save_results("bulk_upsert", results))


if __name__ == "__main__":
    main()
