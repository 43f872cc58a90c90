"""Shared pieces of the benchmarks: a scratch PostgreSQL database, Django set-up, a gunicorn server, stats.

Every benchmark runs on loopback against PostgreSQL (`--pg`, default postgres://postgres@127.0.0.1:5432) and
starts its own gunicorn with DEBUG off, so the figures are for the production code path, not runserver.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432"
BENCH_SECRET_KEY = "bench-only-secret-key-not-used-anywhere-else-0123456789abcdef"


def db_url(pg: str, name: str) -> str:
    return f"{pg.rstrip('/')}/{name}"


def admin_connection(pg: str):
    conn = psycopg2.connect(db_url(pg, "postgres"))
    conn.autocommit = True
    return conn


def database_exists(pg: str, name: str) -> bool:
    with admin_connection(pg) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cur.fetchone() is not None


def recreate_database(pg: str, name: str) -> None:
    """Drop and create `name`, then migrate it (the benchmark's own database, never a shared one)."""
    conn = admin_connection(pg)
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    env = {**os.environ, "DATABASE_URL": db_url(pg, name)}
    subprocess.run([PYTHON, "manage.py", "migrate", "--skip-checks", "-v0"], cwd=ROOT, env=env, check=True)


def django_setup(url: str) -> None:
    """Point this process's Django at `url` (before anything imports models)."""
    os.environ["DATABASE_URL"] = url
    # The server's key: sessions made here (bench/list_latency.py) must verify there.
    os.environ["DJANGO_SECRET_KEY"] = BENCH_SECRET_KEY
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ltc.settings")
    os.environ.setdefault("LTC_VAR_DIR", "/tmp/ltc-bench-var")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def server_env(url: str) -> dict[str, str]:
    """Production-like settings for the server under test: DEBUG off, no TLS redirect, no throttle limit.

    The per-client throttle (6000/min by default) is lifted: the benchmark measures the request path, and
    a throttled request would be a 429, not a slower 200.
    """
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": BENCH_SECRET_KEY,
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LTC_API_THROTTLE": "100000000/min",
        "LTC_LOG_LEVEL": "WARNING",
        "LTC_VAR_DIR": os.environ.get("LTC_VAR_DIR", "/tmp/ltc-bench-var"),
    }


class Server:
    """gunicorn serving ltc.wsgi on 127.0.0.1:<port>; a context manager that stops it (by its own pid)."""

    def __init__(
        self, url: str, *, port: int, workers: int, log: Path, env: dict[str, str] | None = None
    ) -> None:
        self.url, self.port, self.workers, self.log = url, port, workers, log
        self.env = env or {}
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        # A SIGTERM to the benchmark still stops its server (through __exit__).
        signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                GUNICORN,
                "ltc.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--worker-class",
                "gthread",
                "--threads",
                "1",
                "--timeout",
                "600",
                "--keep-alive",
                "75",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env={**server_env(self.url), **self.env},
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/v1/")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("gunicorn did not answer within 60 s")
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    *,
    token: str,
    body: bytes | None = None,
) -> tuple[int, dict[str, str], bytes, float]:
    """One request on a kept-alive connection: (status, headers, body, client-side seconds)."""
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - started
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data, elapsed


def server_ms(headers: dict[str, str]) -> float:
    """The `app;dur=` figure of the Server-Timing header (ltc.middleware.ServerTimingMiddleware)."""
    for part in headers.get("server-timing", "").split(","):
        name, _, rest = part.strip().partition(";")
        if name == "app" and rest.startswith("dur="):
            return float(rest[4:])
    raise ValueError("no Server-Timing app;dur= header")


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p50 = median of an odd sample)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def machine(pg: str = DEFAULT_PG) -> dict[str, str]:
    with admin_connection(pg) as conn, conn.cursor() as cur:
        cur.execute("SHOW server_version")
        pg_version = cur.fetchone()[0]
    return {
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "postgresql": pg_version,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def save_results(name: str, results: dict) -> Path:
    out = ROOT / "var" / "bench" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    return out
