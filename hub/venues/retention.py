"""Retention of the raw counter and bay readings: kept ``days`` once their rollups exist.

The occupancy rollups and gate days (what the venue-sharing report and the dashboards read) are
kept; the raw readings they were computed from go after ``days``, but never one whose 5-minute
bucket is still waiting to be rolled up (an ``occupancy_dirty`` mark): the cutoff stops at the
oldest pending bucket. A reading that arrives later than ``days`` is rolled up from what is left.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, func, select

from hub.core.retention import Cutoff, Kind
from hub.ingest.models import BayReading, CounterReading
from hub.venues.models import OccupancyDirty


def readings_cutoff(days: int) -> Cutoff:
    def cutoff(conn: Connection, now: datetime) -> datetime:
        cut = now - timedelta(days=days)
        pending = conn.execute(select(func.min(OccupancyDirty.bucket_start))).scalar()
        return min(cut, pending) if pending is not None else cut

    return cutoff


def reading_kinds(days: int) -> list[Kind]:
    kinds = []
    for name, model in (("counter_readings", CounterReading), ("bay_readings", BayReading)):
        table = cast(Table, model.__table__)
        kinds.append(
            Kind(
                name=name,
                table=table,
                time=table.c.device_time,
                cutoff=readings_cutoff(days),
                setting="HUB_RETAIN_READINGS_DAYS",
                unit="day",
            )
        )
    return kinds
