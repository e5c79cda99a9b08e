"""Recording an event: its notification row once (the unique ``dedup_key`` decides, whatever
number of hub processes see it) and, in the same transaction, a delivery for each channel of each
subscriber whose role and scope cover it, held through quiet hours or kept for the digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import Connection, insert, select

from hub.auth.models import User
from hub.auth.roles import Role
from hub.core.dialect import insert_for
from hub.notify.events import EventKind, NotifyEvent
from hub.notify.models import (
    Notification,
    NotificationChannel,
    NotificationDelivery,
    NotificationPrefs,
)
from hub.org.calendar import CITY_TZ
from hub.venues.models import Venue

OPERATORS_ONLY = frozenset({EventKind.DEAD_LETTER_SURGE.value})


def record(conn: Connection, event: NotifyEvent, now: datetime) -> int | None:
    """The new notification's id, or ``None`` when it was recorded already."""
    n = Notification
    inserted = conn.execute(
        insert_for(conn)(n)
        .values(
            dedup_key=event.dedup_key,
            kind=event.kind,
            severity=event.severity,
            title=event.title[:200],
            body=event.body[:4000],
            venue_id=event.venue_id,
            centre_id=event.centre_id,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=[n.dedup_key])
        .returning(n.id)
    ).scalar()
    if inserted is None:
        return None
    fan_out(conn, inserted, event, now)
    return int(inserted)


def fan_out(conn: Connection, notification_id: int, event: NotifyEvent, now: datetime) -> int:
    """One delivery per enabled channel of each subscriber who may see the event."""
    venue_unit = None
    if event.venue_id is not None:
        venue_unit = conn.scalar(select(Venue.unit_id).where(Venue.id == event.venue_id))
    p = NotificationPrefs
    users = conn.execute(
        select(
            User.id,
            User.role,
            User.centre_id,
            User.unit_id,
            p.events,
            p.digest,
            p.quiet_from,
            p.quiet_to,
            p.critical_in_quiet,
        )
        .join(p, p.user_id == User.id)
        .where(User.revoked_at.is_(None))
    ).all()
    deliveries = []
    for user in users:
        scope = Scope(Role(user.role), user.centre_id, user.unit_id)
        events = user.events if isinstance(user.events, list) else []
        if event.kind not in events or not sees(scope, event, venue_unit):
            continue
        state, due = "pending", now
        if user.digest:
            state = "digest"
        elif not (event.severity == "critical" and user.critical_in_quiet):
            due = quiet_until(now, user.quiet_from, user.quiet_to) or now
        channels = conn.scalars(
            select(NotificationChannel.id).where(
                NotificationChannel.user_id == user.id, NotificationChannel.enabled.is_(True)
            )
        ).all()
        deliveries += [
            {
                "notification_id": notification_id,
                "channel_id": channel,
                "user_id": user.id,
                "state": state,
                "attempts": 0,
                "next_attempt_at": due,
                "created_at": now,
            }
            for channel in channels
        ]
    if deliveries:
        conn.execute(insert(NotificationDelivery), deliveries)
    return len(deliveries)


@dataclass(frozen=True, slots=True)
class Scope:
    role: Role
    centre_id: str | None
    unit_id: int | None


def sees(user: Scope, event: NotifyEvent, venue_unit: int | None) -> bool:
    """Operators see everything; a venue manager its unit's venues; centre staff their centre
    (its edge and readers); nobody else is notified."""
    role = user.role
    if role is Role.OPERATOR:
        return True
    if event.kind in OPERATORS_ONLY:
        return False
    if role is Role.VENUE_MANAGER:
        return event.venue_id is not None and venue_unit is not None and venue_unit == user.unit_id
    if role is Role.CENTRE_STAFF:
        return event.centre_id is not None and event.centre_id == user.centre_id
    return False


def quiet_until(now: datetime, start: time | None, end: time | None) -> datetime | None:
    """The end of the quiet hours ``now`` is in (city time; they may span midnight), or
    ``None`` outside them."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(CITY_TZ)
    t = local.time().replace(tzinfo=None)
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    until = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if until <= local:
        until += timedelta(days=1)
    return until
