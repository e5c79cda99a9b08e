"""The demo city's past: its venues' last eight weeks of gate counts and bay occupancy, seeded on
first run so that the first page a person opens shows a city that has been living for weeks.

The readings come from the simulators the live demo runs (``firmware_sim``'s ``VenueScenario``
driving a ``PeopleCounterSim`` and a ``BaySensorSim``, each venue's days planned by
``city_day_plan``: quiet and busy days, a few closures, the odd full house), read as an edge reads
them but coarser (every ``READ_EVERY`` while something changes, every ``KEEPALIVE`` otherwise).
They enter through the hub's own path: ``RecordStore.write`` (the ingest's store) and
``OccupancyService.after_commit`` (the ingest hook: gate days, bay sensors, dirty buckets). The
rollups of the buckets that hook marked are then recomputed from those readings with the hub's
own replay (``hub.venues.occupancy.bucket_stats``), in one pass per venue instead of a few queries
per bucket: ``tests/dashboards/test_demo_city.py`` checks the rows against the hub's recompute.
Capacity alerts are raised and cleared by ``alerts.decide`` on the 5-minute rollups (peak,
then the bucket's last occupancy, and closing time), as the hub decides them on its live state.

The scenarios are handed back, so the live simulators go on from where the history stopped: the
same counts, the same people inside.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from multiprocessing import get_context
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import Connection, Engine, delete, func, insert, select

from firmware_sim.people_counter import PeopleCounterSim
from firmware_sim.venue import BAYS_UNIT, COUNTER_UNIT, venue_bays, venue_counter
from firmware_sim.venue_scenario import CITY_TZ, VenueScenario, VenueSpec, city_day_plan
from hub.core.bulk import BulkInsert
from hub.core.db import make_engine
from hub.ingest.events import EventRecord
from hub.ingest.models import BayReading as BayRow
from hub.ingest.models import CounterReading
from hub.ingest.store import RecordStore
from hub.venues import alerts, registry
from hub.venues.hours import DAY, day_start, resets_between
from hub.venues.models import (
    CapacityAlertRecord,
    OccupancyDirty,
    OccupancyRollup,
    VenueOccupancy,
)
from hub.venues.occupancy import BayLedger, BayReading, BucketStats, GateLedger, GateReading
from hub.venues.occupancy import bucket_stats as replay_bucket
from hub.venues.registry import VenueInfo
from hub.venues.service import OccupancyService
from hub.venues.state import BUCKET, HOUR, bucket_of
from mqtt_contract import topics
from mqtt_contract.models import BaysData, BaysEvent, CounterData, CounterEvent
from mqtt_contract.topics import EventKind

log = logging.getLogger(__name__)

HISTORY_WEEKS = 8
READ_EVERY = timedelta(minutes=20)
"""A reading when something changed, at most this often: coarse, to keep the first start fast."""
KEEPALIVE = timedelta(hours=3)
"""A quiet venue still reports this often (the live edge: every 30 s)."""
WRITE_CHUNK = 8_000
"""Events per store transaction and per occupancy merge."""

GATE, BAYS = "gate-1", "bays-1"
"""The device ids the live demo's edges use (``VenueSim.edge_devices``)."""


@dataclass
class HistoryReport:
    start: datetime
    end: datetime
    readings: int = 0
    alerts: int = 0
    seconds: float = 0.0
    scenarios: dict[str, VenueScenario] = field(default_factory=dict)
    """Each venue's scenario at ``end``, for the live simulator to go on with."""


def history_start(now: datetime, weeks: int = HISTORY_WEEKS) -> datetime:
    """``weeks`` back, and at least to the first of the previous month (local), so the
    venue-sharing report of the previous month is whole; on a ``READ_EVERY`` boundary."""
    local = now.astimezone(CITY_TZ)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    previous = (first - timedelta(days=1)).replace(day=1)
    start = min(now - timedelta(weeks=weeks), previous.astimezone(UTC))
    return bucket_of(start.astimezone(UTC), READ_EVERY)


def has_readings(database_url: str, sites: Sequence[str]) -> bool:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            found = conn.scalar(
                select(func.count())
                .select_from(CounterReading)
                .where(CounterReading.site_id.in_(list(sites)))
            )
    finally:
        engine.dispose()
    return bool(found)


