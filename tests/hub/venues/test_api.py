"""The venue endpoints on SQLite and PostgreSQL, and the whole path through a real Mosquitto:
readings published by a venue's edge become live occupancy, a capacity alert reaches the edge
(sent by the hub's own broker link and received by the venue's account, never a stub)."""

from __future__ import annotations

import csv
import io
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import CollectorRegistry

from demo.broker.mosquitto import MosquittoBroker
from hub.api import create_app
from hub.composition import build_store
from hub.core.db import make_engine
from hub.core.settings import HubSettings
from hub.ingest.link import BrokerLink
from hub.metrics import HubMetrics
from hub.venues.alerts import Publish
from hub.venues.occupancy import GateReading
from hub.venues.service import OccupancyService
from mqtt_contract import topics
from mqtt_contract.models import CapacityAlert, CounterData, CounterEvent
from mqtt_contract.topics import Command
from tests.hub.support import ApiServer, Db, EdgeClient, StartWorker, wait_until
from tests.hub.venues.support import (
    EDGE_BOOT,
    T0,
    closing_hours_ago,
    counter_record,
    register_venue,
)
from tests.services import ACCOUNTS


def _ingest_day(db_settings: HubSettings, publish: Publish) -> None:
    """venue-01 (capacity 10): 9 people by 08:03 local, 4 leave at 08:07; venue-02 idle."""
    engine = make_engine(db_settings.database_url)
    try:
        register_venue(engine, "venue-01", capacity=10, unit="原平市体育中心")
        register_venue(engine, "venue-02", capacity=40, kind="car_park", unit="原平市第一中学")
        service = OccupancyService(engine, CollectorRegistry(), publish=publish, clock=lambda: T0)
        store = build_store(engine)
        readings = [
            GateReading("gate-1", 1, EDGE_BOOT, 1, T0, 500, 480),
            GateReading("gate-1", 1, EDGE_BOOT, 2, T0 + timedelta(minutes=3), 509, 480),
            GateReading("gate-1", 1, EDGE_BOOT, 3, T0 + timedelta(minutes=7), 509, 484),
        ]
        for r in readings:
            batch = [counter_record("venue-01", r)]
            store.write(batch)
            service.after_commit(batch)
        service.roll_up(T0 + timedelta(minutes=30))
    finally:
        engine.dispose()


def test_venues_occupancy_alerts_and_the_monthly_report(
    hub_settings: HubSettings, mosquitto: MosquittoBroker
) -> None:
    # The alerts go out as in the hub: on its broker link, to the venue's downlink on Mosquitto.
    listener = AlertListener(mosquitto, "venue-01")
    link = BrokerLink(hub_settings, lambda _message: None, HubMetrics())
    link.start()
    try:
        assert link.wait_ready(10), "the hub's broker link did not connect"
        _ingest_day(hub_settings, link.publish)
        wait_until(lambda: listener.states() == ["raised", "cleared"], 30, "raise and clear")
    finally:
        link.close()
        listener.close()
    raised, cleared = listener.alerts
    assert (raised.site, raised.venue, raised.occupancy, raised.capacity) == (
        "venue-01",
        "venue-01",
        9,
        10,
    )
    assert (cleared.venue, cleared.occupancy, cleared.threshold_pct) == ("venue-01", 5, 90.0)
    assert raised.threshold_pct == 90.0
    _check_the_api(hub_settings, raised, cleared)


