"""Broker identity and ACL against a real Mosquitto configured exactly as the project does it.

Two configurations: the demo's (``demo.cli.start_broker``, a private Mosquitto) and the compose
file's (its ``broker-config`` service's command run natively on the site registry, the
``mosquitto.conf`` it writes run with only the ports, the paths and the user swapped). In both an
edge cannot write any downlink, cannot replace a retained one, cannot connect with the hub's or
another site's client id, and nobody gets in without the right password.

Each check ends on a positive control: a legitimate message sent after the forbidden ones (from
the same connection, or once the broker has acknowledged them) must arrive first, so nothing is
timed and nothing waits for an absence.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from demo.broker.mosquitto import (
    MosquittoProcess,
    dynsec_plugin,
    free_port,
    mosquitto_binary,
    private_process_lines,
)
from demo.cli import HUB_USER, start_broker
from demo.sites import broker_accounts
from edge.agent import EdgeAgent
from edge.config import EdgeSettings
from edge.config import load_settings as load_edge_settings
from firmware_sim.card_reader import CardReaderSim
from hub.broker.tls import ensure_certificates
from hub.core.broker_tls import tls_context
from hub.core.settings import HubSettings
from mqtt_contract import topics
from mqtt_contract.models import status_of
from mqtt_contract.session import BrokerEndpoint
from mqtt_contract.topics import Command, EventKind
from tests.hub.demo_sites import demo_sites
from tests.hub.support import CARD_KEYS

ROOT = Path(__file__).resolve().parents[2]
SITE, OTHER = "centre-01", "centre-02"
WAIT_S = 10.0
REFUSED = {"Not authorized", "Bad user name or password"}
# The hub's ingest client and its allowlist publisher (hub/org/allowlist_publisher.py).
_HUB_ID = HubSettings.model_fields["mqtt_client_id"].default
HUB_IDS = (_HUB_ID, f"{_HUB_ID}-allowlist")


@dataclass(frozen=True)
class Deployment:
    url: str
    hub: tuple[str, str]
    edges: dict[str, str]
    tls_url: str | None = None
    ca_file: Path | None = None


@contextmanager
def demo_broker(workdir: Path) -> Iterator[Deployment]:
    """The demo's broker: its accounts built from the site registry, the sites provisioned by
    the demo's own path (``demo.sites``), their passwords read from their bundles."""
    creds, settings, bundles = demo_sites(workdir, [SITE, OTHER])
    accounts = broker_accounts(settings, {"publisher": creds["mqtt_password"]})
    broker = start_broker(True, workdir, free_port(), accounts)
    edges = {}
    for site, bundle in bundles.items():
        password = load_edge_settings(bundle).mqtt.password
        assert password is not None
        edges[site] = password.get_secret_value()
    try:
        yield Deployment(broker.url, (HUB_USER, creds["hub_password"]), edges)
    finally:
        broker.stop()