def seed_history(
    database_url: str,
    specs: Sequence[VenueSpec],
    *,
    now: datetime | None = None,
    start: datetime | None = None,
    near_wrap: Callable[[int], int | None] = lambda n: None,
    progress: Callable[[str], None] = print,
) -> HistoryReport:
    """Live the venues of ``specs`` (registered ones) from ``start`` (default
    :func:`history_start`) to ``now`` and record it all through the hub's derivation.
    ``near_wrap(n)``: how far short of 2**32 the n-th venue's counter starts, if at all."""
    began = time.monotonic()
    end = now or datetime.now(UTC)
    report = HistoryReport(start=start or history_start(end), end=end)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            venues = registry.load(conn)
        progress(
            f"first run: {len(specs)} venues' history since "
            f"{report.start.astimezone(CITY_TZ):%Y-%m-%d} ..."
        )
        gates: dict[str, list[GateReading]] = {}
        bays: dict[str, list[BayReading]] = {}
        jobs = [
            (spec, n, report.start, end, near_wrap(n))
            for n, spec in enumerate(specs)
            if spec.site in venues
        ]
        # The simulation is the costly part and each venue's is its own: both cores take it.
        with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
            for run in pool.map(live_venue, jobs):
                report.scenarios[run.spec.site] = run.resume(end)
                venue_events = _events(run, gates, bays)
                _record(engine, venue_events, end)  # while the workers go on
                report.readings += len(venue_events)
        report.alerts = _roll_up(engine, venues, gates, bays, end)
        service = OccupancyService(engine, CollectorRegistry(), publish=_nowhere, clock=lambda: end)
        service.refresh_live(everything=True)
    finally:
        engine.dispose()
    report.seconds = time.monotonic() - began
    progress(
        f"seeded the venues' history: {report.readings} readings, {report.alerts} capacity "
        f"alerts, in {report.seconds:.1f} s"
    )
    return report


def _nowhere(topic: str, payload: bytes) -> bool:
    return False  # the history's alerts are published by the hub, if still open


# --- the readings ---------------------------------------------------------------------------------


@dataclass
class VenueRun:
    """A venue's history as lived in a worker process: its readings, and where it ended."""

    spec: VenueSpec
    seed: int
    gates: list[tuple[int, datetime, int, int, int, int]] = field(default_factory=list)
    """(seq, time, count_in, count_out, device_boots, status)"""
    bays: list[tuple[int, datetime, str]] = field(default_factory=list)
    final: tuple[int, int, int, str | None, int] = (0, 0, 1, None, 0)
    """(count_in, count_out, device_boots, bays, people inside) at the end"""

    def resume(self, at: datetime) -> VenueScenario:
        """A scenario that goes on from the end of this history, for the live simulator."""
        count_in, count_out, boots, bits, inside = self.final
        counter = PeopleCounterSim(
            COUNTER_UNIT, count_in=count_in, count_out=count_out, boots=boots
        )
        sensor = venue_bays(self.spec)
        if sensor is not None and bits is not None:
            sensor.set_bays(bits)
        scenario = VenueScenario(
            self.spec, counter, sensor, seed=self.seed + 10_000, day_plan=city_day_plan
        )
        scenario.resume(inside, at)
        return scenario


def live_venue(job: tuple[VenueSpec, int, datetime, datetime, int | None]) -> VenueRun:
    """Run one venue's scenario from ``start`` to ``end`` and read its devices as an edge
    would, though coarser: when something changed, at most every ``READ_EVERY``, and every
    ``KEEPALIVE`` when nothing did. Both devices of a line are read in the same poll."""
    spec, n, start, end, near_wrap = job
    scenario = VenueScenario(
        spec, venue_counter(near_wrap), venue_bays(spec), seed=n, day_plan=city_day_plan
    )
    run = VenueRun(spec, n)
    counter, sensor = scenario.counter, scenario.bay_sensor
    last: tuple[int, int, int, str | None] | None = None
    seq, sent, at = 0, start - KEEPALIVE, start
    while at <= end:
        scenario.advance(at)
        c = counter.state()
        bits = sensor.bays() if sensor is not None else None
        now = (c.count_in, c.count_out, c.boots, bits)
        if now != last or at - sent >= KEEPALIVE:
            last, sent = now, at
            seq += 1
            run.gates.append((seq, at, c.count_in, c.count_out, c.boots, c.status))
            if bits is not None:
                seq += 1
                run.bays.append((seq, at, bits))
        at += READ_EVERY
    scenario.advance(end)
    c = counter.state()
    bits = sensor.bays() if sensor is not None else None
    run.final = (c.count_in, c.count_out, c.boots, bits, scenario.occupancy)
    return run


