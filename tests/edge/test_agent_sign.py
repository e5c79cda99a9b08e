"""A venue's edge agent and its sign: a capacity alert on the site's downlink (published on a real
Mosquitto with the hub's account) lights the simulated sign on the venue's pty line and a clear
puts it out; the heartbeat shows the sign; a site without a sign logs the alert and drops it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from demo.broker.mosquitto import MosquittoBroker
from edge.agent import EdgeAgent
from edge.config import EdgeSettings
from edge.sign import AlertShown
from firmware_sim.modbus_line import ModbusLine
from firmware_sim.people_counter import PeopleCounterSim
from firmware_sim.sim_loop import SimLoop
from firmware_sim.venue_sign import VenueSignSim
from mqtt_contract import topics
from mqtt_contract.models import CapacityAlert, Health, health_of
from mqtt_contract.topics import Command
from tests.firmware_sim.support import wait_for
from tests.services import ACCOUNTS

SITE = "venue-01"
FAST = {"poll_interval_s": 0.05, "timeout_s": 0.05}


def alert(state: str, occupancy: int, capacity: int = 20) -> CapacityAlert:
    return CapacityAlert.model_validate(
        {
            "site": SITE,
            "venue": SITE,
            "state": state,
            "occupancy": occupancy,
            "capacity": capacity,
            "threshold_pct": 90.0,
            "at": datetime.now(UTC),
        }
    )


class Hub:
    """The hub's side of the broker: publishes downlinks, hears the site's heartbeats."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.beats: list[Health] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-sign-hub")
        self._client.username_pw_set(*ACCOUNTS.hub)
        self._client.on_subscribe = lambda *_: subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", broker.port)
        self._client.loop_start()
        self._client.subscribe(topics.health(SITE), qos=0)
        assert subscribed.wait(10), "the hub's client did not subscribe"

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.beats.append(health_of(message.payload))

    def send(self, message: CapacityAlert) -> None:
        info = self._client.publish(topics.command(SITE, Command.ALERT), message.to_bytes(), qos=1)
        info.wait_for_publish(10)

    def heard(self) -> bool:
        """A heartbeat came: the site subscribed to its downlink before sending it."""
        with self._lock:
            return bool(self.beats)

    def sign_health(self) -> tuple[str, str] | None:
        with self._lock:
            beats = list(self.beats)
        signs = [d for d in beats[-1].devices if d.id == "sign-1"] if beats else []
        return (signs[0].kind, signs[0].state) if signs else None

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@pytest.fixture
def hub(mosquitto: MosquittoBroker) -> Iterator[Hub]:
    client = Hub(mosquitto)
    yield client
    client.close()


def settings(
    tmp_path: Path, broker: MosquittoBroker, devices: list[dict[str, Any]]
) -> EdgeSettings:
    return EdgeSettings(
        site=SITE,
        outbox_path=tmp_path / "outbox.db",
        site_card_key="venue-card-key-0123456789",
        hub_card_public_key="7/LxDwJf29tIPFzSlzdM0FGeZWnyUnBcUDjJ43IHaBw=",
        heartbeat_interval_s=0.2,
        mqtt={"url": broker.url, "password": ACCOUNTS.edge(SITE)[1]},
        devices=devices,
    )


@pytest.fixture
def line(tmp_path: Path) -> Iterator[tuple[ModbusLine, VenueSignSim]]:
    sign = VenueSignSim(3)
    with (
        SimLoop() as loop,
        ModbusLine(loop, tmp_path / "rs485", [PeopleCounterSim(1), sign]) as sim,
    ):
        yield sim, sign


@pytest.fixture
def agent(
    tmp_path: Path, mosquitto: MosquittoBroker, line: tuple[ModbusLine, VenueSignSim]
) -> Iterator[EdgeAgent]:
    port = str(line[0].link)
    edge = EdgeAgent(
        settings(
            tmp_path,
            mosquitto,
            [
                {"id": "gate-1", "kind": "people_counter", "port": port, "unit_id": 1, **FAST},
                {"id": "sign-1", "kind": "sign", "port": port, "unit_id": 3, **FAST},
            ],
        )
    )
    edge.start()
    yield edge
    edge.stop()


def test_an_alert_on_the_downlink_lights_the_sign_and_a_clear_puts_it_out(
    agent: EdgeAgent,
    hub: Hub,
    line: tuple[ModbusLine, VenueSignSim],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, sign = line
    caplog.set_level(logging.INFO, logger="edge")
    # the heartbeat follows the subscription on the agent's connection: the alert will be heard
    wait_for(lambda: hub.sign_health() == ("sign", "ok"), 10, "the sign ok in the heartbeat")
    hub.send(alert("raised", 19))
    wait_for(lambda: sign.shows() == (True, 19, 20), 10, "the lamp lit with 19 of 20")
    hub.send(alert("cleared", 9))
    wait_for(lambda: sign.shows() == (False, 9, 20), 10, "the lamp out with 9 of 20")
    said = [r.getMessage() for r in caplog.records if r.name == "edge.agent"]
    assert "capacity alert raised at venue-01 (19 of 20 at 90 %): to the sign(s)" in said
    assert "capacity alert cleared at venue-01 (9 of 20 at 90 %): to the sign(s)" in said


def test_show_alert_says_which_signs_confirmed(
    agent: EdgeAgent, line: tuple[ModbusLine, VenueSignSim], hub: Hub
) -> None:
    sim, sign = line
    assert agent.show_alert(alert("raised", 18), wait_s=10) == AlertShown(("sign-1",), True)
    assert sign.shows() == (True, 18, 20)
    sim.silence(3)
    assert agent.show_alert(alert("cleared", 2), wait_s=0.3) == AlertShown(("sign-1",), False)
    wait_for(lambda: hub.sign_health() == ("sign", "degraded"), 10, "the silent sign degraded")
    assert sign.shows() == (True, 18, 20)  # nothing reached it
    sim.speak(3)
    wait_for(lambda: sign.shows() == (False, 2, 20), 10, "the clear, retried until it answers")
    wait_for(lambda: hub.sign_health() == ("sign", "ok"), 10, "the sign ok again")


def test_a_site_without_a_sign_logs_the_alert_and_drops_it(
    tmp_path: Path, mosquitto: MosquittoBroker, hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    counter = PeopleCounterSim(1)
    caplog.set_level(logging.INFO, logger="edge")
    with SimLoop() as loop, ModbusLine(loop, tmp_path / "rs485", [counter]) as sim:
        device = {"id": "gate-1", "kind": "people_counter", "port": str(sim.link), "unit_id": 1}
        edge = EdgeAgent(settings(tmp_path, mosquitto, [{**device, **FAST}]))
        edge.start()
        try:
            wait_for(hub.heard, 10, "the agent's first heartbeat")
            hub.send(alert("raised", 19))
            expected = "capacity alert raised at venue-01 (19 of 20 at 90 %): no sign at this site"
            wait_for(
                lambda: any(r.getMessage() == expected for r in caplog.records),
                10,
                "the alert logged",
            )
            assert edge.show_alert(alert("cleared", 3)) == AlertShown((), False)
        finally:
            edge.stop()
    (record,) = [r for r in caplog.records if r.getMessage() == expected]
    assert record.levelno == logging.INFO
