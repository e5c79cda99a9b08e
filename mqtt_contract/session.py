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

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

ProtocolName = Literal["5", "3.1.1"]

_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True, slots=True)
class BrokerEndpoint:
    host: str
    port: int
    tls: bool
    ca_file: Path | None = None
    """With ``tls``: the CA certificate the broker's must chain to (``None``: the system's trust
    store). The broker's certificate must also name ``host`` (``mqtt_contract.tls``)."""

    @classmethod
    def parse(cls, url: str, *, ca_file: Path | None = None) -> BrokerEndpoint:
        """``mqtt://host[:port]`` or ``mqtts://host[:port]``; credentials are passed separately.
        A CA file belongs to an ``mqtts://`` URL only: given with ``mqtt://`` it would look
        verified and be plain text, so it is an error."""
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"broker URL must look like mqtt://host:port, got {url!r}")
        if parts.username or parts.password:
            raise ValueError("put broker credentials in the settings, not in the URL")
        tls = parts.scheme == "mqtts"
        if ca_file is not None and not tls:
            raise ValueError(
                f"a CA file ({ca_file}) is given but the broker URL {url} is plain mqtt://: "
                "use mqtts://host:8883 to verify the broker, or remove the CA file"
            )
        return cls(parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme], tls, ca_file)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"

    @property
    def loopback(self) -> bool:
        """The broker is on this machine: plain MQTT never leaves it."""
        if self.host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


@dataclass(frozen=True, slots=True)
class SessionOptions:
    client_id: str
    protocol: ProtocolName = "5"
    username: str | None = None
    password: str | None = None
    session_expiry_s: int = 86_400
    receive_maximum: int | None = None
    keepalive_s: int = 30
