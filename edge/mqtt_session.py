"""The edge's paho client on a persistent session (``mqtt_contract.session.SessionOptions``).

The edge owns its paho code as the hub owns its own (``hub.mqtt``): the contract only says what
the session must be.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.broker_tls import tls_context
from mqtt_contract.session import BrokerEndpoint, SessionOptions
from mqtt_contract.tls import BrokerTLSContext


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
    """Small packets out at once: with Nagle on, a PUBACK followed by a receipt waited ~40 ms
    for the peer's delayed ACK (measured in benchmarks/delivery.py)."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def connect_async(
    client: mqtt.Client, endpoint: BrokerEndpoint, options: SessionOptions
) -> BrokerTLSContext | None:
    """Start connecting in the background; paho's loop keeps reconnecting with backoff.

    Returns the TLS context of an ``mqtts://`` endpoint, whose ``handshake_failure`` tells the
    caller's ``on_connect_fail`` why the broker was refused."""
    context = None
    if endpoint.tls:
        # verified against endpoint.ca_file (or the system's CAs) and the host name; nothing
        # here can turn verification off, and tls_insecure_set is never called
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
