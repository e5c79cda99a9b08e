"""Check-ins become attendance: set-based statements, run in the transaction that records them.

A check-in at a service centre's reader is matched to the member whose card hash it carries (none:
an unknown card, recorded all the same) and to the activity open at that centre at that moment
(none: a walk-in service). One attendance row per check-in event id, inserted with ``ON CONFLICT DO
NOTHING``: a replayed check-in finds its row already there. Check-ins at sites that are not
service centres (venues, unregistered sites) are not attendance.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, ScalarSelect, SQLColumnExpression, exists, func, select, update
from sqlalchemy.sql.elements import ColumnElement

from hub.core.dialect import insert_for
from hub.ingest.events import EventRecord
from hub.ingest.models import Checkin
from hub.org.calendar import local_date, local_month
from hub.org.models import Activity, Attendance, Member, ServiceCentre
from mqtt_contract.models import CheckinEvent

_CHUNK = 500

_COLUMNS = [
    "event_id",
    "centre_id",
    "device_id",
    "card_hash",
    "member_id",
    "activity_id",
    "community_id",
    "at",
    "local_date",
    "month",
]


def _open_activity(
    centre: SQLColumnExpression[str], at: SQLColumnExpression[datetime]
) -> ScalarSelect[int]:
    """The activity open at ``centre`` at ``at``; of overlapping ones, the one that began last."""
    return (
        select(Activity.id)
        .where(Activity.centre_id == centre, Activity.starts_at <= at, Activity.ends_at > at)
        .order_by(Activity.starts_at.desc(), Activity.id.desc())
        .limit(1)
        .correlate_except(Activity)  # its own activities, also inside a query on activities
        .scalar_subquery()
    )


def _community_of(
    activity_id: ScalarSelect[int], centre_community: SQLColumnExpression[int]
) -> SQLColumnExpression[int]:
    activity_community = (
        select(Activity.community_id)
        .where(Activity.id == activity_id)
        .correlate_except(Activity)
        .scalar_subquery()
    )
    return func.coalesce(activity_community, centre_community)


def _matched_checkins() -> tuple[SQLColumnExpression[Any], ...]:
    activity_id = _open_activity(Checkin.site_id, Checkin.device_time)
    return (
        Checkin.event_id,
        Checkin.site_id,
        Checkin.device_id,
        Checkin.card_hash,
        select(Member.id).where(Member.card_hash == Checkin.card_hash).scalar_subquery(),
        activity_id,
        _community_of(activity_id, ServiceCentre.community_id),
        Checkin.device_time,
        local_date(Checkin.device_time),
        local_month(Checkin.device_time),
    )


def _insert(conn: Connection, where: ColumnElement[bool]) -> int:
    insert = insert_for(conn)
    source = (
        select(*_matched_checkins())
        .join(ServiceCentre, ServiceCentre.id == Checkin.site_id)
        .where(where)
    )
    stmt = (
        insert(Attendance)
        .from_select(_COLUMNS, source)
        .on_conflict_do_nothing(index_elements=[Attendance.event_id])
        .returning(Attendance.event_id)  # rowcount of INSERT ... SELECT is not portable
    )
    return len(conn.execute(stmt).all())


def record_attendance(conn: Connection, event_ids: Collection[UUID]) -> int:
    """Match these (newly recorded) check-ins; returns how many became attendance."""
    ids = list(event_ids)
    return sum(
        _insert(conn, Checkin.event_id.in_(ids[start : start + _CHUNK]))
        for start in range(0, len(ids), _CHUNK)
    )


def match_new_checkins(conn: Connection, new_events: Sequence[EventRecord]) -> None:
    """Ingest's in-transaction hook (``hub.ingest.hooks.TransactionHook``): taps at centres
    become attendance in the same commit as the check-ins."""
    ids = [r.event.id for r in new_events if isinstance(r.event, CheckinEvent)]
    if ids:
        record_attendance(conn, ids)


def record_missing_attendance(conn: Connection, before: datetime | None = None) -> int:
    """Match every check-in at a centre (tapped ``before``, if given) that has no attendance yet
    (after a bulk load, when a centre is registered after its first taps arrived, before
    retention removes the raw check-ins). Safe to run any time."""
    missing = ~exists().where(Attendance.event_id == Checkin.event_id)
    if before is not None:
        missing = missing & (Checkin.device_time < before)
    return _insert(conn, missing)


def rematch_activities(
    conn: Connection, centre_id: str, windows: Iterable[tuple[datetime, datetime]]
) -> int:
    """Match the attendance at a centre in these windows to activities again: after an activity
    is entered, moved or corrected, taps that were walk-ins may belong to it (and back)."""
    changed = 0
    for start, end in windows:
        activity_id = _open_activity(Attendance.centre_id, Attendance.at)
        centre_community = (
            select(ServiceCentre.community_id)
            .where(ServiceCentre.id == Attendance.centre_id)
            .scalar_subquery()
        )
        stmt = (
            update(Attendance)
            .where(Attendance.centre_id == centre_id, Attendance.at >= start, Attendance.at < end)
            .values(
                activity_id=activity_id,
                community_id=_community_of(activity_id, centre_community),
            )
        )
        changed += conn.execute(stmt).rowcount or 0
    return changed
