"""How both sides hold a persistent MQTT session, on MQTT 5 (Mosquitto) or 3.1.1 (amqtt).

The contract's delivery semantics depend on these settings, so they live beside the topics:
a persistent session (MQTT 5 ``clean_start=False`` with a session expiry, 3.1.1
``clean_session=False``) and, for a subscriber that acknowledges after its commit, a wide
``ReceiveMaximum`` window. paho's own default (clean start on the first connect of every process)
would throw away what the broker queued while the process was down.

Only the data lives here: the contract imports no MQTT client. Each side turns these options into
its own paho client (``edge.mqtt_session``, ``hub.mqtt``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

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
