"""Opening hours in the city's time zone: when a venue's occupancy is reset.

A venue's occupancy starts again from zero at its closing time every day (Asia/Shanghai, no
daylight saving). The span from one closing to the next is the venue's *occupancy day*; it is named
by the instant it starts.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hub.org.calendar import CITY_TZ

DAY = timedelta(days=1)


def day_start(at: datetime, closes_at: time) -> datetime:
    """The last closing time at or before ``at`` (UTC): the start of its occupancy day."""
    local = at.astimezone(CITY_TZ)
    closing = datetime.combine(local.date(), closes_at, tzinfo=CITY_TZ)
    if closing > local:
        closing = datetime.combine(local.date() - DAY, closes_at, tzinfo=CITY_TZ)
    return closing.astimezone(UTC)


def resets_between(start: datetime, end: datetime, closes_at: time) -> list[datetime]:
    """Closing times strictly after ``start`` and before ``end``, in UTC."""
    resets: list[datetime] = []
    t = day_start(start, closes_at) + DAY
    while t < end:
        resets.append(t)
        t += DAY
    return resets


def opening_window(day: datetime, opens_at: time, closes_at: time) -> tuple[datetime, datetime]:
    """The opening hours on a local calendar date ``day`` (its midnight, any zone), in UTC; a
    closing time at or before the opening time is on the next day."""
    local_day = day.astimezone(CITY_TZ).date()
    opens = datetime.combine(local_day, opens_at, tzinfo=CITY_TZ)
    closes = datetime.combine(local_day, closes_at, tzinfo=CITY_TZ)
    if closes <= opens:
        closes += DAY
    return opens.astimezone(UTC), closes.astimezone(UTC)
