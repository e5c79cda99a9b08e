"""Occupancy state in SQL, set-based: merge a batch's readings into the gate days and bay
sensors, mark the rollup buckets they touch, and compute the live occupancy of venues.

Merges keep the first and the last reading by the readings' own order ``(device_time, seq)``, so
a batch applied twice, or batches applied in any order, leave the same rows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, case, exists, func, or_, select, tuple_
from sqlalchemy.orm import aliased

from hub.core.bulk import BulkInsert
from hub.venues.models import (
    OccupancyBaySensor,
    OccupancyDirty,
    OccupancyGateDay,
    VenueOccupancy,
)
from hub.venues.occupancy import (
    ZERO,
    BayReading,
    Counts,
    GateReading,
    clamp,
    increase,
    net_flow,
)
from hub.venues.registry import VenueInfo

BUCKET = timedelta(minutes=5)
HOUR = timedelta(hours=1)


def bucket_of(at: datetime, size: timedelta = BUCKET) -> datetime:
    """The start of the 5-minute (or hourly) bucket of ``at``; the city's offset is whole hours,
    so these are the local buckets too."""
    seconds = int(size.total_seconds())
    epoch = int(at.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=at.tzinfo)


# --- merging a batch ------------------------------------------------------------------------------


def merge_readings(
    conn: Connection,
    venues: dict[str, VenueInfo],
    gates: Sequence[tuple[str, GateReading]],
    bays: Sequence[tuple[str, BayReading]],
    *,
    now: datetime,
    marked: Set[tuple[str, datetime]] = frozenset(),
) -> set[tuple[str, datetime]]:
    """Fold readings (venue id, reading) into the gate days and bay sensors; mark buckets.

    ``marked``: marks of still-open buckets this process has already committed. A mark cannot
    be consumed before its bucket closes, so marking it once is enough (this saves a statement
    for nearly every batch). Returns the marks of open buckets made here, for the caller to add
    to ``marked`` only once its transaction has committed: remembered before, a commit that
    fails would leave those buckets never rolled up."""
    rows = _gate_day_rows(venues, gates)
    spans: list[tuple[str, datetime, datetime]] = []
    past: dict[tuple[str, str, int], datetime] = {}
    if rows:
        merged = _run_bulk(conn, _gate_merge, rows)
        sent = {(r["venue_id"], r["device_id"], r["device_boots"], r["day_start"]): r for r in rows}
        for venue_id, device, boots, day, last in merged:
            row = sent[(venue_id, device, boots, day)]
            if last > row["last_time"]:  # late: readings after it were there already
                spans.append((venue_id, row["first_time"], last))
            if day < venues[venue_id].calendar.day_start(now):  # may move a later day's base
                key = (venue_id, device, boots)
                past[key] = min(past.get(key, row["first_time"]), row["first_time"])
    latest_bays = _latest_bays(bays)
    if latest_bays:
        merged = _run_bulk(conn, _bay_merge, latest_bays)
        earliest_bay: dict[tuple[str, str], datetime] = {}
        for v, r in bays:
            earliest_bay[(v, r.device)] = min(earliest_bay.get((v, r.device), r.time), r.time)
        for venue_id, device, last in merged:
            spans.append((venue_id, earliest_bay[(venue_id, device)], last))
    if past:
        spans += _later_days(conn, past)
    marks = {(v, bucket_of(r.time)) for v, r in gates} | {(v, bucket_of(r.time)) for v, r in bays}
    for venue_id, low, high in spans:
        bucket = bucket_of(low)
        end = min(high, low + MAX_MARKED_SPAN)
        while bucket <= end:
            marks.add((venue_id, bucket))
            bucket += BUCKET
    todo = sorted(marks - marked)
    if todo:
        _run_bulk(
            conn, _mark, [{"venue_id": v, "bucket_start": b, "generation": 1} for v, b in todo]
        )
    return {m for m in todo if m[1] + BUCKET > now}


_GATE_DAY_COLUMNS = (
    "venue_id",
    "device_id",
    "device_boots",
    "day_start",
    "first_time",
    "first_seq",
    "first_in",
    "first_out",
    "last_time",
    "last_seq",
    "last_in",
    "last_out",
)
_BAY_COLUMNS = ("venue_id", "device_id", "last_time", "last_seq", "bays", "occupied")
_MARK_COLUMNS = ("venue_id", "bucket_start", "generation")


def _run_bulk(
    conn: Connection, statement: Callable[[str], tuple[BulkInsert, Any]], rows: list[dict[str, Any]]
) -> Any:
    """Run one of the cached bulk statements below on these rows."""
    bulk, stmt = statement(conn.dialect.name)
    return conn.execute(stmt, bulk.params(rows))


@functools.cache
def _gate_merge(dialect: str) -> tuple[BulkInsert, Any]:
    """Built once per dialect: the merge runs for nearly every batch."""
    bulk = BulkInsert(dialect, OccupancyGateDay, _GATE_DAY_COLUMNS)
    stmt = bulk.insert
    ex = stmt.excluded
    t = OccupancyGateDay
    earlier = or_(
        ex.first_time < t.first_time,
        and_(ex.first_time == t.first_time, ex.first_seq < t.first_seq),
    )
    later = or_(
        ex.last_time > t.last_time,
        and_(ex.last_time == t.last_time, ex.last_seq > t.last_seq),
    )
    set_: dict[str, Any] = {
        name: case((earlier, getattr(ex, name)), else_=getattr(t, name))
        for name in ("first_time", "first_seq", "first_in", "first_out")
    }
    set_ |= {
        name: case((later, getattr(ex, name)), else_=getattr(t, name))
        for name in ("last_time", "last_seq", "last_in", "last_out")
    }
    return bulk, stmt.on_conflict_do_update(
        index_elements=[t.venue_id, t.device_id, t.device_boots, t.day_start], set_=set_
    ).returning(t.venue_id, t.device_id, t.device_boots, t.day_start, t.last_time)


@functools.cache
def _bay_merge(dialect: str) -> tuple[BulkInsert, Any]:
    bulk = BulkInsert(dialect, OccupancyBaySensor, _BAY_COLUMNS)
    stmt = bulk.insert
    ex = stmt.excluded
    b = OccupancyBaySensor
    newer = or_(
        ex.last_time > b.last_time, and_(ex.last_time == b.last_time, ex.last_seq > b.last_seq)
    )
    return bulk, stmt.on_conflict_do_update(
        index_elements=[b.venue_id, b.device_id],
        set_={
            name: case((newer, getattr(ex, name)), else_=getattr(b, name))
            for name in ("last_time", "last_seq", "bays", "occupied")
        },
    ).returning(b.venue_id, b.device_id, b.last_time)


@functools.cache
def _mark(dialect: str) -> tuple[BulkInsert, Any]:
    bulk = BulkInsert(dialect, OccupancyDirty, _MARK_COLUMNS)
    return bulk, bulk.insert.on_conflict_do_update(
        index_elements=[OccupancyDirty.venue_id, OccupancyDirty.bucket_start],
        set_={"generation": OccupancyDirty.generation + 1},
    )


MAX_MARKED_SPAN = timedelta(days=2)


def _later_days(
    conn: Connection, earliest: dict[tuple[str, str, int], datetime]
) -> list[tuple[str, datetime, datetime]]:
    """For readings of an earlier day: up to the boot's newest reading, whatever the day (the
    day after counts from the earlier day's last reading)."""
    t = OccupancyGateDay
    latest = conn.execute(
        select(t.venue_id, t.device_id, t.device_boots, func.max(t.last_time))
        .where(tuple_(t.venue_id, t.device_id, t.device_boots).in_(sorted(earliest)))
        .group_by(t.venue_id, t.device_id, t.device_boots)
    )
    return [(v, earliest[(v, d, b)], last) for v, d, b, last in latest]