@contextmanager
def compose_broker(workdir: Path) -> Iterator[Deployment]:
    """The compose file's broker: its ``broker-config`` service's command run natively on a
    registry with two sites (provisioned by the demo's path, their passwords read from their
    bundles), with the service's secrets as compose mounts them; Mosquitto then runs on what it
    wrote with only the ports, the paths and the user swapped."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["broker-config"]
    plugin = dynsec_plugin()
    assert plugin is not None
    mounts = {
        "/mosquitto/data": workdir / "data",
        "/mosquitto/certs": workdir / "certs",
        "/usr/lib/mosquitto_dynamic_security.so": Path(plugin),
    }
    # The operator's step for TLS (docs/deployment.md): the names the hub and the edges dial.
    certs = ensure_certificates(mounts["/mosquitto/certs"], ["mosquitto", "localhost"])
    creds, settings, bundles = demo_sites(workdir / "registry", [SITE, OTHER])
    edges = {}
    for site, bundle in bundles.items():
        password = load_edge_settings(bundle).mqtt.password
        assert password is not None
        edges[site] = password.get_secret_value()
    secrets = workdir / "run-secrets"
    secrets.mkdir()
    admin = settings.broker_admin_password
    assert admin is not None
    for name, value in {
        "hub_database_url": settings.database_url,
        "hub_mqtt_password": creds["hub_password"],
        "hub_broker_admin_password": admin.get_secret_value(),
    }.items():
        assert name in service["secrets"]
        (secrets / name).write_text(value + "\n")

    def native(text: str) -> str:
        for inside, outside in mounts.items():
            text = text.replace(inside, str(outside))
        return text

    command = service["command"]
    assert command[:2] == ["community", "broker-config"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(service["environment"])
    env["HUB_SECRETS_DIR"] = str(secrets)
    done = subprocess.run(
        [sys.executable, "-m", "community", *(native(arg) for arg in command[1:])],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr

    port, tls_port = free_port(), free_port()
    conf = (mounts["/mosquitto/data"] / "mosquitto.conf").read_text()
    assert "listener 1883\n" in conf
    conf = conf.replace("listener 1883\n", f"listener {port} 127.0.0.1\n")
    assert "listener 8883\n" in conf
    conf = conf.replace("listener 8883\n", f"listener {tls_port} 127.0.0.1\n")
    # The image's entrypoint hands /mosquitto to Mosquitto's user; natively it runs as us.
    broker = MosquittoProcess(workdir / "run", conf + "\n".join(private_process_lines()), port)
    broker.start()
    try:
        yield Deployment(
            broker.url,
            (settings.mqtt_username, creds["hub_password"]),
            edges,
            f"mqtts://localhost:{tls_port}",
            certs.ca_cert,
        )
    finally:
        broker.stop()


@pytest.fixture(params=["demo", "compose"])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    assert mosquitto_binary() is not None, "Mosquitto is required"
    make = demo_broker if request.param == "demo" else compose_broker
    workdir = tmp_path / request.param
    workdir.mkdir()
    with make(workdir) as running:
        yield running


class Client:
    """A paho MQTT 5 client on its own network thread; callbacks feed queues the test blocks on."""

    def __init__(
        self,
        url: str,
        username: str | None,
        password: str | None,
        client_id: str,
        *,
        ca_file: Path | None = None,
    ):
        self.connacks: queue.Queue[ReasonCode] = queue.Queue()
        self.subacks: queue.Queue[list[ReasonCode]] = queue.Queue()
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.disconnects: queue.Queue[ReasonCode] = queue.Queue()
        self.paho = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        if username is not None:
            self.paho.username_pw_set(username, password)
        self.paho.on_connect = lambda _c, _u, _f, rc, _p: self.connacks.put(rc)
        self.paho.on_subscribe = lambda _c, _u, _m, rcs, _p: self.subacks.put(rcs)
        self.paho.on_message = lambda _c, _u, msg: self.messages.put(msg)
        self.paho.on_disconnect = lambda _c, _u, _f, rc, _p: self.disconnects.put(rc)
        endpoint = BrokerEndpoint.parse(url, ca_file=ca_file)
        if endpoint.tls:
            self.paho.tls_set_context(tls_context(ca_file))
        self.paho.connect_async(endpoint.host, endpoint.port)
        self.paho.loop_start()

    def connack(self) -> ReasonCode:
        return self.connacks.get(timeout=WAIT_S)

    def subscribe(self, topic_filter: str) -> None:
        self.paho.subscribe(topic_filter, qos=1)
        (granted,) = self.subacks.get(timeout=WAIT_S)
        assert not granted.is_failure, (topic_filter, granted)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Publish at QoS 1 and wait for the broker's PUBACK (it has routed or dropped it)."""
        info = self.paho.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout=WAIT_S)
        assert info.is_published(), topic

    def next_message(self) -> tuple[str, bytes]:
        message = self.messages.get(timeout=WAIT_S)
        return message.topic, message.payload

    def close(self) -> None:
        self.paho.disconnect()
        self.paho.loop_stop()


@contextmanager
def client(
    deployment: Deployment, username: str | None, password: str | None, client_id: str
) -> Iterator[Client]:
    mqtt_client = Client(deployment.url, username, password, client_id)
    try:
        yield mqtt_client
    finally:
        mqtt_client.close()


@contextmanager
def connected(deployment: Deployment, account: str, client_id: str) -> Iterator[Client]:
    """Connected as the hub (``account="hub"``) or as a site's edge."""
    if account == "hub":
        username, password = deployment.hub
    else:
        username, password = account, deployment.edges[account]
    with client(deployment, username, password, client_id) as mqtt_client:
        reason = mqtt_client.connack()
        assert not reason.is_failure, (account, client_id, reason)
        yield mqtt_client


def watcher_id() -> str:
    return f"test-watch-{uuid.uuid4().hex[:8]}"


def test_an_edge_cannot_publish_any_downlink(deployment: Deployment) -> None:
    with (
        connected(deployment, "hub", watcher_id()) as watcher,
        connected(deployment, OTHER, topics.edge_client_id(OTHER)) as other_edge,
        connected(deployment, SITE, topics.edge_client_id(SITE)) as edge,
    ):
        watcher.subscribe("yp/v1/#")
        other_edge.subscribe(topics.command_filter(OTHER))
        forged = [topics.command(site, c) for site in (SITE, OTHER) for c in Command]
        forged += [f"yp/v1/{SITE}/cmd/{kind.value}" for kind in EventKind]
        for topic in forged:
            edge.publish(topic, b"forged")
        # Sent last on the same connection, so it arrives first if the forged ones were dropped.
        edge.publish(topics.status(SITE), b"control")
        assert watcher.next_message() == (topics.status(SITE), b"control")

        # The other site's own edge, the addressee of a forged downlink, gets the hub's first.
        receipt = topics.command(OTHER, Command.RECEIPT)
        with connected(deployment, "hub", watcher_id()) as hub:
            hub.publish(receipt, b"from the hub")
        assert other_edge.next_message() == (receipt, b"from the hub")


