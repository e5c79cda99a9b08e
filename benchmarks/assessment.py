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
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from benchmarks._report import SUMMARY_HEADER, machine, summary_row, table
from benchmarks._services import DatabaseKind, fresh_database, versions
from demo.seed import seed_city
from hub.api.routes.reports import assessment_body
from hub.api.schemas.reports import AssessmentOut
from hub.core.db import make_engine, upgrade
from hub.ingest.models import Checkin
from hub.org.assessment import build_assessment
from hub.org.calendar import year_bounds
from hub.org.export import to_csv, to_xlsx
from hub.org.models import Attendance

TARGET_MS = 300.0
YEAR = 2025
CARD_KEY = b"benchmark-card-key-0123456789"


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
    body = assessment_body(build_assessment(session, YEAR))
    return AssessmentOut.model_validate(body).model_dump_json().encode()


def measure(kind: DatabaseKind, runs: int, workdir: Path) -> list[tuple[str, list[float]]]:
    with fresh_database(kind, workdir) as url:
        print(f"  {kind}: {versions(url)}", flush=True)
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
    kinds: list[DatabaseKind] = (
        ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    )
    print(f"assessment benchmark: {machine()}, SQLAlchemy {sa.__version__}", flush=True)
    over = False
    with tempfile.TemporaryDirectory(prefix="yp-bench-") as tmp:
        for kind in kinds:
            workdir = Path(tmp) / kind
            workdir.mkdir()
            results = measure(kind, args.runs, workdir)
            baseline = statistics.median(results[0][1])
            rows = [
                [*summary_row(label, times), f"{statistics.median(times) / baseline:.1f}"]
                for label, times in results
            ]
            print(f"\n{kind}\n" + table([*SUMMARY_HEADER, "x count(*)"], rows))
            build = statistics.median(results[2][1])
            verdict = "within" if build < TARGET_MS else "OVER"
            over |= build >= TARGET_MS
            print(
                f"{kind}: build {build:.1f} ms (median), {verdict} the {TARGET_MS:.0f} ms target\n"
            )
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
