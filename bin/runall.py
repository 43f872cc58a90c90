#!/usr/bin/env python3
"""Run the web server and the Celery worker (with the one beat) together, for `make run`.

Each child runs in its own process group; its output is prefixed with its name. On Ctrl-C, SIGTERM or
SIGHUP, or as soon as any child exits, every child's whole process group is sent SIGTERM, then SIGKILL
after a grace period, so no gunicorn worker or beat process is left behind. Children also get SIGTERM
from the kernel if this supervisor itself is killed (PR_SET_PDEATHSIG).

Plain Python on purpose: no Django import, so the supervisor stays small.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRACE_SECONDS = 15.0
_write_lock = threading.Lock()


def say(prefix: str, text: str) -> None:
    with _write_lock:
        sys.stdout.write(f"{prefix}{text}\n")
        sys.stdout.flush()


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:  # not glibc: the supervisor's own clean-up still applies
        return


class Child:
    def __init__(self, name: str, argv: list[str], width: int) -> None:
        self.name = name
        self.argv = argv
        self.prefix = f"{name:<{width}} | "
        self.proc: subprocess.Popen | None = None
        self.reader: threading.Thread | None = None

    def start(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        say(self.prefix, f"started pid {self.proc.pid}: {' '.join(self.argv)}")

    def pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        self.reader = threading.Thread(target=self._pump, name=f"pump-{self.name}", daemon=True)
        self.reader.start()

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            say(self.prefix, raw.decode("utf-8", "replace").rstrip("\n"))

    def group_alive(self) -> bool:
        if self.proc is None:
            return False
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)


def stop_all(children: list[Child]) -> None:
    for child in children:
        child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline:
        for child in children:
            if child.proc is not None:
                child.proc.poll()  # reap the leader so its group can empty
        if not any(child.group_alive() for child in children):
            break
        time.sleep(0.1)
    for child in children:
        if child.group_alive():
            say(child.prefix, f"still running after {GRACE_SECONDS:.0f}s: SIGKILL")
            child.signal_group(signal.SIGKILL)
    for child in children:
        if child.proc is not None:
            child.proc.wait()
        if child.reader is not None:
            child.reader.join(timeout=2)


def wait_until_ready(url: str, children: list[Child], timeout: float, stopping: threading.Event) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stopping.is_set():
        if any(child.proc is not None and child.proc.poll() is not None for child in children):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--banner-file", type=Path, help="text to print once the web server answers")
    args = parser.parse_args(argv)

    python = sys.executable
    web_extra: list[str] = []
    try:
        import gunicorn

        if tuple(gunicorn.version_info) >= (27,):
            # Else every gunicorn on the machine shares one ~/.gunicorn/gunicorn.ctl.
            web_extra.append("--no-control-socket")
    except ImportError:
        pass  # gunicorn itself will then fail to start and say why
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "ltc.settings"}
    specs = [
        (
            "web",
            [
                python, "-m", "gunicorn", "ltc.wsgi:application",
                "--bind", f"{args.host}:{args.port}",
                "--workers", str(args.web_workers), "--threads", "4",
                "--graceful-timeout", "10", "--timeout", "120",
                "--access-logfile", "-", *web_extra,
            ],
        ),
        (
            "worker",
            # -B embeds the one beat (the periodic scheduler); -P solo is the lightest pool.
            [python, "-m", "celery", "-A", "ltc", "worker", "-B", "-P", "solo", "-l", "info", "-n", "ltc@%h"],
        ),
    ]  # fmt: skip
    width = max(len(name) for name, _ in specs)
    children = [Child(name, cmd, width) for name, cmd in specs]
    supervisor = f"{'runall':<{width}} | "

    stopping = threading.Event()
    received: list[int] = []

    def on_signal(signum, _frame):
        received.append(signum)
        stopping.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    exit_code = 0
    try:
        for child in children:  # start every child before any thread exists (preexec_fn + threads)
            child.start(env)
        for child in children:
            child.pump()

        url = f"http://{args.host}:{args.port}/healthz"
        if wait_until_ready(url, children, 90, stopping):
            lines = [f"LTC CRM is running: http://{args.host}:{args.port}/  (Ctrl-C stops everything)"]
            if args.banner_file and args.banner_file.exists():
                lines += ["", *args.banner_file.read_text(encoding="utf-8").strip("\n").splitlines()]
            rule = "=" * 78
            say(supervisor, rule)
            for line in lines:
                say(supervisor, line)
            say(supervisor, rule)

        while not stopping.is_set():
            for child in children:
                assert child.proc is not None
                code = child.proc.poll()
                if code is not None:
                    say(supervisor, f"{child.name} exited with code {code}: stopping everything")
                    exit_code = code or 1
                    stopping.set()
                    break
            stopping.wait(0.2)
    finally:
        if received:
            say(supervisor, f"got {signal.Signals(received[0]).name}: stopping everything")
        stop_all(children)
        say(supervisor, "all stopped")
    return exit_code  # 0 when stopped on request (Ctrl-C, SIGTERM), else the failed child's code


if __name__ == "__main__":
    sys.exit(main())
