"""What the ingest pipeline passes around, free of paho and SQL types.

``InboundMessage`` is an MQTT message as it crossed the boundary; ``decode`` turns each into exactly
one ``Record``, which the store writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from mqtt_contract.models import BaysEvent, CheckinEvent, CounterEvent, Health, Status


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


class DeadLetterKind(StrEnum):
    TOO_LARGE = "too_large"
    TOPIC = "topic"
    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    SCHEMA = "schema"
    VERSION = "version"
    MISMATCH = "mismatch"
    CLOCK = "clock"
    """A time outside the window the hub accepts (``hub.ingest.decode.TimeWindow``)."""
    CARD = "card"
    """A check-in whose card the hub cannot take (a seal that does not open, a city hash refused)."""
    CONFLICT = "conflict"
    REJECTED = "rejected"
    INTERNAL = "internal"


@dataclass(frozen=True, slots=True)
class EventKey:
    """What a receipt names: one event of one boot of one site."""

    site: str
    boot: UUID
    seq: int


AnyEvent = CheckinEvent | CounterEvent | BaysEvent


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A valid event of any kind, with the raw message kept in case it must be dead-lettered."""

    event: AnyEvent
    received_at: datetime
    topic: str
    payload: bytes

    @property
    def key(self) -> EventKey:
        return EventKey(self.event.site, self.event.boot, self.event.seq)


@dataclass(frozen=True, slots=True)
class StatusRecord:
    status: Status
    received_at: datetime
    retained: bool
    """A retained status replayed on subscribe is the latest state but says nothing about now."""


@dataclass(frozen=True, slots=True)
class HealthRecord:
    health: Health
    received_at: datetime


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    topic: str
    payload: bytes
    size: int
    kind: DeadLetterKind
    reason: str
    received_at: datetime
    receipt: EventKey | None = None
    """Set when the payload still names a site/boot/seq: the edge may let it go, we keep it."""


Record = EventRecord | StatusRecord | HealthRecord | DeadLetterRecord
