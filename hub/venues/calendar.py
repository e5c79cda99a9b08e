"""A venue's calendar: on which local dates (Asia/Shanghai) it opens, and when.

A date's opening hours are its weekday's own (a ``venue_hours`` row; both times ``NULL``: closed
that weekday), else the venue's every-day ``opens_at``-``closes_at``; a closure covering the date
closes it all day. A closing time at or before the opening time is on the next day.

The *occupancy day* (when occupancy resets to zero) turns over at each date's closing time: the
weekday's own closing time, else the venue's. A closed weekday or a closure does not move it (it
turns over at the venue's closing time then), so that a closure added afterwards never re-keys
the occupancy already counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from hub.org.calendar import CITY_TZ

DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class WeekdayHours:
    """A weekday's own hours (0 is Monday); ``None`` times: closed that weekday."""

    weekday: int
    opens_at: time | None
    closes_at: time | None


@dataclass(frozen=True, slots=True)
class Closure:
    starts_on: date
    ends_on: date

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(frozen=True, slots=True)
class Calendar:
    """A venue's hours and closures. ``closures`` may hold only those that matter to the caller
    (the live state loads the current ones, a report its month's)."""

    opens_at: time
    closes_at: time
    weekdays: tuple[WeekdayHours, ...] = ()
    closures: tuple[Closure, ...] = ()

    def _own(self, day: date) -> WeekdayHours | None:
        return next((w for w in self.weekdays if w.weekday == day.weekday()), None)

    def hours_on(self, day: date) -> tuple[time, time] | None:
        """The opening and closing time of a local date; ``None``: closed all day."""
        if any(c.covers(day) for c in self.closures):
            return None
        own = self._own(day)
        if own is None:
            return self.opens_at, self.closes_at
        if own.opens_at is None or own.closes_at is None:
            return None
        return own.opens_at, own.closes_at

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The opening hours of a local date in UTC; ``None``: closed all day."""
        hours = self.hours_on(day)
        return None if hours is None else _window(day, *hours)

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` is within the opening hours (of its date, or of the day before when
        those run past midnight)."""
        local = at.astimezone(CITY_TZ).date()
        for day in (local - DAY, local):
            window = self.window(day)
            if window is not None and window[0] <= at < window[1]:
                return True
        return False

    def closing(self, day: date) -> datetime:
        """When the occupancy day of a local date ends, in UTC (closures left aside)."""
        own = self._own(day)
        if own is not None and own.opens_at is not None and own.closes_at is not None:
            return _window(day, own.opens_at, own.closes_at)[1]
        return _window(day, self.opens_at, self.closes_at)[1]

    def day_start(self, at: datetime) -> datetime:
        """The last closing time at or before ``at`` (UTC): the start of its occupancy day."""
        local = at.astimezone(CITY_TZ).date()
        return max(c for c in (self.closing(local - n * DAY) for n in range(3)) if c <= at)

    def resets_between(self, start: datetime, end: datetime) -> list[datetime]:
        """Closing times strictly after ``start`` and before ``end``, in UTC, in order."""
        first = start.astimezone(CITY_TZ).date() - 2 * DAY
        last = end.astimezone(CITY_TZ).date()
        days = (first + n * DAY for n in range((last - first).days + 1))
        return sorted({c for c in map(self.closing, days) if start < c < end})


def _window(day: date, opens_at: time, closes_at: time) -> tuple[datetime, datetime]:
    opens = datetime.combine(day, opens_at, tzinfo=CITY_TZ)
    closes = datetime.combine(day, closes_at, tzinfo=CITY_TZ)
    if closes <= opens:
        closes += DAY
    return opens.astimezone(UTC), closes.astimezone(UTC)


def every_day(opens_at: time, closes_at: time) -> Calendar:
    """A venue open every day at the same hours."""
    return Calendar(opens_at, closes_at)


def build(
    opens_at: time,
    closes_at: time,
    weekdays: Iterable[WeekdayHours] = (),
    closures: Iterable[Closure] = (),
) -> Calendar:
    return Calendar(
        opens_at,
        closes_at,
        tuple(sorted(weekdays, key=lambda w: w.weekday)),
        tuple(sorted(closures, key=lambda c: c.starts_on)),
    )