def _events(
    run: VenueRun, gates: dict[str, list[GateReading]], bays: dict[str, list[BayReading]]
) -> list[EventRecord]:
    """The run's readings as the contract's events (the edge's boot id is the history's own)."""
    site = run.spec.site
    boot = uuid.uuid5(uuid.NAMESPACE_URL, f"yuanping-demo-history/{site}")
    gate_topic = topics.event(site, GATE, EventKind.COUNTER)
    bays_topic = topics.event(site, BAYS, EventKind.BAYS)
    out: list[EventRecord] = []
    second = timedelta(seconds=1)
    for seq, at, count_in, count_out, boots, status in run.gates:
        counter = CounterEvent(
            id=uuid.uuid4(),
            site=site,
            device=GATE,
            boot=boot,
            seq=seq,
            ts=at,
            data=CounterData(
                unit_id=COUNTER_UNIT,
                device_boots=boots,
                count_in=count_in,
                count_out=count_out,
                status=status,
            ),
        )
        out.append(EventRecord(counter, at + second, gate_topic, counter.to_bytes()))
    gates[site] = [GateReading(GATE, b, boot, q, t, i, o) for q, t, i, o, b, _ in run.gates]
    for seq, at, bits in run.bays:
        event = BaysEvent(
            id=uuid.uuid4(),
            site=site,
            device=BAYS,
            boot=boot,
            seq=seq,
            ts=at,
            data=BaysData(unit_id=BAYS_UNIT, bays=bits),
        )
        out.append(EventRecord(event, at + second, bays_topic, event.to_bytes()))
    if run.bays:
        bays[site] = [BayReading(BAYS, boot, q, t, bits) for q, t, bits in run.bays]
    return out


def _record(engine: Engine, events: list[EventRecord], end: datetime) -> None:
    """Through the ingest's store and the occupancy hook, in time order, a chunk at a time (the
    hook's clock is the chunk's last reading, as if the hub had been running then)."""
    events.sort(key=lambda r: r.event.ts)
    store = RecordStore(engine)
    clock = [end]
    # live_s > 0: the hook only merges and marks; the live state is computed once, at the end
    metrics = CollectorRegistry()
    service = OccupancyService(
        engine, metrics, publish=_nowhere, live_s=3600.0, clock=lambda: clock[0]
    )
    for first in range(0, len(events), WRITE_CHUNK):
        chunk = events[first : first + WRITE_CHUNK]
        store.write(chunk, now=chunk[0].received_at)
        clock[0] = chunk[-1].received_at
        service.after_commit(chunk)
        if metrics.get_sample_value("hub_occupancy_failures_total"):
            raise RuntimeError("the occupancy derivation failed; see the log")


# --- the rollups and alerts ----------------------------------------------------------------------


def _roll_up(
    engine: Engine,
    venues: dict[str, VenueInfo],
    gates: dict[str, list[GateReading]],
    bays: dict[str, list[BayReading]],
    end: datetime,
) -> int:
    """Recompute every closed bucket the hook marked, as the hub's tick would, and drop the
    marks; the still-open bucket is left to the hub. Returns the alerts recorded."""
    closed = bucket_of(end) - BUCKET  # the last bucket that has closed starts here
    sites = sorted(set(gates) | set(bays))
    with engine.begin() as conn:
        marked: dict[str, set[datetime]] = {}
        for venue_id, bucket_start in conn.execute(
            select(OccupancyDirty.venue_id, OccupancyDirty.bucket_start).where(
                OccupancyDirty.venue_id.in_(sites), OccupancyDirty.bucket_start <= closed
            )
        ):
            marked.setdefault(venue_id, set()).add(bucket_start)
        rows: list[dict[str, Any]] = []
        alert_rows: list[dict[str, Any]] = []
        for site in sites:
            venue = venues[site]
            fives = replay(venue, gates.get(site, []), bays.get(site, []), closed + BUCKET)
            kept = [s for s in fives if s.start in marked.get(site, set())]
            hours = sorted({bucket_of(b, HOUR) for b in marked.get(site, set())})
            rows += [_row(venue, "5m", s, end) for s in kept]
            rows += [_row(venue, "1h", s, end) for s in hours_of(kept, hours)]
            alert_rows += alert_history(venue, fives, end)
        _bulk_rollups(conn, rows)
        conn.execute(
            delete(OccupancyDirty).where(
                OccupancyDirty.venue_id.in_(sites), OccupancyDirty.bucket_start <= closed
            )
        )
        if alert_rows:
            conn.execute(insert(CapacityAlertRecord), alert_rows)
    return len(alert_rows)


