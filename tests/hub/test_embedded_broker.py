"""The embedded amqtt broker over real sockets with real paho clients (MQTT 3.1.1).

The demo relies on it when Mosquitto is missing, so what must hold is what the demo needs: a
persistent session keeps QoS 1 messages while the hub is away, passwords are checked, anonymous
clients are turned away, an edge stays inside its own site, never writes a downlink and
connects with its own client id only.
"""

from __future__ import annotations

import queue
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.reasoncodes import ReasonCode

from demo.broker.embedded import EmbeddedBroker
from edge.mqtt_session import connect_async, persistent_client
from hub.broker.acl import contract_acl, edge_client_ids
from hub.broker.dynsec import DynsecPolicy, dynsec_config, hash_password
from mqtt_contract import topics
from mqtt_contract.session import BrokerEndpoint, SessionOptions
from mqtt_contract.topics import Command, EventKind

ACCOUNTS = {"hub": "hub-secret", "centre-01": "centre-01-secret"}
WAIT_S = 5.0


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    embedded = EmbeddedBroker(tmp_path / "amqtt", ACCOUNTS)
    embedded.start()
    yield embedded
    embedded.stop()


class Client:
    """A paho client on its own network thread; callbacks feed queues the test blocks on."""

    def __init__(self, broker: EmbeddedBroker, options: SessionOptions) -> None:
        self.connacks: queue.Queue[tuple[ReasonCode, bool]] = queue.Queue()
        self.subacks: queue.Queue[list[ReasonCode]] = queue.Queue()
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.paho = persistent_client(options)
        self.paho.on_connect = lambda _c, _u, flags, rc, _p: self.connacks.put(
            (rc, flags.session_present)
        )
        self.paho.on_subscribe = lambda _c, _u, _mid, rcs, _p: self.subacks.put(rcs)
        self.paho.on_message = lambda _c, _u, msg: self.messages.put(msg)
        connect_async(self.paho, BrokerEndpoint.parse(broker.url), options)
        self.paho.loop_start()

    def connack(self) -> tuple[ReasonCode, bool]:
        return self.connacks.get(timeout=WAIT_S)

    def subscribe(self, topic_filter: str) -> ReasonCode:
        self.paho.subscribe(topic_filter, qos=1)
        (granted,) = self.subacks.get(timeout=WAIT_S)
        return granted

    def publish(self, topic: str, payload: bytes) -> None:
        self.paho.publish(topic, payload, qos=1).wait_for_publish(timeout=WAIT_S)

    def close(self) -> None:
        self.paho.disconnect()
        self.paho.loop_stop()


@contextmanager
def client(
    broker: EmbeddedBroker,
    username: str | None,
    password: str | None = None,
    *,
    client_id: str | None = None,
) -> Iterator[Client]:
    options = SessionOptions(
        client_id=client_id or f"test-{uuid.uuid4().hex[:10]}",
        protocol="3.1.1",
        username=username,
        password=password if password is not None else ACCOUNTS.get(username or ""),
    )
    mqtt_client = Client(broker, options)
    try:
        yield mqtt_client
    finally:
        mqtt_client.close()


@contextmanager
def connected(
    broker: EmbeddedBroker, username: str, *, client_id: str | None = None
) -> Iterator[Client]:
    with client(broker, username, client_id=client_id) as mqtt_client:
        reason, _ = mqtt_client.connack()
        assert not reason.is_failure, reason
        yield mqtt_client


def test_persistent_session_keeps_qos1_messages_while_the_hub_is_away(
    broker: EmbeddedBroker,
) -> None:
    hub_id = f"test-hub-{uuid.uuid4().hex[:8]}"
    with connected(broker, "hub", client_id=hub_id) as hub:
        granted = hub.subscribe(topics.event_filters()[0])
        assert not granted.is_failure
        assert granted.value == 1

    checkin = topics.event(site="centre-01", device="reader-1", kind=EventKind.CHECKIN)
    payloads = [f"card-{n}".encode() for n in range(3)]
    with connected(broker, "centre-01") as edge:
        for payload in payloads:
            edge.publish(checkin, payload)

    with client(broker, "hub", client_id=hub_id) as hub:
        reason, session_present = hub.connack()
        assert not reason.is_failure, reason
        assert session_present
        received = [hub.messages.get(timeout=WAIT_S) for _ in payloads]
        assert [(m.topic, m.payload, m.qos) for m in received] == [
            (checkin, p, 1) for p in payloads
        ]


def test_a_wrong_password_is_refused(broker: EmbeddedBroker) -> None:
    with client(broker, "hub", "not-the-password") as intruder:
        reason, _ = intruder.connack()
        assert reason.is_failure
        assert reason.getName() == "Not authorized"


def test_an_anonymous_client_is_refused(broker: EmbeddedBroker) -> None:
    with client(broker, None) as anonymous:
        reason, _ = anonymous.connack()
        assert reason.is_failure
        assert reason.getName() == "Not authorized"


