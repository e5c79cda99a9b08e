"""The venue registry as occupancy needs it, cached: the registry changes by hand, rarely, and
every ingest batch asks for it. A write through the API in the same process reloads it at once
(``forget``); another process sees the change within ``ttl_s``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as clock_time

from sqlalchemy import Connection, select

from hub.venues.calendar import Calendar, Closure, WeekdayHours, build
from hub.venues.models import Venue, VenueClosure, VenueHours

DEFAULT_THRESHOLD_PCT = 90.0


@dataclass(frozen=True, slots=True)
class VenueInfo:
    id: str
    kind: str
    capacity: int
    opens_at: clock_time
    closes_at: clock_time
    threshold_pct: float
    unit_id: int
    calendar: Calendar
    """Its hours and the closures from yesterday on (what the live state asks about)."""


class VenueRegistry:
    """Registered venues by id, reloaded at most every ``ttl_s`` seconds."""

    def __init__(
        self, ttl_s: float = 30.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._venues: dict[str, VenueInfo] = {}
        self._loaded_at: float | None = None
        self._today: date | None = None

    def venues(self, conn: Connection, today: date | None = None) -> dict[str, VenueInfo]:
        """``today``: the local date (the service's clock); closures from the day before on
        are loaded, so a new day reloads too."""
        with self._lock:
            now = self._monotonic()
            if (
                self._loaded_at is None
                or now - self._loaded_at >= self._ttl_s
                or today != self._today
            ):
                self._venues = load(conn, today)
                self._loaded_at = now
                self._today = today
            return self._venues

    def forget(self) -> None:
        """Reload on the next use (after the registry was edited)."""
        with self._lock:
            self._loaded_at = None


def calendars(
    conn: Connection, closures_from: date | None = None, closures_to: date | None = None
) -> dict[str, Calendar]:
    """Every venue's calendar: its hours, and its closures that overlap ``closures_from`` to
    ``closures_to`` (either end open when ``None``)."""
    weekdays: dict[str, list[WeekdayHours]] = {}
    for h in conn.execute(select(VenueHours)):
        weekdays.setdefault(h.venue_id, []).append(WeekdayHours(h.weekday, h.opens_at, h.closes_at))
    closures: dict[str, list[Closure]] = {}
    c = VenueClosure
    query = select(c.venue_id, c.starts_on, c.ends_on)
    if closures_from is not None:
        query = query.where(c.ends_on >= closures_from)
    if closures_to is not None:
        query = query.where(c.starts_on <= closures_to)
    for row in conn.execute(query):
        closures.setdefault(row.venue_id, []).append(Closure(row.starts_on, row.ends_on))
    return {
        r.id: build(r.opens_at, r.closes_at, weekdays.get(r.id, ()), closures.get(r.id, ()))
        for r in conn.execute(select(Venue.id, Venue.opens_at, Venue.closes_at))
    }


def load(conn: Connection, today: date | None = None) -> dict[str, VenueInfo]:
    """Every registered venue (an archived one too: its edge may still report) with its
    weekday hours and its closures from the day before ``today`` on (all without ``today``)."""
    calendar = calendars(conn, None if today is None else today - timedelta(days=1))
    rows = conn.execute(
        select(
            Venue.id,
            Venue.kind,
            Venue.capacity,
            Venue.opens_at,
            Venue.closes_at,
            Venue.alert_threshold_pct,
            Venue.unit_id,
        )
    )
    return {
        r.id: VenueInfo(
            id=r.id,
            kind=r.kind,
            capacity=r.capacity,
            opens_at=r.opens_at,
            closes_at=r.closes_at,
            threshold_pct=r.alert_threshold_pct or DEFAULT_THRESHOLD_PCT,
            unit_id=r.unit_id,
            calendar=calendar[r.id],
        )
        for r in rows
    }
