"""Payload models (pydantic v2) for every message of the contract.

Every payload is a JSON object with ``v`` (the contract version) and ``site``. Events add the
delivery envelope: ``id`` (UUID made at the edge), ``boot`` (UUID of the agent's boot), ``seq`` (the
site's monotonic sequence number, which survives restarts) and ``ts`` (device time).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)

from mqtt_contract.card_seal import SealedCard
from mqtt_contract.topics import CONTRACT_VERSION, ID_PATTERN, RESERVED_IDS, EventKind

MAX_PAYLOAD_BYTES = 64 * 1024
"""Largest payload the hub accepts; anything larger is dead-lettered unparsed."""

SiteId = Annotated[str, Field(pattern=ID_PATTERN, examples=["centre-01"])]
DeviceId = Annotated[str, Field(pattern=ID_PATTERN, examples=["reader-1"])]
Seq = Annotated[int, Field(ge=0, lt=2**63)]
HexDigest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

# What the hub's columns hold: a count in a BIGINT, a small number in an INTEGER (both signed on
# PostgreSQL; SQLite's are 64-bit). A value beyond them would fail a whole batch in the database
# instead of becoming one message's dead letter.
Count = Annotated[int, Field(ge=0, lt=2**63)]
SmallCount = Annotated[int, Field(ge=0, lt=2**31)]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]
"""JSON ``1e400`` and ``Infinity`` parse as infinity: refused, like NaN."""
AgentVersion = Annotated[str, Field(min_length=1, max_length=64)]


def _in_utc(value: datetime) -> datetime:
    """Every time is kept in UTC: a time whose UTC instant a datetime cannot hold (such as
    ``9999-12-31T23:59:59-14:00``, year 10000 in UTC) is refused here, before a database
    stores what no reader can load."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(
            f"{value.isoformat()} is outside the years 1 to 9999 once converted to UTC"
        ) from None


Timestamp = Annotated[AwareDatetime, AfterValidator(_in_utc)]
"""An aware time (a naive one is refused: its meaning is a guess), normalised to UTC."""


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
    ts: Timestamp


class CheckinData(BaseModel):
    """One card tap: the card sealed to the hub (``card_sealed``), which only the hub opens.

    ``card_hash`` (the city-wide keyed hash) is what edges sent before the cards were sealed; a
    hub takes it only while it allows so (``HUB_ACCEPT_CITY_CARD_HASH``). A payload has exactly
    one of the two; the hub's own copy of an opened tap holds both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    card_sealed: SealedCard | None = None
    card_hash: HexDigest | None = None
    decision: Literal["allowed", "unknown", "unchecked"] = "unchecked"
    allowlist_version: Annotated[int, Field(ge=1, lt=2**63)] | None = None

    @model_validator(mode="after")
    def _one_card(self) -> CheckinData:
        if (self.card_sealed is None) == (self.card_hash is None):
            raise ValueError("a check-in carries exactly one of card_sealed and card_hash")
        return self

    @property
    def pseudonym(self) -> str:
        """The city-wide card hash, once the hub has opened the seal (or the edge sent it)."""
        if self.card_hash is None:
            raise ValueError("the card is still sealed: only the hub's decode opens it")
        return self.card_hash


class CheckinEvent(_Envelope):
    kind: Literal["checkin"] = "checkin"
    data: CheckinData


class CounterData(BaseModel):
    """Cumulative readings of a people counter at a venue gate (Modbus RTU registers).

    The counters are 32-bit and wrap; ``device_boots`` is the device's own boot counter, which
    changes when power loss restarts the counters from zero. The hub derives occupancy from these,
    so duplicates, reordering, resets and wrap give the same answer.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit_id: int = Field(ge=1, le=247, description="Modbus device address")
    device_boots: int = Field(ge=0, lt=2**32)
    count_in: int = Field(ge=0, lt=2**32)
    count_out: int = Field(ge=0, lt=2**32)
    status: int = Field(default=0, ge=0, lt=2**16)


class CounterEvent(_Envelope):
    kind: Literal["counter"] = "counter"
    data: CounterData


class BaysData(BaseModel):
    """One bit per parking bay, ``"1"`` occupied, in bay order (bay 1 first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit_id: int = Field(ge=1, le=247, description="Modbus device address")
    bays: str = Field(pattern=r"^[01]{1,4096}$")

    @property
    def occupied(self) -> int:
        return self.bays.count("1")


class BaysEvent(_Envelope):
    kind: Literal["bays"] = "bays"
    data: BaysData


AnyEvent = CheckinEvent | CounterEvent | BaysEvent
"""Every event model: the one union both sides use."""

Event = Annotated[AnyEvent, Field(discriminator="kind")]
"""Every event kind, told apart by ``kind`` (which must equal the topic's last level)."""

EVENT_MODELS: dict[EventKind, type[AnyEvent]] = {
    EventKind.CHECKIN: CheckinEvent,
    EventKind.COUNTER: CounterEvent,
    EventKind.BAYS: BaysEvent,
}
"""The model of each topic's event kind: a receiver that knows the topic validates the payload as
that kind (so a payload whose ``kind`` disagrees with its topic fails as the topic's kind);
:func:`parse_event` is for a payload on its own."""

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(payload: bytes | bytearray | str) -> Event:
    """Validate an event payload; raises ``pydantic.ValidationError``."""
    return _EVENT_ADAPTER.validate_json(payload)


class Status(_Message):
    """Retained on ``yp/v1/{site}/status``; the ``offline`` form is also the edge's last will."""

    state: Literal["online", "offline"]
    boot: UUID
    since: Timestamp
    agent_version: AgentVersion


DeviceKind = Literal["card_reader", "people_counter", "bay_sensor", "sign"]


class DeviceHealth(BaseModel):
    """``frame_errors``: bad checksums (EM4100 XOR, Modbus CRC), noise, half frames;
    ``timeouts``: requests a polled device did not answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: DeviceId
    kind: DeviceKind
    state: Literal["ok", "degraded", "disconnected"]
    frames_ok: Count
    frame_errors: Count
    port_errors: Count
    timeouts: Count = 0
    last_frame_at: Timestamp | None = None


class Health(_Message):
    """Heartbeat on ``yp/v1/{site}/health``."""

    boot: UUID
    ts: Timestamp
    uptime_s: Seconds
    outbox_depth: SmallCount
    oldest_pending_s: Seconds | None = None
    agent_version: AgentVersion
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


class Allowlist(_Message):
    """Retained on ``yp/v1/{site}/cmd/allowlist``: the keyed hashes of the cards allowed at a site,
    made with that site's own key (``mqtt_contract.card_seal.site_card_key``), never the city's.

    The edge keeps the newest version on disk and judges taps by it even while offline.
    """

    version: int = Field(ge=1, lt=2**63)
    issued_at: Timestamp
    card_hashes: list[HexDigest]


class CapacityAlert(_Message):
    """On ``yp/v1/{site}/cmd/alert`` when a venue reaches (``raised``) or leaves (``cleared``)
    its capacity threshold."""

    venue: str
    state: Literal["raised", "cleared"]
    occupancy: SmallCount
    capacity: int = Field(ge=1, lt=2**31)
    threshold_pct: float = Field(gt=0, le=100)
    at: Timestamp


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
    "EVENT_MODELS",
    "MAX_PAYLOAD_BYTES",
    "RESERVED_IDS",
    "Allowlist",
    "AnyEvent",
    "BaysData",
    "BaysEvent",
    "CapacityAlert",
    "CheckinData",
    "CheckinEvent",
    "CounterData",
    "CounterEvent",
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
