"""Storage: bytes per stored check-in and per reading on PostgreSQL, and the database's growth per
day at the city's load, with and without retention (docs/retention.md, docs/benchmarks.md).

``python -m benchmarks.storage [--rows 100000]``.

Method: a fresh PostgreSQL database migrated to head (the raw tables partitioned); ``--rows``
check-ins (at a registered service centre, so each also makes its attendance row, as in the
city), counter readings and bay readings (16 bays a module) are written through ingest's own store
in batches of 500, all of one day; then ``VACUUM ANALYZE`` and, per table, the sum of
``pg_total_relation_size`` (heap, TOAST and every index) over its partitions, less the same sum
before the rows went in (empty partitions' index pages). The rollups are measured the same way with
synthetic rows. The daily growth multiplies these by the rates in ``RATES``.
"""

from __future__ import annotations

import argparse
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from benchmarks._report import machine, table
from benchmarks._services import fresh_database, versions
from hub.composition import build_store
from hub.core.db import make_engine, upgrade
from hub.ingest.events import EventRecord
from hub.org.models import Community, ServiceCentre, Subdistrict
from hub.venues.models import OccupancyRollup
from mqtt_contract import topics
from mqtt_contract.models import (
    BaysData,
    BaysEvent,
    CheckinData,
    CheckinEvent,
    CounterData,
    CounterEvent,
)
from mqtt_contract.topics import EventKind

BATCH = 500
BOOT = uuid.UUID("00000000-0000-4000-8000-00000000b0b0")

# --- the city's rates (see docs/benchmarks.md, "2026-12-03 storage", for where they come from) -
VENUES = 52
COUNTERS_PER_VENUE = 4
BAY_MODULES_PER_VENUE = 6
DAY_S = 86_400
KEEPALIVE_S = 60  # edge.config: an unchanged reading is published again this often
COUNTER_CHANGES_A_DAY = 3_000  # docs/venues.md: "a gate sees a few thousand a day"
BAY_CHANGES_A_DAY = 16 * 10  # 16 bays a module, ten arrivals or departures a bay a day
CHECKINS_A_DAY = 23_104 / 365  # the seeded city's year (benchmarks.assessment)
BENCH_READINGS_A_S = 520  # benchmarks.city_load: every sensor, every second
ROLLUPS_A_VENUE_A_DAY = 288 + 24  # 5-minute and hourly rows


@dataclass(frozen=True, slots=True)
class Load:
    name: str
    counter_a_day: float
    bays_a_day: float


def realistic() -> Load:
    """Readings on change, plus a keepalive in every quiet minute (at most one a minute)."""
    counters = VENUES * COUNTERS_PER_VENUE * (COUNTER_CHANGES_A_DAY + DAY_S / KEEPALIVE_S)
    bays = VENUES * BAY_MODULES_PER_VENUE * (BAY_CHANGES_A_DAY + DAY_S / KEEPALIVE_S)
    return Load("city, on change", counters, bays)


def benchmark_load() -> Load:
    """benchmarks.city_load: 520 sensors (208 counters, 312 bay modules), a reading a second."""
    counters = VENUES * COUNTERS_PER_VENUE * DAY_S
    bays = VENUES * BAY_MODULES_PER_VENUE * DAY_S
    assert (counters + bays) / DAY_S == BENCH_READINGS_A_S
    return Load("benchmark, 520/s", counters, bays)


def _record(event: CheckinEvent | CounterEvent | BaysEvent) -> EventRecord:
    return EventRecord(
        event=event,
        received_at=datetime.now(UTC),
        topic=topics.event(event.site, event.device, EventKind(event.kind)),
        payload=event.to_bytes(),
    )


def _events(kind: str, n: int, day: datetime) -> list[EventRecord]:
    step = DAY_S / n
    out: list[EventRecord] = []
    for i in range(n):
        ts = day + timedelta(seconds=i * step)
        common = {"id": uuid.uuid4(), "boot": BOOT, "seq": i + 1, "ts": ts}
        if kind == "checkin":
            data = CheckinData(card_hash=f"{i:064x}", decision="allowed", allowlist_version=7)
            out.append(
                _record(CheckinEvent(site="centre-01", device="reader-1", data=data, **common))
            )
        elif kind == "counter":
            counts = CounterData(unit_id=1, device_boots=2, count_in=10 * i, count_out=9 * i)
            out.append(
                _record(CounterEvent(site="venue-01", device="gate-1", data=counts, **common))
            )
        else:
            bays = "".join("1" if (i >> b) & 1 else "0" for b in range(16))
            data_b = BaysData(unit_id=2, bays=bays)
            out.append(_record(BaysEvent(site="venue-01", device="bays-1", data=data_b, **common)))
    return out