def _check_the_api(db_settings: HubSettings, raised: CapacityAlert, cleared: CapacityAlert) -> None:
    with ApiServer(create_app(db_settings)) as api:
        venues = api.get("/api/v1/venues").json()
        assert venues["count"] == 2
        first = venues["data"][0]
        assert (first["id"], first["unit_name"], first["live"]["occupancy"]) == (
            "venue-01",
            "原平市体育中心",
            5,
        )
        assert first["live"]["visits_today"] == 9
        assert first["alert"] is None  # raised at 9 of 10, cleared at 5
        assert venues["data"][1]["live"] is None
        assert api.get("/api/v1/venues", alerting="true").json()["count"] == 0
        assert api.get("/api/v1/venues", kind="car_park").json()["data"][0]["id"] == "venue-02"

        detail = api.get("/api/v1/venues/venue-01").json()
        assert detail["capacity"] == 10
        assert api.get("/api/v1/venues/venue-99").status_code == 404

        series = api.get(
            "/api/v1/venues/venue-01/occupancy",
            **{"from": T0.isoformat(), "to": (T0 + timedelta(minutes=15)).isoformat()},
        ).json()
        assert [(p["peak"], p["last"], p["visits"]) for p in series["data"]] == [
            (9, 9, 9),
            (9, 5, 0),
        ]
        hourly = api.get(
            "/api/v1/venues/venue-01/occupancy",
            step="1h",
            **{"from": (T0 - timedelta(hours=1)).isoformat(), "to": T0.isoformat()},
        )
        assert hourly.json()["count"] == 0  # the hour of T0 starts at T0: not before "to"
        bad = api.get("/api/v1/venues/venue-01/occupancy", step="10m")
        assert bad.status_code == 422

        assert api.get("/api/v1/alerts", state="open").json()["count"] == 0
        alerts = api.get("/api/v1/alerts", state="cleared").json()
        assert alerts["count"] == 1
        (alert,) = alerts["data"]
        assert (alert["venue_id"], alert["peak_occupancy"], alert["occupancy_at_clear"]) == (
            "venue-01",
            9,
            5,
        )
        assert alert["published"] is True  # and the messages that went out say the same
        assert datetime.fromisoformat(alert["raised_at"]) == raised.at
        assert datetime.fromisoformat(alert["cleared_at"]) == cleared.at
        unit_id = first["unit_id"]
        assert api.get("/api/v1/alerts", unit=unit_id + 1000).json()["count"] == 0

        month = T0.astimezone(UTC).strftime("%Y-%m")
        report = api.get("/api/v1/reports/venue-sharing", month=month).json()
        row = next(v for v in report["venues"] if v["venue_id"] == "venue-01")
        assert (row["visits"], row["peak"], row["open_days"]) == (9, 9, 1)
        assert row["observed_hours"] == 1
        assert row["utilisation_pct"] > 0
        units = {u["unit_name"]: u for u in report["units"]}
        assert units["原平市体育中心"]["visits"] == 9
        assert units["原平市第一中学"]["utilisation_pct"] == 0.0
        sessions = api.get("/api/v1/venues/venue-01/sessions", month=month).json()
        assert sessions["count"] == 1
        assert sessions["data"][0]["visits"] == 9

        response = api.get("/api/v1/reports/venue-sharing", month=month, format="csv")
        assert response.headers["content-type"].startswith("text/csv")
        text = response.content.decode("utf-8-sig")
        table = list(csv.DictReader(io.StringIO(text)))
        assert [r["venue_id"] for r in table] == ["venue-01", "venue-02"]
        assert table[0]["visits"] == "9"
        by_unit = api.get(
            "/api/v1/reports/venue-sharing", month=month, format="csv", by="unit"
        ).content.decode("utf-8-sig")
        assert "原平市体育中心" in by_unit
        assert api.get("/api/v1/reports/venue-sharing", month="2026-13").status_code == 422


class AlertListener:
    """A venue's edge, as far as alerts go: subscribed to its own downlink."""

    def __init__(self, broker: MosquittoBroker, site: str) -> None:
        self.alerts: list[CapacityAlert] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        user, password = ACCOUNTS.edge(site)
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"test-alerts-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.username_pw_set(user, password)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe(topics.command(site, Command.ALERT), qos=1)
        assert subscribed.wait(5)

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.alerts.append(CapacityAlert.model_validate_json(message.payload))

    def states(self) -> list[str]:
        with self._lock:
            return [a.state for a in self.alerts]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_readings_through_the_broker_become_occupancy_and_an_alert_reaches_the_edge(
    hub_settings: HubSettings,
    start_worker: StartWorker,
    edge: Callable[..., EdgeClient],
    mosquitto: MosquittoBroker,
    db: Db,
) -> None:
    now = datetime.now(UTC)
    engine = make_engine(hub_settings.database_url)
    # open now (no alert is raised while a venue is closed), its occupancy day began 3 h ago
    register_venue(
        engine,
        "venue-01",
        capacity=20,
        closes_at=closing_hours_ago(now, 3),
        opens_at=closing_hours_ago(now, 2),
    )
    engine.dispose()
    listener = AlertListener(mosquitto, "venue-01")
    try:
        start_worker()
        client = edge("venue-01")
        boot = uuid.uuid4()

        def reading(seq: int, count_in: int, count_out: int, device_boots: int = 4) -> CounterEvent:
            return CounterEvent(
                id=uuid.uuid4(),
                site="venue-01",
                device="gate-1",
                boot=boot,
                seq=seq,
                ts=now - timedelta(seconds=60 - seq),
                data=CounterData(
                    unit_id=1, device_boots=device_boots, count_in=count_in, count_out=count_out
                ),
            )

        # from 2**32 - 3 across the wrap to 15 in; a power loss; 4 more from zero; 1 out
        events = [
            reading(1, 2**32 - 3, 7),
            reading(2, 12, 7),
            reading(3, 0, 0, device_boots=5),
            reading(4, 4, 1, device_boots=5),
        ]
        client.publish_events([*reversed(events), events[1]])  # out of order, one twice
        wait_until(lambda: listener.states() == ["raised"], what="the raised alert at the edge")
        (alert,) = listener.alerts
        assert (alert.venue, alert.capacity, alert.threshold_pct) == ("venue-01", 20, 90.0)
        wait_until(
            lambda: db.rows("SELECT occupancy FROM venue_occupancy") == [(15 + 4 - 1,)],
            what="occupancy 18",
        )
        client.publish_events([reading(5, 4, 6, device_boots=5)])  # 5 out: 13 = 65 %
        wait_until(lambda: listener.states() == ["raised", "cleared"], what="the clear")
        assert db.rows("SELECT occupancy FROM venue_occupancy") == [(13,)]

        def published() -> list[tuple[object, ...]]:
            rows = db.rows(
                "SELECT raised_published_at IS NOT NULL, cleared_published_at IS NOT NULL "
                "FROM capacity_alerts"
            )
            return [tuple(r) for r in rows]

        # the hub marks an alert published after the broker took it, so after the edge may see it
        wait_until(lambda: published() == [(True, True)], what="both alerts marked published")
    finally:
        listener.close()
