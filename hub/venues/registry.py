"""The venue registry as occupancy needs it, cached: the registry changes by hand, rarely, and
every ingest batch asks for it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time as clock_time

from sqlalchemy import Connection, select

from hub.venues.models import Venue

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

    def venues(self, conn: Connection) -> dict[str, VenueInfo]:
        with self._lock:
            now = self._monotonic()
            if self._loaded_at is None or now - self._loaded_at >= self._ttl_s:
                self._venues = load(conn)
                self._loaded_at = now
            return self._venues

    def forget(self) -> None:
        """Reload on the next use (after the registry was edited)."""
        with self._lock:
            self._loaded_at = None


def load(conn: Connection) -> dict[str, VenueInfo]:
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
        )
        for r in rows
    }