def test_a_retained_downlink_cannot_be_replaced_by_an_edge(deployment: Deployment) -> None:
    allowlists = [topics.command(site, Command.ALLOWLIST) for site in (SITE, OTHER)]
    with connected(deployment, "hub", watcher_id()) as hub:
        for topic in allowlists:
            hub.publish(topic, b'{"version": 1}', retain=True)
    with connected(deployment, SITE, topics.edge_client_id(SITE)) as edge:
        for topic in allowlists:
            edge.publish(topic, b'{"version": 999999}', retain=True)
            edge.publish(topic, b"", retain=True)  # an empty retained message would clear it

    with connected(deployment, "hub", watcher_id()) as later:
        later.subscribe("yp/v1/+/cmd/allowlist")
        retained = sorted(later.next_message() for _ in allowlists)
        assert retained == [(topic, b'{"version": 1}') for topic in sorted(allowlists)]


def test_an_edge_account_cannot_connect_with_another_clients_id(
    deployment: Deployment, tmp_path: Path
) -> None:
    # The owners are connected: the hub's ingest and allowlist clients, and OTHER's real agent.
    reader = CardReaderSim(tmp_path / "reader-1.tty")
    agent = EdgeAgent(
        EdgeSettings(
            site=OTHER,
            outbox_path=tmp_path / "outbox.db",
            site_card_key=CARD_KEYS.site_key(OTHER),
            hub_card_public_key=CARD_KEYS.public_key,
            mqtt={"url": deployment.url, "password": deployment.edges[OTHER]},
            devices=[{"id": "reader-1", "port": str(reader.link)}],
        )
    )
    with connected(deployment, "hub", watcher_id()) as watcher:
        watcher.subscribe(topics.status(OTHER))
        agent.start()
        try:
            topic, payload = watcher.next_message()
            assert topic == topics.status(OTHER)
            assert status_of(payload).state == "online"  # the agent's own id is accepted
            with (
                connected(deployment, "hub", HUB_IDS[0]) as ingest,
                connected(deployment, "hub", HUB_IDS[1]) as allowlist,
            ):
                for stolen in (*HUB_IDS, topics.edge_client_id(OTHER)):
                    with client(deployment, SITE, deployment.edges[SITE], stolen) as impostor:
                        reason = impostor.connack()
                        assert reason.is_failure, stolen
                        assert reason.getName() in REFUSED, (stolen, reason)
                # Nobody was pushed off: each owner is still connected and still served.
                ingest.subscribe(topics.status(OTHER))
                assert allowlist.disconnects.empty()
                assert ingest.disconnects.empty()
                with connected(deployment, SITE, topics.edge_client_id(SITE)) as edge:
                    edge.publish(topics.status(SITE), b"own id")
        finally:
            agent.stop()
            reader.close()
        topic, payload = watcher.next_message()  # the agent's clean offline status, nothing before
        assert (topic, status_of(payload).state) == (topics.status(OTHER), "offline")


@pytest.mark.parametrize(
    ("username", "password"),
    [
        (None, None),  # anonymous
        ("hub", "not-the-password"),
        (SITE, "not-the-password"),
        ("nobody", "whatever"),
    ],
)
def test_anonymous_unknown_and_wrong_password_connections_are_refused(
    deployment: Deployment, username: str | None, password: str | None
) -> None:
    client_id = topics.edge_client_id(SITE) if username == SITE else watcher_id()
    account = deployment.hub[0] if username == "hub" else username
    with client(deployment, account, password, client_id) as intruder:
        reason = intruder.connack()
        assert reason.is_failure
        assert reason.getName() in REFUSED, reason
    # The right password on the same account is let in.
    if username in ("hub", SITE):
        with connected(deployment, "hub" if username == "hub" else SITE, client_id):
            pass


def test_the_compose_broker_serves_tls_on_8883_with_the_same_accounts(tmp_path: Path) -> None:
    """The compose file's 8883 listener, natively, on certificates `community broker-certs`
    made: the hub's account connects with the broker verified; a wrong password is still
    refused there."""
    with compose_broker(tmp_path) as running:
        assert running.tls_url is not None
        assert running.ca_file is not None
        user, password = running.hub
        hub = Client(running.tls_url, user, password, "hub-tls-check", ca_file=running.ca_file)
        intruder = Client(running.tls_url, user, "wrong", "tls-intruder", ca_file=running.ca_file)
        try:
            assert not hub.connack().is_failure
            assert str(intruder.connack()) in REFUSED
        finally:
            hub.close()
            intruder.close()
