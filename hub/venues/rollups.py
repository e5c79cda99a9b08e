"""Rollups per 5 minutes and per hour, recomputed whole from the raw readings.

A 5-minute bucket is recomputed once it has closed and whenever a late reading lands in it (the
ingest hook marks it dirty): the occupancy step function over the bucket is replayed from each
device boot's state at the bucket's start, so redelivery or late data give the same row as an
in-order run, never an increment on top of the old one. An hour is recomputed from its twelve
5-minute rows whenever one of them changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select

from hub.core.dialect import insert_for
from hub.ingest.models import BayReading as BayRow
from hub.ingest.models import CounterReading
from hub.venues.models import OccupancyBaySensor, OccupancyDirty, OccupancyRollup
from hub.venues.occupancy import (
    BayLedger,
    BayReading,
    BootState,
    BucketStats,
    Counts,
    GateLedger,
    GateReading,
    bucket_stats,
)
from hub.venues.registry import VenueInfo
from hub.venues.state import BUCKET, HOUR, GateDay, bucket_of, gate_days

STEPS = {"5m": BUCKET, "1h": HOUR}
MARKS_PER_PASS = 500


@dataclass(frozen=True, slots=True)
class DirtyMark:
    venue_id: str
    bucket_start: datetime
    generation: int


def due_marks(
    conn: Connection, closed_before: datetime, limit: int = MARKS_PER_PASS
) -> list[DirtyMark]:
    """Dirty buckets that have closed (their end is at or before ``closed_before``)."""
    rows = conn.execute(
        select(OccupancyDirty.venue_id, OccupancyDirty.bucket_start, OccupancyDirty.generation)
        .where(OccupancyDirty.bucket_start <= closed_before - BUCKET)
        .order_by(OccupancyDirty.bucket_start, OccupancyDirty.venue_id)
        .limit(limit)
    )
    return [DirtyMark(*row) for row in rows]


def drop_mark(conn: Connection, mark: DirtyMark) -> None:
    conn.execute(
        delete(OccupancyDirty).where(
            OccupancyDirty.venue_id == mark.venue_id,
            OccupancyDirty.bucket_start == mark.bucket_start,
            OccupancyDirty.generation == mark.generation,
        )
    )


def recompute(conn: Connection, venue: VenueInfo, mark: DirtyMark, now: datetime) -> BucketStats:
    """Recompute one 5-minute bucket and its hour; drop the mark if no batch touched it since.
    A bucket has a row only when it has readings: a gap is a time the sensors were silent."""
    stats = bucket(conn, venue, mark.bucket_start)
    if stats.readings:
        _upsert(conn, venue, "5m", stats, now)
    else:  # no reading in it (a late one marked it): no row, as if it had come in order
        r = OccupancyRollup
        conn.execute(
            delete(r).where(
                r.venue_id == venue.id, r.step == "5m", r.bucket_start == mark.bucket_start
            )
        )
    hour = bucket_of(mark.bucket_start, HOUR)
    _upsert(conn, venue, "1h", hour_from_buckets(conn, venue, hour), now)
    drop_mark(conn, mark)
    return stats


def bucket(conn: Connection, venue: VenueInfo, start: datetime) -> BucketStats:
    """Replay the venue's occupancy over ``[start, start + 5 min)`` from the raw readings."""
    end = start + BUCKET
    day = venue.calendar.day_start(start)
    resets = venue.calendar.resets_between(start, end)
    days = gate_days(conn, [(venue.id, d) for d in (day, *resets)])
    gates = GateLedger(first_boot={}, bases={(d.device, d.device_boots): d.base for d in days})
    for d in days:
        if d.day_start != day or d.first_time >= start:
            continue
        current = d.last if d.last_time < start else _last_before(conn, venue.id, d, start)
        gates.boots[(d.device, d.device_boots)] = BootState(current=current, base=d.base)
    devices = sorted({d.device for d in days})
    readings = _gate_readings(conn, venue.id, devices, start, end)
    bay_ledger, bay_readings = _bays(conn, venue.id, start, end)
    return bucket_stats(
        start=start,
        end=end,
        capacity=venue.capacity,
        gates=gates,
        gate_readings=readings,
        resets=resets,
        bay_ledger=bay_ledger,
        bay_readings=bay_readings,
    )