def test_an_edge_stays_inside_its_own_site(broker: EmbeddedBroker) -> None:
    with connected(broker, "hub") as hub, connected(broker, "centre-01") as edge:
        assert hub.subscribe(topics.event_filters()[0]).value == 1
        assert edge.subscribe(topics.event_filters()[0]).is_failure
        assert edge.subscribe(topics.command_filter("centre-01")).value == 1

        # Refused publishes are acknowledged and dropped; the allowed one, sent last, comes first.
        edge.publish(topics.event("centre-02", "reader-1", EventKind.CHECKIN), b"forged")
        edge.publish(topics.status("centre-02"), b"forged")
        own = topics.event("centre-01", "reader-1", EventKind.CHECKIN)
        edge.publish(own, b"genuine")
        message = hub.messages.get(timeout=WAIT_S)
        assert (message.topic, message.payload) == (own, b"genuine")

        receipt = topics.command("centre-01", Command.RECEIPT)
        hub.publish(receipt, b"ack")
        message = edge.messages.get(timeout=WAIT_S)
        assert (message.topic, message.payload) == (receipt, b"ack")


def test_an_edge_cannot_write_a_downlink(broker: EmbeddedBroker) -> None:
    with connected(broker, "hub") as hub, connected(broker, "centre-01") as edge:
        assert hub.subscribe("yp/v1/#").value == 1
        for command in Command:  # refused, acknowledged and dropped
            edge.publish(topics.command("centre-01", command), b"forged")
        status = topics.status("centre-01")
        edge.publish(status, b"genuine")
        message = hub.messages.get(timeout=WAIT_S)
        assert (message.topic, message.payload) == (status, b"genuine")


def test_a_bound_account_connects_with_its_own_client_id_only(tmp_path: Path) -> None:
    accounts = {**ACCOUNTS, "centre-02": "centre-02-secret"}
    acl = contract_acl()
    embedded = EmbeddedBroker(
        tmp_path / "amqtt", accounts, acl, client_ids=edge_client_ids(acl, accounts)
    )
    embedded.start()
    try:
        for client_id in ("hub-ingest", topics.edge_client_id("centre-02")):
            with client(embedded, "centre-01", client_id=client_id) as impostor:
                reason, _ = impostor.connack()
                assert reason.getName() == "Not authorized", client_id
        with connected(embedded, "centre-01", client_id=topics.edge_client_id("centre-01")):
            pass
        with connected(embedded, "hub", client_id="hub-ingest-2"):  # the hub is not bound
            pass
    finally:
        embedded.stop()


def test_the_policy_reads_what_the_contract_acl_renders() -> None:
    users = ["hub", "publisher", "centre-01"]
    acl = contract_acl(hub_users=["hub"], publishers=["publisher"])
    hashes = {user: hash_password(user) for user in users}
    policy = DynsecPolicy(dynsec_config(acl, hashes, edge_client_ids(acl, users)))
    event = topics.event("centre-01", "reader-1", EventKind.CHECKIN)
    other_event = topics.event("centre-02", "reader-1", EventKind.CHECKIN)
    receipt = topics.command("centre-01", Command.RECEIPT)

    assert policy.may_subscribe("hub", topics.event_filters()[0])
    assert policy.may_subscribe("hub", topics.event_filters("hub")[0])
    assert policy.may_publish("hub", receipt)
    assert policy.may_publish("publisher", other_event)
    assert policy.client_id_allowed("hub", "anything")

    assert policy.may_publish("centre-01", event)
    assert policy.may_publish("centre-01", topics.status("centre-01"))
    assert policy.may_publish("centre-01", topics.health("centre-01"))
    assert not policy.may_publish("centre-01", receipt)
    assert not policy.may_publish("centre-01", "yp/v1/centre-01/cmd/checkin")
    assert not policy.may_publish("centre-01", other_event)
    assert not policy.may_publish("centre-01", "elsewhere/topic")
    assert policy.may_subscribe("centre-01", topics.command_filter("centre-01"))
    assert policy.may_receive("centre-01", receipt)
    assert not policy.may_subscribe("centre-01", topics.command_filter("centre-02"))
    assert not policy.may_subscribe("centre-01", "yp/v1/+/cmd/#")
    assert not policy.may_subscribe("centre-01", "yp/v1/#")
    assert not policy.may_receive("centre-01", event)
    assert policy.client_id_allowed("centre-01", "edge-centre-01")
    assert not policy.client_id_allowed("centre-01", "hub-ingest")
    assert not policy.client_id_allowed("nobody", "edge-centre-01")

    # A username that is no site id gets no edge rights at all.
    assert acl.rules_for("+") == ()
    assert acl.rules_for("centre-01/reader-1") == ()
    with pytest.raises(ValueError, match="no rights"):
        dynsec_config(acl, {"Centre 1": hash_password("x")})


def test_start_reports_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        embedded = EmbeddedBroker(tmp_path, ACCOUNTS, port=taken.getsockname()[1])
        with pytest.raises(RuntimeError, match="address already in use"):
            embedded.start()
    embedded.stop()  # a no-op after a failed start
