"""How both sides hold a persistent MQTT session, on MQTT 5 (Mosquitto) or 3.1.1 (amqtt).

The contract's delivery semantics depend on these settings, so they live beside the topics:
a persistent session (MQTT 5 ``clean_start=False`` with a session expiry, 3.1.1
``clean_session=False``) and, for a subscriber that acknowledges after its commit, a wide
``ReceiveMaximum`` window. paho's own default (clean start on the first connect of every process)
would throw away what the broker queued while the process was down.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

ProtocolName = Literal["5", "3.1.1"]

_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True, slots=True)
class BrokerEndpoint:
    host: str
    port: int
    tls: bool

    @classmethod
    def parse(cls, url: str) -> BrokerEndpoint:
        """``mqtt://host[:port]`` or ``mqtts://host[:port]``; credentials are passed separately."""
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"broker URL must look like mqtt://host:port, got {url!r}")
        if parts.username or parts.password:
            raise ValueError("put broker credentials in the settings, not in the URL")
        return cls(
            parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme], parts.scheme == "mqtts"
        )


@dataclass(frozen=True, slots=True)
class SessionOptions:
    client_id: str
    protocol: ProtocolName = "5"
    username: str | None = None
    password: str | None = None
    session_expiry_s: int = 86_400
    receive_maximum: int | None = None
    keepalive_s: int = 30


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


def connect_async(client: mqtt.Client, endpoint: BrokerEndpoint, options: SessionOptions) -> None:
    """Start connecting in the background; paho's loop keeps reconnecting with backoff."""
    if endpoint.tls:
        client.tls_set()
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
