"""Time to build the annual assessment for the seeded city, on SQLite and on PostgreSQL.

For each database: a fresh database is migrated and seeded (``community seed --seed 1``: 4,800
members, a year of check-ins), then, after two warm-up runs, each of these is timed ``--runs``
times, every run in a new session:

* baselines: a bare ``SELECT count(*)`` over the year's check-ins, and fetching the year's
  attendance rows into Python unaggregated (what merely reading the rows the report is made of
  costs on this machine and database);
* build: ``build_assessment`` (its grouped queries and the Python that assembles them);
* JSON: build plus validation and serialisation to JSON, as ``GET /api/v1/reports/assessment``
  does;
* CSV (members table) and XLSX (all three sheets): build plus export.

The target (docs/benchmarks.md) is under 300 ms to build. Usage:
``python -m benchmarks.assessment [--runs 20] [--database sqlite|postgresql|both]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.api.records.schemas import AssessmentOut
from hub.core.db import make_engine, upgrade
from hub.models import Checkin
from hub.org.assessment import build_assessment
from hub.org.calendar import year_bounds
from hub.org.export import to_csv, to_xlsx
from hub.org.models import Attendance
from hub.org.seed import seed_city

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TARGET_MS = 300.0
YEAR = 2025
CARD_KEY = b"benchmark-card-key-0123456789"


@contextmanager
def fresh_database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'assessment.db'}"
        return
    name = f"yp_bench_assessment_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield (
            sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def timed(engine: sa.Engine, runs: int, work: Callable[[Session], object]) -> list[float]:
    """Milliseconds per run, after two warm-up runs, each in its own session."""
    times = []
    for n in range(runs + 2):
        with Session(engine) as session:
            started = time.perf_counter()
            work(session)
            elapsed = (time.perf_counter() - started) * 1000
        if n >= 2:
            times.append(elapsed)
    return times


def bare_count(session: Session) -> int:
    start, end = year_bounds(YEAR)
    query = sa.select(sa.func.count()).where(
        Checkin.device_time >= start, Checkin.device_time < end
    )
    return int(session.scalar(query) or 0)


def fetch_attendance(session: Session) -> int:
    """Every attendance row of the year into Python, no grouping: the rows the report reads."""
    query = sa.select(Attendance.member_id, Attendance.activity_id, Attendance.month).where(
        Attendance.local_date.between(date(YEAR, 1, 1), date(YEAR, 12, 31))
    )
    return len(session.execute(query).all())


def as_json(session: Session) -> bytes:
    report = build_assessment(session, YEAR)
    rules = {"unit_min_reporting_pct": 80, "member_min_services": 2, "timezone": "Asia/Shanghai"}
    return (
        AssessmentOut.model_validate({**asdict(report), "rules": rules}).model_dump_json().encode()
    )


def measure(kind: str, runs: int, workdir: Path) -> list[tuple[str, list[float]]]:
    with fresh_database(kind, workdir) as url:
        upgrade(url)
        engine = make_engine(url)
        try:
            seeded = seed_city(engine, seed=1, key=CARD_KEY, year=YEAR)
            print(
                f"  {kind}: seeded {seeded.counts['members']} members, "
                f"{seeded.counts['checkins']} check-ins, {seeded.counts['activities']} activities "
                f"in {seeded.seconds:.1f} s",
                flush=True,
            )
            with Session(engine) as session:
                print(f"  {kind}: {bare_count(session)} check-ins in {YEAR}", flush=True)
            return [
                ("baseline: count(*) of the year's check-ins", timed(engine, runs, bare_count)),
                (
                    "baseline: fetch the year's attendance rows",
                    timed(engine, runs, fetch_attendance),
                ),
                ("build the assessment", timed(engine, runs, lambda s: build_assessment(s, YEAR))),
                ("build + JSON (the API's work)", timed(engine, runs, as_json)),
                (
                    "build + CSV (members)",
                    timed(engine, runs, lambda s: to_csv(build_assessment(s, YEAR), "members")),
                ),
                (
                    "build + XLSX (3 sheets)",
                    timed(engine, max(3, runs // 4), lambda s: to_xlsx(build_assessment(s, YEAR))),
                ),
            ]
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.assessment", description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    print(
        f"assessment benchmark: {os.cpu_count()} cores, {platform.processor() or platform.machine()}"
        f", load {os.getloadavg()[0]:.2f}, Python {platform.python_version()}, "
        f"SQLAlchemy {sa.__version__}",
        flush=True,
    )
    over = False
    with tempfile.TemporaryDirectory(prefix="yp-bench-") as tmp:
        for kind in kinds:
            results = measure(kind, args.runs, Path(tmp))
            baseline = statistics.median(results[0][1])
            print(f"\n  {kind}          median ms   p90 ms   max ms   × baseline")
            for label, times in results:
                median = statistics.median(times)
                p90 = sorted(times)[max(0, int(0.9 * len(times)) - 1)]
                print(
                    f"  {label:<44} {median:8.1f} {p90:8.1f} {max(times):8.1f} "
                    f"{median / baseline:10.1f}"
                )
            build = statistics.median(results[2][1])
            verdict = "within" if build < TARGET_MS else "OVER"
            over |= build >= TARGET_MS
            print(f"  {kind}: build {build:.1f} ms, {verdict} the {TARGET_MS:.0f} ms target\n")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
