"""A venue's calendar: weekday hours, closed weekdays, closures, hours past midnight, and the
occupancy day's turnover at each date's own closing time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from hub.org.calendar import CITY_TZ
from hub.venues.calendar import Calendar, Closure, WeekdayHours, build, every_day
from hub.venues.hours import day_start, resets_between

FRIDAY, SATURDAY, SUNDAY = date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 29)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=CITY_TZ).astimezone(UTC)


def week() -> Calendar:
    """06:00-22:00 every day; Saturday 08:00-20:00; Sunday closed."""
    return build(
        time(6),
        time(22),
        [WeekdayHours(6, None, None), WeekdayHours(5, time(8), time(20))],
    )


def test_a_weekday_has_its_own_hours_or_is_closed() -> None:
    calendar = week()
    assert calendar.hours_on(FRIDAY) == (time(6), time(22))
    assert calendar.window(SATURDAY) == (local(SATURDAY, 8), local(SATURDAY, 20))
    assert calendar.window(SUNDAY) is None
    assert calendar.is_open(local(FRIDAY, 21, 59))
    assert not calendar.is_open(local(FRIDAY, 22))
    assert not calendar.is_open(local(SATURDAY, 7, 59))
    assert calendar.is_open(local(SATURDAY, 8))
    assert not calendar.is_open(local(SATURDAY, 21))  # open till 22:00 on other days only
    assert not calendar.is_open(local(SUNDAY, 12))


def test_a_closure_closes_whole_days_whatever_the_hours() -> None:
    calendar = build(time(6), time(22), closures=[Closure(FRIDAY, SATURDAY)])
    assert calendar.window(FRIDAY) is None
    assert calendar.window(SATURDAY) is None
    assert not calendar.is_open(local(FRIDAY, 12))
    assert calendar.window(SUNDAY) == (local(SUNDAY, 6), local(SUNDAY, 22))
    assert calendar.is_open(local(SUNDAY, 12))


def test_hours_past_midnight_belong_to_the_day_they_open() -> None:
    calendar = build(time(18), time(2), closures=[Closure(SATURDAY, SATURDAY)])
    assert calendar.window(FRIDAY) == (local(FRIDAY, 18), local(SATURDAY, 2))
    assert calendar.is_open(local(SATURDAY, 1))  # Friday's evening, Saturday is closed
    assert not calendar.is_open(local(SATURDAY, 19))
    assert not calendar.is_open(local(SUNDAY, 1))  # Saturday's evening: closed


def test_the_occupancy_day_turns_over_at_each_dates_own_closing_time() -> None:
    calendar = week()
    # Saturday closes at 20:00: the day after starts then, not at 22:00
    assert calendar.day_start(local(SATURDAY, 19, 59)) == local(FRIDAY, 22)
    assert calendar.day_start(local(SATURDAY, 20)) == local(SATURDAY, 20)
    assert calendar.day_start(local(SATURDAY, 23)) == local(SATURDAY, 20)
    # Sunday is closed: its day still turns over at the venue's closing time
    assert calendar.day_start(local(SUNDAY, 23)) == local(SUNDAY, 22)
    assert calendar.resets_between(local(FRIDAY, 12), local(SUNDAY, 23)) == [
        local(FRIDAY, 22),
        local(SATURDAY, 20),
        local(SUNDAY, 22),
    ]
    # a closure does not move it (occupancy already counted keeps its day)
    closed = build(time(6), time(22), closures=[Closure(SATURDAY, SATURDAY)])
    assert closed.day_start(local(SATURDAY, 23)) == every_day(time(6), time(22)).day_start(
        local(SATURDAY, 23)
    )


def test_every_day_is_the_old_closing_to_closing_day() -> None:
    """Without weekday hours the calendar is the one closing time every day (hub.venues.hours)."""
    calendar = every_day(time(6), time(22))
    for at in (local(FRIDAY, 21, 59), local(FRIDAY, 22), local(SATURDAY, 3)):
        assert calendar.day_start(at) == day_start(at, time(22))
    start, end = local(FRIDAY, 1), local(SUNDAY, 23)
    assert calendar.resets_between(start, end) == resets_between(start, end, time(22))
