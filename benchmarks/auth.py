"""What authentication adds to an API request, on SQLite and on PostgreSQL.

A migrated database with ``--users`` users (tokens of every role) is served by the hub's API
under uvicorn (no ingest), on localhost, through one keep-alive HTTP client. Each of these is
timed ``--requests`` times after a warm-up:

* baseline: ``GET /healthz`` with no credentials (routing, one ``SELECT 1``, no lookup);
* ``GET /healthz`` with an operator's bearer token: the same route plus finding the token's user
  (one indexed query on its SHA-256 digest) and the operator's detail (the ingest state is
  "not running" here, so the detail costs nothing more);
* ``GET /api/v1/me`` with the token, and with the session cookie (the browser's way);
* in-process, no HTTP: ``principal_for_token`` alone, each call in its own ORM session.

The difference between the first two rows is what the check costs each request. Usage:
``python -m benchmarks.auth [--requests 2000] [--users 1000] [--database sqlite|postgresql|both]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
import uvicorn
from sqlalchemy.orm import Session

from benchmarks._programs import BenchmarkError, wait_for
from benchmarks._report import SUMMARY_HEADER, machine, summary_row, table
from benchmarks._services import DatabaseKind, fresh_database, versions
from hub.api import create_app
from hub.api.auth import SESSION_COOKIE
from hub.auth import Role
from hub.auth.users import add_user, open_session, principal_for_token
from hub.core.db import make_engine, upgrade
from hub.core.settings import HubSettings


def make_users(engine: sa.Engine, count: int) -> str:
    """``count`` users of the unscoped roles; returns the first operator's token."""
    roles = [Role.OPERATOR, Role.RECORDS_STAFF, Role.VIEWER]
    with Session(engine) as db:
        tokens = [add_user(db, f"user-{n:05d}", roles[n % len(roles)]).token for n in range(count)]
    return tokens[0]


@contextmanager
def served(database_url: str) -> Iterator[str]:
    app = create_app(HubSettings(database_url=database_url, mode="demo"))
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 10, "the API")
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def timed(requests: int, call: Callable[[], object]) -> list[float]:
    """Milliseconds per call, after a tenth as many warm-up calls."""
    for _ in range(max(10, requests // 10)):
        call()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure(
    kind: DatabaseKind, requests: int, users: int, workdir: Path
) -> list[tuple[str, list[float]]]:
    with fresh_database(kind, workdir) as url:
        print(f"  {kind}: {versions(url)}", flush=True)
        upgrade(url)
        engine = make_engine(url)
        try:
            token = make_users(engine, users)
            with Session(engine) as db:
                principal = principal_for_token(db, token)
                if principal is None:
                    raise BenchmarkError("the operator's token does not work")
                cookie = open_session(db, principal, timedelta(hours=1))

            def lookup() -> None:
                with Session(engine) as db:
                    principal_for_token(db, token)

            with served(url) as base, httpx.Client(base_url=base, timeout=10) as http:

                def get(path: str, headers: dict[str, str] | None = None) -> Callable[[], None]:
                    def call() -> None:
                        response = http.get(path, headers=headers)
                        if response.status_code != 200:
                            raise BenchmarkError(f"{path}: HTTP {response.status_code}")

                    return call

                bearer = {"Authorization": f"Bearer {token}"}
                session = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
                return [
                    ("baseline: /healthz, no credentials", timed(requests, get("/healthz"))),
                    ("/healthz with a token", timed(requests, get("/healthz", bearer))),
                    ("/api/v1/me with a token", timed(requests, get("/api/v1/me", bearer))),
                    (
                        "/api/v1/me with the session cookie",
                        timed(requests, get("/api/v1/me", session)),
                    ),
                    ("principal_for_token alone (no HTTP)", timed(requests, lookup)),
                ]
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.auth", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args(argv)
    kinds: list[DatabaseKind] = (
        ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    )
    print(f"auth benchmark: {machine()}, {args.users} users", flush=True)
    with tempfile.TemporaryDirectory(prefix="yp-bench-auth-") as tmp:
        for kind in kinds:
            workdir = Path(tmp) / kind
            workdir.mkdir()
            try:
                results = measure(kind, args.requests, args.users, workdir)
            except BenchmarkError as exc:
                print(f"auth: {exc}", file=sys.stderr)
                return 1
            rows = [summary_row(label, times) for label, times in results]
            print(f"\n{kind}, {args.requests} requests each\n" + table(SUMMARY_HEADER, rows))
            added = statistics.median(results[1][1]) - statistics.median(results[0][1])
            print(f"{kind}: a token check adds {added:.2f} ms (median) to a request\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
