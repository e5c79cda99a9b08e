"""Everything the hub asks of paho that paho does not offer publicly, and the client's setup.

Two private attributes are used, both for a reason measured or unavoidable, and both only here:
``Client._packet_queue`` (one write for a batch's PUBACKs) and ``MQTTMessage._topic`` (the raw
bytes of a topic that is not UTF-8, to name it in a dead letter). They were written against
paho :data:`PAHO_WRITTEN_FOR`; ``tests/hub/test_mqtt.py`` fails on any other major.minor release,
so an upgrade is a deliberate step: re-read paho's client.py and move the pin.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from collections.abc import Sequence
from typing import Any

import paho.mqtt
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.core.broker_tls import tls_context
from mqtt_contract.session import BrokerEndpoint, SessionOptions
from mqtt_contract.tls import BrokerTLSContext

PAHO_WRITTEN_FOR = (2, 2)
"""The paho release (major, minor) whose private attributes this module was checked against."""


def paho_version() -> tuple[int, int]:
    """The installed paho's (major, minor)."""
    major, minor, *_ = paho.mqtt.__version__.split(".")
    return int(major), int(minor)


def persistent_client(options: SessionOptions, *, manual_ack: bool = False) -> mqtt.Client:
    """A paho client set up for a persistent session; connect it with :func:`connect_async`."""
    v5 = options.protocol == "5"
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=options.client_id,
        clean_session=None if v5 else False,
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    if options.username is not None:
        client.username_pw_set(options.username, options.password)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.on_socket_open = _disable_nagle
    return client


def _disable_nagle(_client: mqtt.Client, _userdata: Any, sock: Any) -> None:
    """Small packets out at once: with Nagle on, a hub's PUBACK followed by its receipt waited
    ~40 ms for the peer's delayed ACK (measured in benchmarks/delivery.py)."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def connect_async(
    client: mqtt.Client, endpoint: BrokerEndpoint, options: SessionOptions
) -> BrokerTLSContext | None:
    """Start connecting in the background; paho's loop keeps reconnecting with backoff.

    Returns the TLS context of an ``mqtts://`` endpoint, whose ``handshake_failure`` says why
    the broker was refused."""
    context = None
    if endpoint.tls:
        # verified against endpoint.ca_file (HUB_MQTT_CA_FILE, or the system's CAs) and the host
        # name; nothing here can turn verification off, and tls_insecure_set is never called
        context = tls_context(endpoint.ca_file)
        client.tls_set_context(context)
    if options.protocol == "5":
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = options.session_expiry_s
        if options.receive_maximum:
            props.ReceiveMaximum = options.receive_maximum
        client.connect_async(
            endpoint.host,
            endpoint.port,
            keepalive=options.keepalive_s,
            clean_start=False,
            properties=props,
        )
    else:
        client.connect_async(endpoint.host, endpoint.port, keepalive=options.keepalive_s)
    return context


def topic_of(message: mqtt.MQTTMessage) -> str:
    """The topic, or the repr of its raw bytes when it is not UTF-8 (the broker should have
    refused it; the hub dead-letters it under that name)."""
    try:
        return message.topic
    except UnicodeDecodeError:
        return repr(message._topic)


_PUBACK = 0x40
_PUBACK_PACKET = struct.Struct("!BBH")
"""A PUBACK with success and no properties: the same two bytes after the header on MQTT 3.1.1
and 5 (MQTT 5 section 3.4.2.1), exactly what paho's own ``ack`` queues."""


def send_pubacks(client: mqtt.Client, mids: Sequence[int]) -> None:
    """Acknowledge a committed batch with one write. paho's ``ack`` queues each PUBACK as its own
    packet, wakes its network thread and sends it with its own system call: two system calls a
    message, a visible share of the hub's CPU at the city's rate. Here the PUBACKs go as one
    queued packet through paho's own queue (so they are ordered with everything else it sends
    and dropped with the connection). Should a paho release lack that queue, each is acked the
    ordinary way."""
    queue = getattr(client, "_packet_queue", None)
    if queue is None:
        for mid in mids:
            client.ack(mid, 1)
        return
    queue(_PUBACK, b"".join(_PUBACK_PACKET.pack(_PUBACK, 2, mid) for mid in mids), 0, 0)