def replay(
    venue: VenueInfo, gates: Sequence[GateReading], bays: Sequence[BayReading], until: datetime
) -> list[BucketStats]:
    """Every 5-minute bucket of ``venue`` that has readings and ends by ``until``, replayed in
    one pass with the ledgers the hub's ``rollups.bucket`` builds per bucket (readings in their
    own order; the occupancy reset at each closing time, also in buckets with no reading)."""
    ledger = GateLedger(first_boot={})
    bay_ledger = BayLedger() if bays else None
    g = sorted(gates, key=lambda r: (r.order, r.key))
    b = sorted(bays, key=lambda r: (r.order, r.key))
    gi = bi = 0
    out: list[BucketStats] = []
    start: datetime | None = None
    while gi < len(g) or bi < len(b):
        upcoming = min(
            g[gi].time if gi < len(g) else datetime.max.replace(tzinfo=UTC),
            b[bi].time if bi < len(b) else datetime.max.replace(tzinfo=UTC),
        )
        bucket = bucket_of(upcoming)
        if bucket + BUCKET > until:
            break
        if (
            start is not None
        ):  # closing times since the last bucket replayed, up to this one's start
            for _ in closings(start, bucket, venue.closes_at):
                ledger.reset()
        end = bucket + BUCKET
        g_in, b_in = [], []
        while gi < len(g) and g[gi].time < end:
            g_in.append(g[gi])
            gi += 1
        while bi < len(b) and b[bi].time < end:
            b_in.append(b[bi])
            bi += 1
        out.append(
            replay_bucket(
                start=bucket,
                end=end,
                capacity=venue.capacity,
                gates=ledger,
                gate_readings=g_in,
                resets=resets_between(bucket, end, venue.closes_at),
                bay_ledger=bay_ledger,
                bay_readings=b_in,
            )
        )
        start = end
    return out


def closings(low: datetime, high: datetime, closes_at: clock_time) -> list[datetime]:
    """Closing times ``c`` with ``low <= c <= high``. One on a bucket's boundary resets the
    occupancy at the start of the bucket it opens (``rollups.bucket`` starts that day afresh)."""
    found = []
    at = day_start(low, closes_at)
    if at < low:
        at += DAY
    while at <= high:
        found.append(at)
        at += DAY
    return found


def hours_of(fives: Sequence[BucketStats], hours: Sequence[datetime]) -> list[BucketStats]:
    """Each hour from its 5-minute rows, as ``rollups.hour_from_buckets`` makes it."""
    by_hour: dict[datetime, list[BucketStats]] = {}
    for s in fives:
        by_hour.setdefault(bucket_of(s.start, HOUR), []).append(s)
    out = []
    for hour in hours:
        rows = by_hour.get(hour, [])
        out.append(
            BucketStats(
                start=hour,
                end=hour + HOUR,
                readings=sum(r.readings for r in rows),
                visits=sum(r.visits for r in rows),
                peak=max((r.peak for r in rows), default=0),
                mean=sum(r.mean for r in rows) / len(rows) if rows else 0.0,
                last=rows[-1].last if rows else 0,
            )
        )
    return out


def alert_history(
    venue: VenueInfo, fives: Sequence[BucketStats], end: datetime
) -> list[dict[str, Any]]:
    """Alerts as the hub's rules (``alerts.decide``) make them from the occupancy the 5-minute
    buckets show: raised by a bucket's peak, cleared by a bucket's last occupancy or at closing
    time. The messages of closed ones went out then; one still open is left for the hub."""
    out: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None

    def close(at: datetime, occupancy: int) -> None:
        nonlocal current
        if current is not None:
            current |= {
                "cleared_at": at,
                "occupancy_at_clear": occupancy,
                "cleared_published_at": at,
            }
            out.append(current)
            current = None

    for s in fives:
        if current is not None:
            shut = closings(current["raised_at"] + BUCKET, s.start, venue.closes_at)
            if shut:  # closing time: everyone has gone
                close(shut[0], 0)
        decided = alerts.decide(
            is_open=current is not None,
            occupancy=s.peak,
            capacity=venue.capacity,
            threshold_pct=venue.threshold_pct,
        )
        if decided is alerts.Change.RAISE:
            current = {
                "venue_id": venue.id,
                "raised_at": s.start,
                "cleared_at": None,
                "capacity": venue.capacity,
                "threshold_pct": venue.threshold_pct,
                "clear_below_pct": alerts.clear_below(venue.threshold_pct),
                "occupancy_at_raise": s.peak,
                "peak_occupancy": s.peak,
                "occupancy_at_clear": None,
                "raised_published_at": s.start,
                "cleared_published_at": None,
            }
        elif current is not None:
            current["peak_occupancy"] = max(current["peak_occupancy"], s.peak)
        if current is not None and alerts.decide(
            is_open=True,
            occupancy=s.last,
            capacity=venue.capacity,
            threshold_pct=venue.threshold_pct,
        ):
            close(s.end, s.last)
    if current is not None:
        current["raised_published_at"] = None  # still open now: the hub tells the venue's edge
        out.append(current)
    return [row for row in out if row["raised_at"] < end]