def hour_from_buckets(conn: Connection, venue: VenueInfo, hour: datetime) -> BucketStats:
    r = OccupancyRollup
    rows = conn.execute(
        select(r.readings, r.visits, r.peak, r.mean, r.last)
        .where(
            r.venue_id == venue.id,
            r.step == "5m",
            r.bucket_start >= hour,
            r.bucket_start < hour + HOUR,
        )
        .order_by(r.bucket_start)
    ).all()
    return BucketStats(
        start=hour,
        end=hour + HOUR,
        readings=sum(row.readings for row in rows),
        visits=sum(row.visits for row in rows),
        peak=max((row.peak for row in rows), default=0),
        mean=sum(row.mean for row in rows) / len(rows) if rows else 0.0,
        last=rows[-1].last if rows else 0,
    )


def _upsert(
    conn: Connection, venue: VenueInfo, step: str, stats: BucketStats, now: datetime
) -> None:
    values: dict[str, Any] = {
        "readings": stats.readings,
        "visits": stats.visits,
        "peak": stats.peak,
        "mean": stats.mean,
        "last": stats.last,
        "capacity": venue.capacity,
        "computed_at": now,
    }
    stmt = insert_for(conn)(OccupancyRollup).values(
        venue_id=venue.id, step=step, bucket_start=stats.start, **values
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[
                OccupancyRollup.venue_id,
                OccupancyRollup.step,
                OccupancyRollup.bucket_start,
            ],
            set_=values,
        )
    )


def _last_before(conn: Connection, venue_id: str, day: GateDay, before: datetime) -> Counts:
    c = CounterReading
    row = conn.execute(
        select(c.count_in, c.count_out)
        .where(
            c.site_id == venue_id,
            c.device_id == day.device,
            c.device_boots == day.device_boots,
            c.device_time >= day.day_start,
            c.device_time < before,
        )
        .order_by(c.device_time.desc(), c.seq.desc())
        .limit(1)
    ).first()
    return day.first if row is None else Counts(row.count_in, row.count_out)


def _gate_readings(
    conn: Connection, venue_id: str, devices: Sequence[str], start: datetime, end: datetime
) -> list[GateReading]:
    if not devices:
        return []
    c = CounterReading
    rows = conn.execute(
        select(
            c.device_id, c.device_boots, c.boot, c.seq, c.device_time, c.count_in, c.count_out
        ).where(
            c.site_id == venue_id,
            c.device_id.in_(devices),
            c.device_time >= start,
            c.device_time < end,
        )
    )
    return [GateReading(*row) for row in rows]


def _bays(
    conn: Connection, venue_id: str, start: datetime, end: datetime
) -> tuple[BayLedger | None, list[BayReading]]:
    devices = list(
        conn.scalars(
            select(OccupancyBaySensor.device_id).where(OccupancyBaySensor.venue_id == venue_id)
        )
    )
    if not devices:
        return None, []
    b = BayRow
    ledger = BayLedger()
    for device in devices:
        bits = conn.scalar(
            select(b.bays)
            .where(b.site_id == venue_id, b.device_id == device, b.device_time < start)
            .order_by(b.device_time.desc(), b.seq.desc())
            .limit(1)
        )
        if bits is not None:
            ledger.bits[device] = bits
    rows = conn.execute(
        select(b.device_id, b.boot, b.seq, b.device_time, b.bays).where(
            b.site_id == venue_id,
            b.device_id.in_(devices),
            b.device_time >= start,
            b.device_time < end,
        )
    )
    return ledger, [BayReading(*row) for row in rows]


def series(
    conn: Connection, venue_id: str, step: str, since: datetime, until: datetime
) -> list[BucketStats]:
    """The stored rollups of a venue with ``since <= bucket_start < until``, oldest first."""
    r = OccupancyRollup
    size = STEPS[step]
    rows = conn.execute(
        select(r.bucket_start, r.readings, r.visits, r.peak, r.mean, r.last)
        .where(
            r.venue_id == venue_id,
            r.step == step,
            r.bucket_start >= since,
            r.bucket_start < until,
        )
        .order_by(r.bucket_start)
    )
    return [
        BucketStats(
            start=row.bucket_start,
            end=row.bucket_start + size,
            readings=row.readings,
            visits=row.visits,
            peak=row.peak,
            mean=row.mean,
            last=row.last,
        )
        for row in rows
    ]


def pending_count(conn: Connection) -> int:
    return conn.scalar(select(func.count()).select_from(OccupancyDirty)) or 0
