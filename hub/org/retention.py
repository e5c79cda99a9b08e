"""Retention of the raw check-ins: a tap (card hash, place, time) says where a person was; it is
kept until the annual dual-reporting assessment of its year is over, then reduced to attendance.

The assessment (``hub.org.assessment``) and every report read ``attendance``, never
``checkins``: a purge first matches any check-in at a centre that has no attendance yet (a
centre registered after its first taps) and clears the card hash of those taps' attendance, then
the raw rows go and the attendance (member, centre, activity, time) stays.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, update

from hub.core.retention import Cutoff, Kind
from hub.ingest.models import Checkin
from hub.org.attendance import record_missing_attendance
from hub.org.calendar import CITY_TZ, year_bounds
from hub.org.models import Attendance


def checkin_cutoff(after_year_days: int) -> Cutoff:
    """The raw check-ins of a year go ``after_year_days`` into the next (when its assessment is
    done): before then, the cutoff is the first instant of last year; after, of this year."""

    def cutoff(conn: Connection, now: datetime) -> datetime:
        this_year = now.astimezone(CITY_TZ).year
        start, _ = year_bounds(this_year)
        if now >= start + timedelta(days=after_year_days):
            return start
        return year_bounds(this_year - 1)[0]

    return cutoff


def _reduce_to_attendance(conn: Connection, before: datetime) -> int:
    """Match what has no attendance yet, and clear the card hash the attendance rows of those
    taps carry: no report reads it (unknown cards are counted by their missing member)."""
    matched = record_missing_attendance(conn, before=before)
    conn.execute(
        update(Attendance)
        .where(Attendance.at < before, Attendance.card_hash.is_not(None))
        .values(card_hash=None)
    )
    return matched


def checkin_kind(after_year_days: int) -> Kind:
    table = cast(Table, Checkin.__table__)
    return Kind(
        name="checkins",
        table=table,
        time=table.c.device_time,
        cutoff=checkin_cutoff(after_year_days),
        setting="HUB_RETAIN_CHECKINS_AFTER_YEAR_DAYS",
        unit="month",
        before=_reduce_to_attendance,
    )
