"""Capacity alerts with hysteresis: raised at or above the venue's threshold, cleared only below
the threshold less ``HYSTERESIS_PCT`` points, so an occupancy that hovers at the threshold raises
one alert, not one a minute. None is raised while the venue is closed (outside the day's opening
hours, on a closed weekday or a closure day: its calendar), and one still open then is cleared:
a closed venue has no crowd to warn of, and its sign should not say "full" all night.

Transitions are written in the same transaction as the live occupancy that caused them; the
MQTT message for each goes out after that commit and its publication is recorded, so a message
that could not go out (broker away) is sent again later, and none is sent for an uncommitted
change. At most one alert is open per venue (a partial unique index), whatever number of hub
workers decide at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, or_, select, update

from hub.core.dialect import insert_for
from hub.venues.models import CapacityAlertRecord
from hub.venues.registry import VenueInfo
from hub.venues.state import LiveOccupancy
from mqtt_contract import topics
from mqtt_contract.models import CapacityAlert
from mqtt_contract.topics import Command

log = logging.getLogger(__name__)

HYSTERESIS_PCT = 10.0

Publish = Callable[[str, bytes], bool]
"""Publish a payload on a topic; ``True`` when handed to the broker."""


class Change(StrEnum):
    RAISE = "raised"
    CLEAR = "cleared"


def decide(
    *,
    is_open: bool,
    occupancy: int,
    capacity: int,
    threshold_pct: float,
    venue_open: bool = True,
) -> Change | None:
    """``is_open``: whether an alert is open; ``venue_open``: whether the venue is."""
    if not venue_open:
        return Change.CLEAR if is_open else None
    pct = 100.0 * occupancy / capacity
    if not is_open and pct >= threshold_pct:
        return Change.RAISE
    if is_open and pct < clear_below(threshold_pct):
        return Change.CLEAR
    return None


def clear_below(threshold_pct: float) -> float:
    return max(threshold_pct - HYSTERESIS_PCT, 0.0)


def apply_alerts(
    conn: Connection,
    venues: dict[str, VenueInfo],
    lives: Sequence[LiveOccupancy],
    now: datetime,
) -> int:
    """Raise, clear or follow the peak of the venues' alerts; the number of transitions."""
    if not lives:
        return 0
    a = CapacityAlertRecord
    open_alerts = {
        row.venue_id: row
        for row in conn.execute(
            select(a.id, a.venue_id, a.peak_occupancy).where(
                a.venue_id.in_([live.venue_id for live in lives]), a.cleared_at.is_(None)
            )
        )
    }
    transitions = 0
    raises: list[dict[str, object]] = []
    for live in lives:
        venue = venues[live.venue_id]
        current = open_alerts.get(live.venue_id)
        change = decide(
            is_open=current is not None,
            occupancy=live.occupancy,
            capacity=live.capacity,
            threshold_pct=venue.threshold_pct,
            venue_open=venue.calendar.is_open(now),
        )
        if change is Change.RAISE:
            raises.append(
                {
                    "venue_id": live.venue_id,
                    "raised_at": now,
                    "capacity": live.capacity,
                    "threshold_pct": venue.threshold_pct,
                    "clear_below_pct": clear_below(venue.threshold_pct),
                    "occupancy_at_raise": live.occupancy,
                    "peak_occupancy": live.occupancy,
                }
            )
        elif change is Change.CLEAR and current is not None:
            transitions += conn.execute(
                update(a)
                .where(a.id == current.id, a.cleared_at.is_(None))
                .values(cleared_at=now, occupancy_at_clear=live.occupancy)
            ).rowcount
        elif current is not None and live.occupancy > current.peak_occupancy:
            conn.execute(
                update(a)
                .where(a.id == current.id, a.peak_occupancy < live.occupancy)
                .values(peak_occupancy=live.occupancy)
            )
    for values in raises:  # rare: one statement each, so each says whether it was the one
        stmt = (
            insert_for(conn)(a)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[a.venue_id], index_where=a.cleared_at.is_(None))
            .returning(a.id)
        )
        transitions += conn.execute(stmt).first() is not None
    return transitions


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    change: Change
    message: CapacityAlert


def publish_pending(engine: Engine, publish: Publish, now: datetime) -> int:
    """Send every raise or clear not yet published; record each one that went out."""
    a = CapacityAlertRecord
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                a.id,
                a.venue_id,
                a.raised_at,
                a.cleared_at,
                a.capacity,
                a.threshold_pct,
                a.occupancy_at_raise,
                a.occupancy_at_clear,
                a.raised_published_at,
                a.cleared_published_at,
            ).where(
                or_(
                    a.raised_published_at.is_(None),
                    a.cleared_at.is_not(None) & a.cleared_published_at.is_(None),
                )
            )
        ).all()
    pending: list[Pending] = []
    for row in rows:
        if row.raised_published_at is None:
            pending.append(Pending(row.id, Change.RAISE, _message(row, Change.RAISE)))
        if row.cleared_at is not None and row.cleared_published_at is None:
            pending.append(Pending(row.id, Change.CLEAR, _message(row, Change.CLEAR)))
    sent = 0
    for p in pending:
        topic = topics.command(p.message.site, Command.ALERT)
        try:
            ok = publish(topic, p.message.to_bytes())
        except Exception:
            log.exception("could not publish the capacity alert of %s", p.message.venue)
            ok = False
        if not ok:
            continue
        column = "raised_published_at" if p.change is Change.RAISE else "cleared_published_at"
        with engine.begin() as conn:
            conn.execute(update(a).where(a.id == p.id).values({column: now}))
        sent += 1
        log.info(
            "capacity alert %s at %s: %d of %d",
            p.change.value,
            p.message.venue,
            p.message.occupancy,
            p.message.capacity,
        )
    return sent


def _message(row: Any, change: Change) -> CapacityAlert:
    raised = change is Change.RAISE
    return CapacityAlert(
        site=row.venue_id,
        venue=row.venue_id,
        state="raised" if raised else "cleared",
        occupancy=row.occupancy_at_raise if raised else (row.occupancy_at_clear or 0),
        capacity=row.capacity,
        threshold_pct=row.threshold_pct,
        at=row.raised_at if raised else row.cleared_at,
    )