def _row(venue: VenueInfo, step: str, s: BucketStats, now: datetime) -> dict[str, Any]:
    return {
        "venue_id": venue.id,
        "step": step,
        "bucket_start": s.start,
        "readings": s.readings,
        "visits": s.visits,
        "peak": s.peak,
        "mean": s.mean,
        "last": s.last,
        "capacity": venue.capacity,
        "computed_at": now,
    }


_ROLLUP_COLUMNS = (
    "venue_id",
    "step",
    "bucket_start",
    "readings",
    "visits",
    "peak",
    "mean",
    "last",
    "capacity",
    "computed_at",
)


def _bulk_rollups(conn: Connection, rows: list[dict[str, Any]]) -> None:
    bulk = BulkInsert(conn.dialect.name, OccupancyRollup, _ROLLUP_COLUMNS)
    stmt = bulk.replacing(
        [OccupancyRollup.venue_id, OccupancyRollup.step, OccupancyRollup.bucket_start],
        _ROLLUP_COLUMNS[3:],
    )
    for first in range(0, len(rows), WRITE_CHUNK):
        conn.execute(stmt, bulk.params(rows[first : first + WRITE_CHUNK]))


def resume_from_records(
    database_url: str, specs: Sequence[VenueSpec], now: datetime | None = None
) -> dict[str, VenueScenario]:
    """A later start: each venue's devices go on from their last recorded reading (the same
    counts and boot, the bays as they were), with the people the hub counts inside today, so
    the hub sees one device going on rather than counters running backwards."""
    at = now or datetime.now(UTC)
    sites = [spec.site for spec in specs]
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            c = CounterReading
            latest = (
                select(c.site_id, func.max(c.device_time).label("t"))
                .where(c.site_id.in_(sites), c.device_id == GATE)
                .group_by(c.site_id)
                .subquery()
            )
            counts = {
                row.site_id: row
                for row in conn.execute(
                    select(c.site_id, c.count_in, c.count_out, c.device_boots)
                    .join(latest, (latest.c.site_id == c.site_id) & (latest.c.t == c.device_time))
                    .where(c.device_id == GATE)
                )
            }
            b = BayRow
            latest_b = (
                select(b.site_id, func.max(b.device_time).label("t"))
                .where(b.site_id.in_(sites), b.device_id == BAYS)
                .group_by(b.site_id)
                .subquery()
            )
            bits = dict(
                conn.execute(
                    select(b.site_id, b.bays).join(
                        latest_b,
                        (latest_b.c.site_id == b.site_id) & (latest_b.c.t == b.device_time),
                    )
                ).all()
            )
            live = {
                row.venue_id: row
                for row in conn.execute(
                    select(VenueOccupancy).where(VenueOccupancy.venue_id.in_(sites))
                )
            }
    finally:
        engine.dispose()
    out: dict[str, VenueScenario] = {}
    for n, spec in enumerate(specs):
        row = counts.get(spec.site)
        if row is None:
            continue
        state = live.get(spec.site)
        today = state is not None and state.day_start == day_start(at, spec.closes_at)
        inside = state.occupancy if today and state is not None else 0
        bay_bits = bits.get(spec.site) if today else None
        if bay_bits is not None and len(bay_bits) != spec.bays:
            bay_bits = None
        run = VenueRun(
            spec,
            n + 20_000 + int(at.timestamp()) % 10_000,
            final=(row.count_in, row.count_out, row.device_boots, bay_bits, inside),
        )
        out[spec.site] = run.resume(at)
    return out


def seed_venues_on_first_run(
    database_url: str, specs: Sequence[VenueSpec], progress: Callable[[str], None] = print
) -> dict[str, VenueScenario]:
    """The demo's venues: their history on the first run, their last readings on a later one;
    either way, the scenarios the live simulators go on with."""
    if not specs:
        return {}
    if has_readings(database_url, [spec.site for spec in specs]):
        return resume_from_records(database_url, specs)
    from demo.venues import near_wrap  # noqa: PLC0415 - the demo's layout, not a dependency

    return seed_history(database_url, specs, near_wrap=near_wrap, progress=progress).scenarios