def _gate_day_rows(
    venues: dict[str, VenueInfo], gates: Iterable[tuple[str, GateReading]]
) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str, int, datetime], tuple[GateReading, GateReading]] = {}
    for venue_id, r in gates:
        key = (venue_id, r.device, r.device_boots, venues[venue_id].calendar.day_start(r.time))
        first, last = groups.get(key, (r, r))
        groups[key] = (min(first, r, key=_order), max(last, r, key=_order))
    return [
        {
            "venue_id": venue_id,
            "device_id": device,
            "device_boots": boots,
            "day_start": day,
            "first_time": first.time,
            "first_seq": first.seq,
            "first_in": first.count_in,
            "first_out": first.count_out,
            "last_time": last.time,
            "last_seq": last.seq,
            "last_in": last.count_in,
            "last_out": last.count_out,
        }
        for (venue_id, device, boots, day), (first, last) in sorted(groups.items())
    ]


def _order(r: GateReading) -> tuple[datetime, int]:
    return r.order


def _latest_bays(bays: Iterable[tuple[str, BayReading]]) -> list[dict[str, Any]]:
    latest: dict[tuple[str, str], BayReading] = {}
    for venue_id, r in bays:
        key = (venue_id, r.device)
        if key not in latest or r.order > latest[key].order:
            latest[key] = r
    return [
        {
            "venue_id": v,
            "device_id": d,
            "last_time": r.time,
            "last_seq": r.seq,
            "bays": r.bays,
            "occupied": r.occupied,
        }
        for (v, d), r in sorted(latest.items())
    ]


# --- reading the gate days back -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GateDay:
    """A gate day with the base its net flow counts from (see ``occupancy.boot_base``)."""

    venue_id: str
    device: str
    device_boots: int
    day_start: datetime
    first_time: datetime
    first: Counts
    last_time: datetime
    last: Counts
    base: Counts

    @property
    def net(self) -> int:
        return net_flow(self.last, self.base)

    @property
    def visits(self) -> int:
        return increase(self.last.count_in, self.base.count_in)


