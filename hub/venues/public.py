"""What anyone may know of the shared venues (the public page, no login): where they are, when
they open, whether they are open now and how full, as a coarse level. Nothing that names a person,
a unit's contact or a device leaves here.

The level (documented in docs/venues.md, "The public page"): ``closed`` outside the opening hours
(its weekday's own, closures included); else from the share of capacity in use, against the
venue's alert threshold ``T`` (default 90 %): ``nearly_full`` at or above ``T``, ``filling_up`` at
or above ``T - 30`` points (at least 0), else ``plenty``. The exact count is given only where the
venue allows it (``venues.public_count``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal

from sqlalchemy import Connection, select

from hub.org.calendar import CITY_TZ
from hub.org.models import Community, Subdistrict
from hub.venues.calendar import Calendar
from hub.venues.models import Venue, VenueOccupancy
from hub.venues.registry import DEFAULT_THRESHOLD_PCT, calendars

Level = Literal["plenty", "filling_up", "nearly_full", "closed"]
LEVELS: tuple[Level, ...] = ("plenty", "filling_up", "nearly_full", "closed")
FILLING_BAND_PCT = 30.0
"""How far below the alert threshold "filling up" starts, in points of capacity."""


@dataclass(frozen=True, slots=True)
class PublicVenue:
    id: str
    name: str
    kind: str
    address: str
    subdistrict: str
    community: str
    latitude: float | None
    longitude: float | None
    hours_today: tuple[time, time] | None
    open_now: bool
    level: Level
    occupancy: int | None
    """Only where the venue allows its exact count to be public."""
    capacity: int | None
    """Likewise: with the count, the share is plain; without it, the capacity alone says little
    but is still withheld, so that nothing can be told apart by it."""


def level_of(open_now: bool, occupancy: int, capacity: int, threshold_pct: float) -> Level:
    if not open_now:
        return "closed"
    share = 100.0 * occupancy / capacity if capacity > 0 else 100.0
    threshold = threshold_pct or DEFAULT_THRESHOLD_PCT
    if share >= threshold:
        return "nearly_full"
    if share >= max(0.0, threshold - FILLING_BAND_PCT):
        return "filling_up"
    return "plenty"


def venues(conn: Connection, now: datetime, venue_id: str | None = None) -> list[PublicVenue]:
    """The venues not archived (one, with ``venue_id``), by id."""
    today = now.astimezone(CITY_TZ).date()
    # yesterday's closures too: yesterday's hours may run past midnight into now
    cals = calendars(conn, today - timedelta(days=1), today)
    query = (
        select(
            Venue.id,
            Venue.name,
            Venue.kind,
            Venue.address,
            Venue.latitude,
            Venue.longitude,
            Venue.capacity,
            Venue.alert_threshold_pct,
            Venue.public_count,
            Community.name.label("community"),
            Subdistrict.name.label("subdistrict"),
            VenueOccupancy.occupancy,
        )
        .join(Community, Community.id == Venue.community_id)
        .join(Subdistrict, Subdistrict.id == Community.subdistrict_id)
        .outerjoin(VenueOccupancy, VenueOccupancy.venue_id == Venue.id)
        .where(Venue.archived_at.is_(None))
        .order_by(Venue.id)
    )
    if venue_id is not None:
        query = query.where(Venue.id == venue_id)
    found = []
    for r in conn.execute(query):
        calendar: Calendar = cals[r.id]
        open_now = calendar.is_open(now)
        # the live row is reset at each closing; a venue with no readings yet has none
        occupancy = max(0, min(r.occupancy or 0, r.capacity))
        found.append(
            PublicVenue(
                id=r.id,
                name=r.name,
                kind=r.kind,
                address=r.address,
                subdistrict=r.subdistrict,
                community=r.community,
                latitude=r.latitude,
                longitude=r.longitude,
                hours_today=calendar.hours_on(today),
                open_now=open_now,
                level=level_of(open_now, occupancy, r.capacity, r.alert_threshold_pct),
                occupancy=occupancy if r.public_count else None,
                capacity=r.capacity if r.public_count else None,
            )
        )
    return found
