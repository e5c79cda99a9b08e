"""A site provisioned with ``community site``, end to end: real Mosquitto with the
dynamic-security plugin driven live as its admin, real PostgreSQL, real edge agents reading
simulated card readers behind pty serial ports, started from the bundles the CLI wrote."""

from __future__ import annotations

import queue
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from community.cli import main as community
from demo.broker.mosquitto import DynsecMosquitto
from edge.agent import EdgeAgent
from edge.config import load_settings
from firmware_sim.card_reader import CardReaderSim
from hub.core.settings import HubSettings
from tests.hub.org.support import City
from tests.hub.support import Db, StartWorker, wait_until
from tests.services import ACCOUNTS

CARD = "0A1B2C3D4E"


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """PostgreSQL, the production database (the CLI's own tests run on SQLite too)."""
    return postgres_url


def connack(url: str, username: str, password: str, client_id: str) -> ReasonCode:
    """The broker's answer to one CONNECT with these credentials."""
    answers: queue.Queue[ReasonCode] = queue.Queue()
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
    )
    client.username_pw_set(username, password)
    client.on_connect = lambda _c, _u, _f, reason, _p: answers.put(reason)
    host, port = url.removeprefix("mqtt://").split(":")
    client.connect(host, int(port))
    client.loop_start()
    try:
        return answers.get(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()


class Watcher:
    """A privileged client that stays connected through every change and counts what one site
    says: each (re)connect of that site's edge publishes its status again."""

    def __init__(self, url: str, site: str) -> None:
        self.statuses = 0
        self.checkins = 0
        self.connects = 0
        self.subscribed = False
        self.disconnects = 0
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"watcher-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.username_pw_set(*ACCOUNTS.publisher)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: setattr(self, "disconnects", self.disconnects + 1)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: setattr(self, "subscribed", True)
        self.site = site
        host, port = url.removeprefix("mqtt://").split(":")
        self.client.connect(host, int(port))
        self.client.loop_start()

    def _on_connect(self, client: mqtt.Client, *_: object) -> None:
        self.connects += 1
        client.subscribe(f"yp/v1/{self.site}/#", qos=1)

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        if message.topic.endswith("/status") and not message.retain:
            self.statuses += 1
        elif message.topic.endswith("/checkin"):
            self.checkins += 1

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Box:
    """The box at a site: a card reader behind a pty and the edge agent its bundle configures."""

    def __init__(self, bundle: Path, link: Path) -> None:
        self.bundle = bundle
        self.sim = CardReaderSim(link)
        self.agent = self.start()

    def start(self) -> EdgeAgent:
        agent = EdgeAgent(load_settings(self.bundle / "edge.toml"))
        agent.start()
        wait_until(lambda: agent.readers[0].health().state == "ok", what="the reader to open")
        return agent

    def restart(self) -> None:
        self.agent.stop()
        self.agent = self.start()

    def outbox_events(self) -> int:
        path = self.agent.settings.outbox_path
        with closing(sqlite3.connect(path)) as conn:
            return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def tap(self) -> None:
        last = self.agent.readers[0].health().last_frame_at
        wait_until(
            lambda: last is None or datetime.now(UTC) - last > timedelta(seconds=0.5),
            what="the last card to leave the reader",
        )
        before = self.outbox_events()
        self.sim.tap(CARD, hold_s=0.2)
        wait_until(lambda: self.outbox_events() > before, what="the tap in the outbox")

    def close(self) -> None:
        self.agent.stop()
        self.sim.close()


@pytest.fixture
def boxes() -> Iterator[list[Box]]:
    made: list[Box] = []
    yield made
    for box in made:
        box.close()


def recorded(db: Db, site: str) -> int:
    return int(db.rows("SELECT count(*) FROM checkins WHERE site_id = :s", s=site)[0][0])


def test_a_site_is_added_rotated_and_revoked_live(
    city: City,
    site_env: HubSettings,
    hub_settings: HubSettings,
    start_worker: StartWorker,
    mosquitto: DynsecMosquitto,
    db: Db,
    boxes: list[Box],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    city.add_centre("centre-02", city.add_community("C02", "康乐社区"))
    city.commit()
    start_worker()
    links = {site: tmp_path / f"{site}-reader.tty" for site in ("centre-01", "centre-02")}
    bundles = {site: tmp_path / f"bundle-{site}" for site in links}

    for site in ("centre-02", "centre-01"):
        assert community(
            [
                "site", "add", site, "--kind", "centre", "--centre", site,
                "--device", f"reader-1=card_reader:{links[site]}",
                "--bundle", str(bundles[site]),
            ]
        ) == 0  # fmt: skip
        out = capsys.readouterr()
        assert "not a stable /dev/serial/by-id/ path" in out.err, "an unstable port is warned of"
        assert f"site {site}: credentials version 1" in out.out
        assert (bundles[site] / "edge.toml").stat().st_mode & 0o777 == 0o600
    watcher = Watcher(mosquitto.url, "centre-02")
    try:
        wait_until(lambda: watcher.subscribed, what="the watcher to subscribe")
        other = Box(bundles["centre-02"], links["centre-02"])
        boxes.append(other)
        wait_until(lambda: watcher.statuses == 1, what="centre-02's edge to connect")
        box = Box(bundles["centre-01"], links["centre-01"])
        boxes.append(box)

        # The bundle works as it is: check-ins reach the hub.
        box.tap()
        wait_until(lambda: recorded(db, "centre-01") == 1, what="centre-01's check-in at the hub")
        old = load_settings(bundles["centre-01"] / "edge.toml").mqtt.password
        assert old is not None

        # Rotation: the broker drops the edge, and the old password is refused from then on.
        assert (
            community(["site", "rotate", "centre-01", "--bundle", str(bundles["centre-01"])]) == 0
        )
        assert "credentials version 2" in capsys.readouterr().out
        wait_until(lambda: not box.agent.publisher.connected, what="the old session to be dropped")
        refused = connack(mosquitto.url, "centre-01", old.get_secret_value(), "edge-centre-01")
        assert refused.is_failure, "the old password still works"
        box.tap()  # kept in the outbox until the box has its new bundle
        box.restart()
        wait_until(lambda: recorded(db, "centre-01") == 2, what="the check-in after rotation")

        # Revocation: the connected edge is thrown out, cannot come back, nothing is recorded.
        new = load_settings(bundles["centre-01"] / "edge.toml").mqtt.password
        assert new is not None
        assert community(["site", "revoke", "centre-01"]) == 0
        wait_until(lambda: not box.agent.publisher.connected, what="the revoked edge to be dropped")
        refused = connack(mosquitto.url, "centre-01", new.get_secret_value(), "edge-centre-01")
        assert refused.is_failure, "a revoked site can still connect"
        box.tap()
        assert not box.agent.publisher.connected

        # The other site's session lived through all of it: one status (its first connect),
        # and its check-in after the changes arrives behind any status a reconnect would send.
        other.tap()
        wait_until(lambda: recorded(db, "centre-02") == 1, what="centre-02's check-in")
        wait_until(lambda: watcher.checkins == 1, what="the watcher to see centre-02's check-in")
        assert other.agent.publisher.connected
        assert (watcher.statuses, watcher.connects, watcher.disconnects) == (1, 1, 0)
        assert recorded(db, "centre-01") == 2, "a revoked site's check-in was recorded"
        assert box.outbox_events() == 3, "the revoked site's tap waits in its outbox"
    finally:
        watcher.close()

    capsys.readouterr()
    assert community(["site", "list"]) == 0
    listing = capsys.readouterr().out
    lines = {line.split()[0]: line.split()[2] for line in listing.splitlines()[1:]}
    assert lines == {"centre-01": "revoked", "centre-02": "active"}