@functools.cache
def _gate_days_query() -> Select[Any]:
    """Built once: the live occupancy asks for it every second."""
    g = aliased(OccupancyGateDay, name="g")
    p = aliased(OccupancyGateDay, name="p")
    same_boot = and_(
        p.venue_id == g.venue_id,
        p.device_id == g.device_id,
        p.device_boots == g.device_boots,
        p.day_start < g.day_start,
    )

    def previous(column: Any) -> Any:
        return (
            select(column).where(same_boot).order_by(p.day_start.desc()).limit(1).scalar_subquery()
        )

    e = aliased(OccupancyGateDay, name="e")
    restarted = exists().where(
        e.venue_id == g.venue_id, e.device_id == g.device_id, e.device_boots < g.device_boots
    )
    return select(
        g,
        previous(p.last_in).label("base_in"),
        previous(p.last_out).label("base_out"),
        restarted.label("restarted"),
    ).where(tuple_(g.venue_id, g.day_start).in_(bindparam("pairs", expanding=True)))


def gate_days(conn: Connection, days: Iterable[tuple[str, datetime]]) -> list[GateDay]:
    """The gate days of these (venue, day start) pairs, each with its base: the same boot's last
    reading of an earlier day, else zero after a power loss, else its own first reading."""
    pairs = sorted(set(days))
    if not pairs:
        return []
    out: list[GateDay] = []
    for row in conn.execute(_gate_days_query(), {"pairs": pairs}).all():
        first = Counts(row.first_in, row.first_out)
        if row.base_in is not None and row.base_out is not None:
            base = Counts(row.base_in, row.base_out)
        elif row.restarted:
            base = ZERO
        else:
            base = first
        out.append(
            GateDay(
                venue_id=row.venue_id,
                device=row.device_id,
                device_boots=row.device_boots,
                day_start=row.day_start,
                first_time=row.first_time,
                first=first,
                last_time=row.last_time,
                last=Counts(row.last_in, row.last_out),
                base=base,
            )
        )
    return out


# --- live occupancy -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiveOccupancy:
    venue_id: str
    occupancy: int
    capacity: int
    source: str
    visits: int
    day_start: datetime
    as_of: datetime | None


def live_occupancy(
    conn: Connection, venues: Sequence[VenueInfo], now: datetime
) -> list[LiveOccupancy]:
    """The occupancy of these venues now: bay sensors where a venue has any, else the net flow
    of its gates since its last closing time."""
    starts = {v.id: v.calendar.day_start(now) for v in venues}
    by_venue: dict[str, list[GateDay]] = {}
    for day in gate_days(conn, starts.items()):
        by_venue.setdefault(day.venue_id, []).append(day)
    bays: dict[str, list[tuple[datetime, int]]] = {}
    if venues:
        rows = conn.execute(
            select(
                OccupancyBaySensor.venue_id,
                OccupancyBaySensor.last_time,
                OccupancyBaySensor.occupied,
            ).where(OccupancyBaySensor.venue_id.in_([v.id for v in venues]))
        )
        for venue_id, at, occupied in rows:
            bays.setdefault(venue_id, []).append((at, occupied))
    result: list[LiveOccupancy] = []
    for v in venues:
        days = by_venue.get(v.id, [])
        visits = sum(d.visits for d in days)
        gate_as_of = max((d.last_time for d in days), default=None)
        if v.id in bays:
            occupied = sum(o for _, o in bays[v.id])
            as_of = max(at for at, _ in bays[v.id])
            result.append(
                LiveOccupancy(
                    v.id,
                    clamp(occupied, v.capacity),
                    v.capacity,
                    "bays",
                    visits,
                    starts[v.id],
                    as_of,
                )
            )
            continue
        result.append(
            LiveOccupancy(
                venue_id=v.id,
                occupancy=clamp(sum(d.net for d in days), v.capacity),
                capacity=v.capacity,
                source="counters" if days else "none",
                visits=visits,
                day_start=starts[v.id],
                as_of=gate_as_of,
            )
        )
    return result


_LIVE_COLUMNS = (
    "venue_id",
    "occupancy",
    "capacity",
    "source",
    "visits",
    "day_start",
    "as_of",
    "updated_at",
)


@functools.cache
def _store_live(dialect: str) -> tuple[BulkInsert, Any]:
    bulk = BulkInsert(dialect, VenueOccupancy, _LIVE_COLUMNS)
    return bulk, bulk.replacing([VenueOccupancy.venue_id], _LIVE_COLUMNS[1:])


def store_live(conn: Connection, lives: Sequence[LiveOccupancy], now: datetime) -> None:
    if not lives:
        return
    _run_bulk(
        conn,
        _store_live,
        [
            {
                "venue_id": live.venue_id,
                "occupancy": live.occupancy,
                "capacity": live.capacity,
                "source": live.source,
                "visits": live.visits,
                "day_start": live.day_start,
                "as_of": live.as_of,
                "updated_at": now,
            }
            for live in lives
        ],
    )


def stale_days(conn: Connection, venues: Sequence[VenueInfo], now: datetime) -> list[VenueInfo]:
    """Venues whose live state is from before their last closing time, or was never computed."""
    stored = dict(conn.execute(select(VenueOccupancy.venue_id, VenueOccupancy.day_start)).all())
    return [v for v in venues if stored.get(v.id) != v.calendar.day_start(now)]
