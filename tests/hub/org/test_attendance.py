"""Check-ins become attendance in the commit that records them: member, activity, unknown cards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hub.ingest.events import EventRecord
from hub.ingest.store import RecordStore
from hub.org.attendance import record_missing_attendance, rematch_activities
from hub.org.models import Attendance
from tests.hub.org.support import City, hashed, tap
from tests.hub.support import BOOT, EdgeClient, StartWorker, checkin, wait_until

KNOWN, STRANGER = "0A1B2C3D4E", "FFEEDDCCBB"
T = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)  # 09:00 in Yuanping


def attendance(engine: Engine) -> dict[str, Attendance]:
    with Session(engine) as session:
        return {r.event_id.hex: r for r in session.scalars(sa.select(Attendance))}


def key(record: EventRecord) -> str:
    return record.event.id.hex


def test_taps_are_matched_to_member_and_activity_or_recorded_as_unknown(
    city: City, store: RecordStore, engine: Engine
) -> None:
    unit = city.add_unit("U01")
    member = city.add_member(unit, card=KNOWN)
    activity = city.add_activity(T, hours=2)
    other = city.add_community("C02", "康乐社区")
    elsewhere = city.add_activity(T, centre=city.add_centre("centre-02", other), community=other)
    city.commit()

    during = tap(KNOWN, T + timedelta(minutes=30))
    at_end = tap(KNOWN, T + timedelta(hours=2))  # the window is [start, end)
    stranger = tap(STRANGER, T + timedelta(minutes=5))
    venue = tap(KNOWN, T, site="venue-01", device="gate-1")  # not a service centre
    result = store.write([during, at_end, stranger, venue])
    assert result.committed == 4

    rows = attendance(engine)
    assert set(rows) == {key(during), key(at_end), key(stranger)}
    assert (rows[key(during)].member_id, rows[key(during)].activity_id) == (member.id, activity.id)
    assert (rows[key(at_end)].member_id, rows[key(at_end)].activity_id) == (member.id, None)
    assert rows[key(stranger)].member_id is None, "an unknown card is recorded, never dropped"
    assert rows[key(stranger)].card_hash == hashed(STRANGER)
    assert rows[key(stranger)].activity_id == activity.id
    assert all(r.community_id == city.community.id for r in rows.values())
    assert elsewhere.id not in {r.activity_id for r in rows.values()}


def test_a_replayed_checkin_makes_no_second_attendance(
    city: City, store: RecordStore, engine: Engine
) -> None:
    city.add_member(city.add_unit("U01"), card=KNOWN)
    city.commit()
    first = tap(KNOWN, T)
    store.write([first, first])  # a message and its redelivery in one batch
    again = store.write([first])  # and once more later
    assert again.committed == 0
    assert again.duplicates == 1
    assert list(attendance(engine)) == [key(first)]
    with engine.begin() as conn:
        assert record_missing_attendance(conn) == 0


def test_city_days_and_months_are_counted_in_asia_shanghai(
    city: City, store: RecordStore, engine: Engine
) -> None:
    city.add_member(city.add_unit("U01"), card=KNOWN)
    city.commit()
    new_year = tap(KNOWN, datetime(2025, 12, 31, 16, 30, tzinfo=UTC))  # 00:30 on 1 January
    last_minute = tap(KNOWN, datetime(2026, 12, 31, 15, 59, tzinfo=UTC))  # 23:59 on 31 Dec
    store.write([new_year, last_minute])
    rows = attendance(engine)
    assert (rows[key(new_year)].local_date, rows[key(new_year)].month) == (
        date(2026, 1, 1),
        "2026-01",
    )
    assert (rows[key(last_minute)].local_date, rows[key(last_minute)].month) == (
        date(2026, 12, 31),
        "2026-12",
    )


def test_an_activity_entered_after_its_taps_takes_them(
    city: City, store: RecordStore, engine: Engine
) -> None:
    city.add_member(city.add_unit("U01"), card=KNOWN)
    city.commit()
    early = tap(KNOWN, T + timedelta(minutes=10))
    store.write([early])
    assert attendance(engine)[key(early)].activity_id is None
    activity = city.add_activity(T, hours=1)
    city.commit()
    with engine.begin() as conn:
        assert rematch_activities(conn, "centre-01", [(T, T + timedelta(hours=1))]) == 1
    assert attendance(engine)[key(early)].activity_id == activity.id


def test_a_centre_registered_after_its_first_taps_gets_them_matched(
    city: City, store: RecordStore, engine: Engine
) -> None:
    member = city.add_member(city.add_unit("U01"), card=KNOWN)
    city.commit()
    before = tap(KNOWN, T, site="centre-09")
    store.write([before])
    assert attendance(engine) == {}
    city.add_centre("centre-09", city.community)
    city.commit()
    with engine.begin() as conn:
        assert record_missing_attendance(conn) == 1
        assert record_missing_attendance(conn) == 0
    assert attendance(engine)[key(before)].member_id == member.id


def test_checkins_over_the_broker_become_attendance_once(
    city: City, engine: Engine, start_worker: StartWorker, edge: Callable[..., EdgeClient]
) -> None:
    """Through a real Mosquitto and the ingest worker: matched in the commit, redelivery absorbed."""
    member = city.add_member(city.add_unit("U01"), card=KNOWN)
    activity = city.add_activity(T)
    city.commit()
    start_worker()
    centre = edge("centre-01")
    events = [
        checkin(1, card=KNOWN, ts=T + timedelta(minutes=1)),
        checkin(2, card=STRANGER, ts=T + timedelta(hours=5)),
    ]
    centre.publish_events(events)
    centre.publish_events(events)  # the edge resends before the receipt arrives
    wait_until(lambda: centre.receipted() == {(BOOT, 1), (BOOT, 2)}, what="receipts")
    rows = attendance(engine)
    assert len(rows) == 2
    assert (rows[events[0].id.hex].member_id, rows[events[0].id.hex].activity_id) == (
        member.id,
        activity.id,
    )
    assert (rows[events[1].id.hex].member_id, rows[events[1].id.hex].activity_id) == (None, None)