def _size(conn: sa.Connection, name: str) -> int:
    """Heap, TOAST and indexes of a table and of all its partitions."""
    sql = (
        "SELECT coalesce(sum(pg_total_relation_size(relid)), "
        "pg_total_relation_size(%(t)s::regclass)) FROM pg_partition_tree(%(t)s::regclass)"
    )
    return int(conn.exec_driver_sql(sql, {"t": name}).scalar() or 0)


def _vacuum(engine: sa.Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


def measure(url: str, rows: int) -> dict[str, float]:
    """Bytes per row of each table, as stored."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            sub = Subdistrict(code="SD01", name="轩岗街道")
            session.add(sub)
            session.flush()
            community = Community(code="C01", name="新原社区", subdistrict_id=sub.id)
            session.add(community)
            session.flush()
            session.add(
                ServiceCentre(id="centre-01", name="党群服务中心", community_id=community.id)
            )
            session.commit()
        tables = ["checkins", "attendance", "counter_readings", "bay_readings", "occupancy_rollups"]
        _vacuum(engine)
        with engine.connect() as conn:
            empty = {t: _size(conn, t) for t in tables}
        store = build_store(engine)
        day = datetime.now(UTC).replace(hour=4, minute=0, second=0, microsecond=0)
        for kind in ("checkin", "counter", "bays"):
            records = _events(kind, rows, day)
            for start in range(0, rows, BATCH):
                store.write(records[start : start + BATCH])
        with engine.begin() as conn:
            conn.execute(
                sa.insert(OccupancyRollup),
                [
                    {
                        "venue_id": f"venue-{i % 52:02d}",
                        "step": "5m",
                        "bucket_start": day + timedelta(minutes=5 * i),
                        "readings": 290,
                        "visits": 12,
                        "peak": 80,
                        "mean": 61.5,
                        "last": 77,
                        "capacity": 120,
                        "computed_at": day,
                    }
                    for i in range(rows)
                ],
            )
        _vacuum(engine)
        with engine.connect() as conn:
            counted = {
                t: conn.exec_driver_sql(f'SELECT count(*) FROM "{t}"').scalar() for t in tables
            }
            return {t: (_size(conn, t) - empty[t]) / int(counted[t] or 1) for t in tables}
    finally:
        engine.dispose()


def _mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB" if n < 2**30 else f"{n / 2**30:,.2f} GiB"


def report(per_row: dict[str, float], readings_days: int, checkins_days: int) -> str:
    lines = [
        table(
            ["table", "bytes per row (heap + indexes)"],
            [[t, f"{b:,.0f}"] for t, b in per_row.items()],
        ),
        "",
    ]
    rollups_a_day = VENUES * ROLLUPS_A_VENUE_A_DAY * per_row["occupancy_rollups"]
    checkins_a_day = CHECKINS_A_DAY * per_row["checkins"]
    attendance_a_day = CHECKINS_A_DAY * per_row["attendance"]
    rows = []
    for load in (realistic(), benchmark_load()):
        raw = load.counter_a_day * per_row["counter_readings"]
        raw += load.bays_a_day * per_row["bay_readings"]
        kept = rollups_a_day + attendance_a_day  # what retention never removes
        without = raw + checkins_a_day + kept
        steady = raw * (readings_days + 1) + checkins_a_day * checkins_days
        rows.append(
            [
                load.name,
                f"{(load.counter_a_day + load.bays_a_day) / DAY_S:,.1f}",
                f"{load.counter_a_day + load.bays_a_day:,.0f}",
                _mib(without),
                _mib(without * 365),
                _mib(kept),
                _mib(steady),
            ]
        )
    lines.append(
        table(
            [
                "load",
                "readings/s",
                "readings/day",
                "growth/day, no retention",
                "a year, no retention",
                "growth/day, retention",
                "raw held, retention",
            ],
            rows,
        )
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.storage", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="rows of each table")
    parser.add_argument("--readings-days", type=int, default=14, help="HUB_RETAIN_READINGS_DAYS")
    parser.add_argument(
        "--checkins-days",
        type=int,
        default=365 + 90,
        help="longest a raw check-in is held (a year and HUB_RETAIN_CHECKINS_AFTER_YEAR_DAYS)",
    )
    args = parser.parse_args(argv)
    if not 1_000 <= args.rows <= 10_000_000:
        parser.error("--rows: from 1,000 to 10,000,000")
    print(machine())
    with tempfile.TemporaryDirectory() as tmp, fresh_database("postgresql", Path(tmp)) as url:
        print(versions(url))
        per_row = measure(url, args.rows)
    print(f"{args.rows:,} rows of each table\n")
    print(report(per_row, args.readings_days, args.checkins_days))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
