"""Response models of the API, with examples so the OpenAPI schema documents real payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

_BOOT = "7f0c1a52-2d1e-4c55-9a51-2b0c3a4d5e6f"
_TIME = "2026-11-27T08:30:00Z"


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int = Field(description="how many rows match the filters in all, over every page")


class _EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event_id: UUID = Field(examples=["0b6f6d4e-8a43-4c1e-9a8e-8d7f3b2a1c0d"])
    site_id: str = Field(examples=["centre-01"])
    device_id: str = Field(examples=["reader-1"])
    boot: UUID = Field(examples=[_BOOT], description="the edge agent's boot that sent it")
    seq: int = Field(examples=[1042], description="the site's sequence number")
    device_time: datetime = Field(examples=[_TIME], description="when the device read it")
    received_at: datetime = Field(examples=["2026-11-27T08:30:00.120Z"])


class CheckinOut(_EventOut):
    card_hash: str = Field(
        examples=["3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea"],
        description="keyed hash of the card number; the number itself never leaves the edge",
    )
    decision: str = Field(examples=["allowed"])
    allowlist_version: int | None = Field(examples=[12])


class CounterReadingOut(_EventOut):
    unit_id: int = Field(examples=[1], description="Modbus address")
    device_boots: int = Field(examples=[3], description="changes when the counters restart at 0")
    count_in: int = Field(examples=[5120])
    count_out: int = Field(examples=[5004])
    status: int = Field(examples=[0])


class BayReadingOut(_EventOut):
    unit_id: int = Field(examples=[2])
    bays: str = Field(examples=["0110100000"], description='one character per bay, "1" occupied')
    occupied: int = Field(examples=[3])
    total: int = Field(examples=[10])


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(examples=["centre-01"])
    online: bool = Field(description="status not offline and heard from within the timeout")
    state: str = Field(examples=["online"], description="last status: online, offline, unknown")
    first_seen: datetime = Field(examples=["2026-11-01T07:00:00Z"])
    last_seen: datetime | None = Field(examples=[_TIME])
    boot: UUID | None = Field(examples=[_BOOT])
    agent_version: str | None = Field(examples=["0.1.0"])
    heartbeat_at: datetime | None = Field(examples=[_TIME], description="edge time, last beat")
    outbox_depth: int | None = Field(examples=[0], description="events the edge still holds")
    oldest_pending_s: float | None = Field(examples=[None])


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    site_id: str = Field(examples=["centre-01"])
    id: str = Field(examples=["reader-1"])
    kind: str = Field(examples=["card_reader"])
    online: bool
    state: str = Field(examples=["ok"], description="ok, degraded, disconnected or unknown")
    first_seen: datetime = Field(examples=["2026-11-01T07:00:00Z"])
    last_seen: datetime | None = Field(examples=[_TIME])
    last_frame_at: datetime | None = Field(examples=[_TIME])
    frames_ok: int = Field(examples=[5231])
    frame_errors: int = Field(examples=[3], description="bad checksums, garbled frames")
    port_errors: int = Field(examples=[0], description="serial port failures (unplugged...)")
    timeouts: int = Field(examples=[0], description="requests a polled device did not answer")


class DeadLetterOut(BaseModel):
    id: int = Field(examples=[17])
    received_at: datetime = Field(examples=[_TIME])
    topic: str = Field(examples=["yp/v1/centre-01/reader-1/checkin"])
    size: int = Field(examples=[11], description="size of the whole payload in bytes")
    truncated: bool = Field(description="only the first bytes were kept (payload too large)")
    reason_kind: str = Field(examples=["not_json"])
    reason: str = Field(examples=["payload is not JSON: Expecting value: line 1 column 1"])
    payload_base64: str = Field(examples=["bm90IGpzb24gOig="])
    preview: str = Field(
        examples=["not json :("], description="the payload as UTF-8, at most 200 characters"
    )


class IngestOut(BaseModel):
    running: bool
    session_present: bool | None
    queue_depth: int
    failing_since: datetime | None = Field(description="set while batch commits keep failing")


class InfluxOut(BaseModel):
    state: Literal["ok", "failing", "stopped"] = Field(examples=["ok"])
    url: str = Field(examples=["http://127.0.0.1:8086"])
    bucket: str = Field(examples=["telemetry"])
    queue_depth: int = Field(examples=[0], description="points waiting to be written")
    written: int = Field(examples=[120345])
    dropped: int = Field(examples=[0], description="points given up (queue full or write failed)")
    errors: int = Field(examples=[0], description="failed write requests, retries included")
    failing_since: datetime | None = Field(default=None, examples=[None])
    last_error: str | None = Field(default=None, examples=[None])


class HealthOut(BaseModel):
    """Only ``status`` for anyone; the rest for an operator's credentials (``system.read``)."""

    status: Literal["ok", "degraded"] = Field(examples=["ok"])
    database: Literal["ok", "down"] | None = Field(default=None, examples=["ok"])
    database_error: str | None = Field(default=None, examples=[None])
    broker: Literal["connected", "disconnected", "not running"] | None = Field(
        default=None,
        examples=["connected"],
        description="as the ingest worker of this process reports it",
    )
    ingest: IngestOut | None = None
    influx: InfluxOut | None = Field(
        default=None, description="the telemetry sink; absent when HUB_INFLUX_URL is unset"
    )
