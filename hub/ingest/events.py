"""What the ingest pipeline passes around, free of paho and SQL types: its public module.

``InboundMessage`` is an MQTT message as it crossed the boundary; ``decode`` turns each into exactly
one ``Record``, which the store writes; ``WriteResult`` is what one committed batch wrote. The
packages that listen to ingest (venues, telemetry, live, org) import these types from here and
nothing else of ingest but ``hub.ingest.hooks``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from hub.mqtt.message import InboundMessage
from mqtt_contract.models import AnyEvent, Health, Status

__all__ = [
    "DeadLetterKind",
    "DeadLetterRecord",
    "EventKey",
    "EventRecord",
    "HealthRecord",
    "InboundMessage",
    "Record",
    "StatusRecord",
    "WriteResult",
]


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


@dataclass
class WriteResult:
    committed: int = 0
    duplicates: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    receipts: dict[str, set[tuple[UUID, int]]] = field(default_factory=dict)
    new_events: list[EventRecord] = field(default_factory=list)
    """The events this batch recorded for the first time (for the live stream)."""
    new_dead_letters: list[DeadLetterRecord] = field(default_factory=list)

    def receipt(self, key: EventKey) -> None:
        self.receipts.setdefault(key.site, set()).add((key.boot, key.seq))

    def merge(self, other: WriteResult) -> None:
        self.committed += other.committed
        self.duplicates += other.duplicates
        self.dead_letters.update(other.dead_letters)
        self.new_events += other.new_events
        self.new_dead_letters += other.new_dead_letters
        for site, pairs in other.receipts.items():
            self.receipts.setdefault(site, set()).update(pairs)
