"""Payload models (pydantic v2) for every message of the contract.

Every payload is a JSON object with ``v`` (the contract version) and ``site``. Events add the
delivery envelope: ``id`` (UUID made at the edge), ``boot`` (UUID of the agent's boot), ``seq`` (the
site's monotonic sequence number, which survives restarts) and ``ts`` (device time).
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from mqtt_contract.topics import CONTRACT_VERSION, ID_PATTERN, RESERVED_IDS

MAX_PAYLOAD_BYTES = 64 * 1024
"""Largest payload the hub accepts; anything larger is dead-lettered unparsed."""

SiteId = Annotated[str, Field(pattern=ID_PATTERN, examples=["centre-01"])]
DeviceId = Annotated[str, Field(pattern=ID_PATTERN, examples=["reader-1"])]
Seq = Annotated[int, Field(ge=0, lt=2**63)]
HexDigest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = CONTRACT_VERSION
    site: SiteId

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


class _Envelope(_Message):
    id: UUID
    device: DeviceId
    boot: UUID
    seq: Seq
    ts: AwareDatetime


class CheckinData(BaseModel):
    """One card tap. The card number itself never leaves the edge: only its keyed hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    card_hash: HexDigest
    decision: Literal["allowed", "unknown", "unchecked"] = "unchecked"
    allowlist_version: int | None = None


class CheckinEvent(_Envelope):
    kind: Literal["checkin"] = "checkin"
    data: CheckinData


Event = CheckinEvent
"""Every event kind; becomes a discriminated union on ``kind`` as kinds are added."""

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(payload: bytes | bytearray | str) -> Event:
    """Validate an event payload; raises ``pydantic.ValidationError``."""
    return _EVENT_ADAPTER.validate_json(payload)


class Status(_Message):
    """Retained on ``yp/v1/{site}/status``; the ``offline`` form is also the edge's last will."""

    state: Literal["online", "offline"]
    boot: UUID
    since: AwareDatetime
    agent_version: str


class DeviceHealth(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: DeviceId
    kind: Literal["card_reader"]
    state: Literal["ok", "degraded", "disconnected"]
    frames_ok: int = Field(ge=0)
    frame_errors: int = Field(ge=0)
    port_errors: int = Field(ge=0)
    last_frame_at: AwareDatetime | None = None


class Health(_Message):
    """Heartbeat on ``yp/v1/{site}/health``."""

    boot: UUID
    ts: AwareDatetime
    uptime_s: float = Field(ge=0)
    outbox_depth: int = Field(ge=0)
    oldest_pending_s: float | None = Field(default=None, ge=0)
    agent_version: str
    devices: list[DeviceHealth]


class SeqRange(BaseModel):
    """The events ``first..last`` (inclusive) of one boot."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    boot: UUID
    first: Seq
    last: Seq


class Receipt(_Message):
    """Published by the hub on ``yp/v1/{site}/cmd/receipt`` after it committed these events."""

    ranges: list[SeqRange] = Field(min_length=1)


def status_of(payload: bytes | bytearray | str) -> Status:
    return Status.model_validate_json(payload)


def health_of(payload: bytes | bytearray | str) -> Health:
    return Health.model_validate_json(payload)


def receipt_of(payload: bytes | bytearray | str) -> Receipt:
    return Receipt.model_validate_json(payload)


def ranges_from(pairs: list[tuple[UUID, int]]) -> list[SeqRange]:
    """Compress (boot, seq) pairs into as few contiguous ranges as possible."""
    ranges: list[SeqRange] = []
    for boot, seq in sorted(set(pairs)):
        last = ranges[-1] if ranges else None
        if last is not None and last.boot == boot and last.last + 1 == seq:
            ranges[-1] = SeqRange(boot=boot, first=last.first, last=seq)
        else:
            ranges.append(SeqRange(boot=boot, first=seq, last=seq))
    return ranges


__all__ = [
    "MAX_PAYLOAD_BYTES",
    "RESERVED_IDS",
    "CheckinData",
    "CheckinEvent",
    "DeviceHealth",
    "Event",
    "Health",
    "Receipt",
    "SeqRange",
    "Status",
    "health_of",
    "parse_event",
    "ranges_from",
    "receipt_of",
    "status_of",
]
