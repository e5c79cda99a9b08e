"""Sites and their devices, with their online state."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

_BOOT = "7f0c1a52-2d1e-4c55-9a51-2b0c3a4d5e6f"
_TIME = "2026-11-27T08:30:00Z"


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
