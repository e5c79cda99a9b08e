"""The venue-sharing records of a month: per venue and per owner unit, who opened what, how
often it was in use, how many came and how full it was, from the hourly rollups.

- ``open_days``: local days on which someone came in during the opening hours (an open session);
  a day the venue's calendar closes (a closed weekday, a closure) is never one.
- ``visits``: people in (sum of the gates' in-deltas; bay arrivals where a venue has no gates).
- ``peak``: the highest occupancy of the month; ``mean_occupancy``: the mean over the opening
  hours that have data; ``utilisation_pct``: that mean against capacity.
- ``open_hours``: opening hours the calendar gives in the month (weekday hours, closures); ``observed_hours``: those of
  them with readings (sensors and edge up).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, select

from hub.org.calendar import CITY_TZ
from hub.org.models import Unit
from hub.venues.calendar import Calendar
from hub.venues.models import OccupancyRollup, Venue
from hub.venues.registry import calendars


@dataclass(frozen=True, slots=True)
class VenueMonth:
    venue_id: str
    name: str
    kind: str
    unit_id: int
    unit_name: str
    capacity: int
    open_days: int
    visits: int
    peak: int
    mean_occupancy: float
    utilisation_pct: float
    open_hours: float
    observed_hours: int


@dataclass(frozen=True, slots=True)
class UnitMonth:
    unit_id: int
    unit_name: str
    venues: int
    capacity: int
    open_days: int
    visits: int
    peak_pct: float
    utilisation_pct: float


@dataclass(frozen=True, slots=True)
class DaySession:
    day: date
    opens: datetime
    closes: datetime
    visits: int
    peak: int
    mean_occupancy: float
    first_visit_at: datetime | None
    last_visit_at: datetime | None


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """``YYYY-MM`` to its first instant and the next month's, in the city, as aware datetimes."""
    year, mon = (int(p) for p in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=CITY_TZ)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=CITY_TZ)
    return start, end


def _days(start: datetime, end: datetime) -> list[datetime]:
    """The local midnights of the month (the city keeps no daylight saving)."""
    days, day = [], start
    while day < end:
        days.append(day)
        day += timedelta(days=1)
    return days


def venue_sharing(conn: Connection, month: str) -> tuple[list[VenueMonth], list[UnitMonth]]:
    start, end = month_bounds(month)
    venues = conn.execute(
        select(
            Venue.id,
            Venue.name,
            Venue.kind,
            Venue.unit_id,
            Unit.name.label("unit_name"),
            Venue.capacity,
            Venue.opens_at,
            Venue.closes_at,
        )
        .join(Unit, Unit.id == Venue.unit_id)
        .order_by(Venue.id)
    ).all()
    r = OccupancyRollup
    hours: dict[str, list[tuple[datetime, int, int, float]]] = defaultdict(list)
    for row in conn.execute(
        select(r.venue_id, r.bucket_start, r.visits, r.peak, r.mean).where(
            r.step == "1h", r.bucket_start >= start, r.bucket_start < end
        )
    ):
        hours[row.venue_id].append((row.bucket_start, row.visits, row.peak, row.mean))
    days = _days(start, end)
    calendar = calendars(conn, days[0].date(), days[-1].date())
    result: list[VenueMonth] = []
    for v in venues:
        windows = [w for d in days if (w := calendar[v.id].window(d.date())) is not None]
        open_hours = sum((c - o).total_seconds() for o, c in windows) / 3600
        in_window: list[tuple[int, datetime, int, float]] = []
        for at, visits, _peak, mean in hours.get(v.id, []):
            for i, (o, c) in enumerate(windows):
                if o <= at < c:
                    in_window.append((i, at, visits, mean))
                    break
        open_days = len({i for i, _at, visits, _m in in_window if visits > 0})
        observed = len(in_window)
        mean_occupancy = sum(m for *_x, m in in_window) / observed if observed else 0.0
        rows = hours.get(v.id, [])
        result.append(
            VenueMonth(
                venue_id=v.id,
                name=v.name,
                kind=v.kind,
                unit_id=v.unit_id,
                unit_name=v.unit_name,
                capacity=v.capacity,
                open_days=open_days,
                visits=sum(x[1] for x in rows),
                peak=max((x[2] for x in rows), default=0),
                mean_occupancy=round(mean_occupancy, 2),
                utilisation_pct=round(100 * mean_occupancy / v.capacity, 2),
                open_hours=round(open_hours, 2),
                observed_hours=observed,
            )
        )
    return result, by_unit(result)


def by_unit(venues: list[VenueMonth]) -> list[UnitMonth]:
    """Per owner unit: occupancy-hours against capacity-hours over the hours observed."""
    groups: dict[int, list[VenueMonth]] = defaultdict(list)
    for v in venues:
        groups[v.unit_id].append(v)
    out = []
    for unit_id, vs in sorted(groups.items()):
        used = sum(v.mean_occupancy * v.observed_hours for v in vs)
        offered = sum(v.capacity * v.observed_hours for v in vs)
        out.append(
            UnitMonth(
                unit_id=unit_id,
                unit_name=vs[0].unit_name,
                venues=len(vs),
                capacity=sum(v.capacity for v in vs),
                open_days=sum(v.open_days for v in vs),
                visits=sum(v.visits for v in vs),
                peak_pct=round(max(100 * v.peak / v.capacity for v in vs), 2),
                utilisation_pct=round(100 * used / offered, 2) if offered else 0.0,
            )
        )
    return out


def month_calendar(conn: Connection, venue_id: str, month: str) -> Calendar:
    """A venue's calendar with the month's closures."""
    start, end = month_bounds(month)
    return calendars(conn, start.date(), (end - timedelta(days=1)).date())[venue_id]


def day_sessions(
    conn: Connection, venue_id: str, calendar: Calendar, month: str
) -> list[DaySession]:
    """Each day of the month on which someone came during opening hours (``calendar``: the
    venue's, with the month's closures; a closed day has none), from the 5-minute rollups: first
    and last visit to the 5 minutes."""
    start, end = month_bounds(month)
    r = OccupancyRollup
    rows = conn.execute(
        select(r.bucket_start, r.visits, r.peak, r.mean)
        .where(
            r.venue_id == venue_id,
            r.step == "5m",
            r.bucket_start >= start - timedelta(days=1),
            r.bucket_start < end + timedelta(days=1),
        )
        .order_by(r.bucket_start)
    ).all()
    sessions = []
    for day in _days(start, end):
        window = calendar.window(day.date())
        if window is None:
            continue
        opens, closes = window
        inside = [row for row in rows if opens <= row.bucket_start < closes]
        visited = [row for row in inside if row.visits > 0]
        if not visited:
            continue
        sessions.append(
            DaySession(
                day=day.date(),
                opens=opens,
                closes=closes,
                visits=sum(row.visits for row in inside),
                peak=max(row.peak for row in inside),
                mean_occupancy=round(sum(row.mean for row in inside) / len(inside), 2),
                first_visit_at=visited[0].bucket_start,
                last_visit_at=visited[-1].bucket_start + timedelta(minutes=5),
            )
        )
    return sessions
