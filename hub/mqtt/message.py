"""An MQTT message as it crossed into the hub: no paho type beyond this package."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class InboundMessage:
    topic: str
    payload: bytes
    mid: int
    qos: int
    retained: bool
    received_at: datetime
    generation: int
    """The broker connection it came on: a packet id means nothing on another connection."""
