"""A venue's calendar in the occupancy path, on SQLite and PostgreSQL, alerts through a real
Mosquitto to the venue's own downlink: a closed day (a closure, a closed weekday) is neither an
open day in the venue-sharing report nor a day with alerts; a capacity or threshold changed
through the API judges the very next readings."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from demo.broker.mosquitto import MosquittoBroker
from hub.auth import Role
from hub.composition import build_app, build_store
from hub.core.settings import HubSettings
from hub.ingest.link import BrokerLink
from hub.metrics import HubMetrics
from hub.venues import admin, reports
from hub.venues.models import Venue
from hub.venues.occupancy import GateReading
from hub.venues.service import OccupancyService
from mqtt_contract.models import CounterData, CounterEvent
from tests.hub.support import ApiServer, Db, EdgeClient, StartWorker, wait_until
from tests.hub.venues.support import (
    EDGE_BOOT,
    T0,
    closing_hours_ago,
    counter_record,
    register_venue,
)
from tests.hub.venues.test_api import AlertListener
from tests.users import user_token

FRIDAY = T0  # 2026-11-27 08:00 in Yuanping
SATURDAY, SUNDAY, MONDAY = (T0 + timedelta(days=n) for n in (1, 2, 3))


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def test_a_closed_day_is_neither_an_open_day_nor_a_day_with_alerts(
    hub_settings: HubSettings, engine: Engine, mosquitto: MosquittoBroker, db: Db
) -> None:
    # venue-01, 10 places, alert at 90 %: closed on Saturday (a closure) and on Sundays
    register_venue(engine, "venue-01", capacity=10)
    with Session(engine) as session:
        venue = session.get_one(Venue, "venue-01")
        admin.set_hours(session, venue, [admin.DayHours(6, None, None)])
        admin.add_closure(
            session,
            venue,
            starts_on=date(2026, 11, 28),
            ends_on=date(2026, 11, 28),
            reason="运动会场地布置",
        )
        session.commit()
    listener = AlertListener(mosquitto, "venue-01")
    link = BrokerLink(hub_settings, lambda _message: None, HubMetrics())
    link.start()
    clock = Clock(FRIDAY)
    try:
        assert link.wait_ready(10), "the hub's broker link did not connect"
        service = OccupancyService(engine, CollectorRegistry(), publish=link.publish, clock=clock)
        store = build_store(engine)
        seq = iter(range(1, 100))
        base = 500

        def day_at(morning: datetime) -> None:
            """Nine come in at 08:03 (90 %), all leave by 08:07."""
            nonlocal base
            for minutes, count_in, count_out in ((0, 0, 0), (3, 9, 0), (7, 9, 9)):
                at = morning + timedelta(minutes=minutes)
                clock.now = at + timedelta(seconds=1)
                r = GateReading(
                    "gate-1", 1, EDGE_BOOT, next(seq), at, base + count_in, base + count_out
                )
                batch = [counter_record("venue-01", r)]
                store.write(batch)
                service.after_commit(batch)
            base += 9

        day_at(FRIDAY)
        wait_until(lambda: listener.states() == ["raised", "cleared"], 30, "Friday's alert")
        day_at(SATURDAY)  # the closure
        day_at(SUNDAY)  # a closed weekday
        assert db.rows("SELECT count(*) FROM capacity_alerts") == [(1,)], "none while closed"
        day_at(MONDAY)
        # the next message the venue gets is Monday's: none was sent on the closed days
        wait_until(
            lambda: listener.states() == ["raised", "cleared", "raised", "cleared"],
            30,
            "Monday's alert",
        )
        assert [a.at.astimezone(UTC).date() for a in listener.alerts] == [
            FRIDAY.date(),
            FRIDAY.date(),
            MONDAY.date(),
            MONDAY.date(),
        ]
        service.roll_up(MONDAY + timedelta(hours=2))
    finally:
        link.close()
        listener.close()

    with engine.connect() as conn:
        (month,), _units = reports.venue_sharing(conn, "2026-11")
        calendar = reports.month_calendar(conn, "venue-01", "2026-11")
        sessions = reports.day_sessions(conn, "venue-01", calendar, "2026-11")
    assert month.visits == 4 * 9, "people came on all four days"
    assert month.open_days == 2, "Friday and Monday; not the closure, not the closed Sunday"
    assert [s.day for s in sessions] == [FRIDAY.date(), MONDAY.date()]
    # November's opening hours: 30 days of 16 h, less Saturday 28th and the five Sundays
    assert month.open_hours == (30 - 1 - 5) * 16


def test_a_changed_threshold_and_capacity_judge_the_next_readings(
    hub_settings: HubSettings,
    engine: Engine,
    start_worker: StartWorker,
    edge: Callable[..., EdgeClient],
    mosquitto: MosquittoBroker,
    db: Db,
) -> None:
    """Through the API of the hub that runs the ingest, as its venue manager: the occupancy
    service reloads the venue at once (not after its cache's 30 s)."""
    now = datetime.now(UTC)
    register_venue(
        engine,
        "venue-01",
        capacity=20,
        closes_at=closing_hours_ago(now, 3),
        opens_at=closing_hours_ago(now, 2),  # open now
    )
    listener = AlertListener(mosquitto, "venue-01")
    worker = start_worker()
    url = hub_settings.database_url
    unit = db.rows("SELECT unit_id FROM venues WHERE id = 'venue-01'")[0][0]
    manager = user_token(url, Role.VENUE_MANAGER, unit=unit, username="manager-zhao")
    client = edge("venue-01")
    boot = uuid.uuid4()
    seq = iter(range(1, 100))

    def people(inside: int) -> None:
        n = next(seq)
        client.publish_events(
            [
                CounterEvent(
                    id=uuid.uuid4(),
                    site="venue-01",
                    device="gate-1",
                    boot=boot,
                    seq=n,
                    ts=now - timedelta(seconds=100 - n),
                    data=CounterData(
                        unit_id=1, device_boots=1, count_in=100 + inside, count_out=100
                    ),
                )
            ]
        )

    def live() -> list[tuple[object, ...]]:
        return [tuple(r) for r in db.rows("SELECT occupancy, capacity FROM venue_occupancy")]

    try:
        with ApiServer(build_app(hub_settings, ingest=worker), token=manager) as api:
            people(0)
            people(15)  # 75 %: below 90 %
            wait_until(lambda: live() == [(15, 20)], what="occupancy 15 of 20")
            assert db.rows("SELECT count(*) FROM capacity_alerts") == [(0,)]
            patched = api.http.patch(
                "/api/v1/venue-registry/venue-01", json={"alert_threshold_pct": 70.0}
            )
            assert patched.status_code == 200, patched.text
            people(15)  # the same 15: now at or above 70 %
            wait_until(lambda: listener.states() == ["raised"], what="the alert at 70 %")
            assert listener.alerts[0].threshold_pct == 70.0
            patched = api.http.patch("/api/v1/venue-registry/venue-01", json={"capacity": 40})
            assert patched.status_code == 200, patched.text
            people(16)  # 16 of 40: 40 %, below 70 % less the hysteresis
            wait_until(lambda: listener.states() == ["raised", "cleared"], what="the clear")
            assert live() == [(16, 40)]
            assert listener.alerts[1].capacity == 20, "the alert's own capacity, as raised"
    finally:
        listener.close()
