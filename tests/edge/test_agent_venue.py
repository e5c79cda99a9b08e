"""A venue's edge agent: simulated Modbus sensors on a pty in, contract events and heartbeats out
through the outbox to a real Mosquitto (read back by a subscriber with the hub's account)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from demo.broker.mosquitto import MosquittoBroker
from edge.agent import EdgeAgent
from edge.config import EdgeSettings
from firmware_sim.bay_sensor import BaySensorSim
from firmware_sim.modbus_line import ModbusLine
from firmware_sim.people_counter import PeopleCounterSim
from firmware_sim.sim_loop import SimLoop
from mqtt_contract import topics
from mqtt_contract.models import BaysEvent, CounterEvent, Health, health_of, parse_event
from mqtt_contract.topics import EventKind
from tests.firmware_sim.support import wait_for
from tests.services import ACCOUNTS

SITE = "venue-01"


class Subscriber:
    """Everything the broker passes on under ``yp/v1/venue-01/#``."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-venue-sub")
        self._client.username_pw_set(*ACCOUNTS.hub)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message
        host, port = broker.url.removeprefix("mqtt://").split(":")
        self._client.connect(host, int(port))
        self._client.loop_start()
        assert self._subscribed.wait(10), "subscriber did not subscribe"

    def _on_connect(self, client: mqtt.Client, *_: Any) -> None:
        client.subscribe(f"yp/v1/{SITE}/#", qos=1)

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, message.payload))

    def events(self) -> list[CounterEvent | BaysEvent]:
        with self._lock:
            found = [parse_event(p) for t, p in self.messages if t.endswith(("counter", "bays"))]
        return [e for e in found if isinstance(e, CounterEvent | BaysEvent)]

    def heartbeats(self) -> list[Health]:
        with self._lock:
            return [health_of(p) for t, p in self.messages if t == topics.health(SITE)]

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@pytest.fixture
def subscriber(mosquitto: MosquittoBroker) -> Iterator[Subscriber]:
    sub = Subscriber(mosquitto)
    yield sub
    sub.close()


def test_readings_and_health_reach_the_broker(
    tmp_path: Path, mosquitto: MosquittoBroker, subscriber: Subscriber
) -> None:
    counter, bays = PeopleCounterSim(1, boots=2), BaySensorSim(2, bays=8)
    link = tmp_path / "rs485"
    settings = EdgeSettings(
        site=SITE,
        outbox_path=tmp_path / "outbox.db",
        site_card_key="venue-card-key-0123456789",
        hub_card_public_key="7/LxDwJf29tIPFzSlzdM0FGeZWnyUnBcUDjJ43IHaBw=",
        heartbeat_interval_s=0.2,
        mqtt={"url": mosquitto.url, "password": ACCOUNTS.edge(SITE)[1]},
        devices=[
            {"id": "gate-1", "kind": "people_counter", "port": str(link), "unit_id": 1,
             "poll_interval_s": 0.05, "timeout_s": 0.05},
            {"id": "bays-1", "kind": "bay_sensor", "port": str(link), "unit_id": 2, "bays": 8,
             "poll_interval_s": 0.05, "timeout_s": 0.05},
        ],
    )  # fmt: skip
    with SimLoop() as loop, ModbusLine(loop, link, [counter, bays]) as line:
        agent = EdgeAgent(settings)
        agent.start()
        try:
            counter.count(entered=3, left=1)
            bays.set_bay(8, True)

            def latest(kind: type[CounterEvent | BaysEvent]) -> Any:
                found = [e for e in subscriber.events() if isinstance(e, kind)]
                return found[-1].data if found else None

            wait_for(
                lambda: latest(CounterEvent) is not None and latest(CounterEvent).count_in == 3
            )
            wait_for(lambda: latest(BaysEvent) is not None and latest(BaysEvent).bays == "00000001")
            line.silence(1)

            def gate_state() -> str | None:
                beats = subscriber.heartbeats()
                gate = [d for d in beats[-1].devices if d.id == "gate-1"] if beats else []
                return gate[0].state if gate else None

            wait_for(lambda: gate_state() == "degraded", what="the heartbeat to say degraded")
        finally:
            agent.stop()
    events = subscriber.events()
    assert {e.boot for e in events} == {agent.boot}
    seqs = [e.seq for e in events]
    assert len(seqs) == len(set(seqs))
    first_counter = next(e for e in events if isinstance(e, CounterEvent))
    assert first_counter.device == "gate-1"
    assert first_counter.data.device_boots == 2
    last = subscriber.heartbeats()[-1]
    gate = next(d for d in last.devices if d.id == "gate-1")
    assert gate.kind == "people_counter"
    assert gate.timeouts >= 3
    bays_health = next(d for d in last.devices if d.id == "bays-1")
    assert bays_health.state == "ok"
    assert bays_health.kind == "bay_sensor"
    stored = agent_topics(tmp_path / "outbox.db")
    assert topics.event(SITE, "gate-1", EventKind.COUNTER) in stored
    assert topics.event(SITE, "bays-1", EventKind.BAYS) in stored


def agent_topics(outbox: Path) -> set[str]:
    with sqlite3.connect(outbox) as db:
        return {t for (t,) in db.execute("SELECT topic FROM outbox")}
