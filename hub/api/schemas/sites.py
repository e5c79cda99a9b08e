"""Sites (the hub's view: registry, edge, problems) and their devices, with their online state."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from hub.sites.view import Problem, SiteState

_BOOT = "7f0c1a52-2d1e-4c55-9a51-2b0c3a4d5e6f"
_TIME = "2026-11-27T08:30:00Z"


class CredentialsOut(BaseModel):
    """The site's broker account as the registry keeps it; never its password or hash."""

    model_config = ConfigDict(from_attributes=True)

    state: str = Field(examples=["active"], description="active or revoked")
    credentials_version: int = Field(examples=[2], description="1 after add, +1 a rotation")
    created_at: datetime = Field(examples=["2026-11-01T07:00:00Z"])
    credentials_at: datetime = Field(examples=[_TIME], description="when the password was made")
    revoked_at: datetime | None = Field(examples=[None])


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(examples=["centre-01"])
    kind: str | None = Field(
        examples=["centre"], description="centre or venue: of the record its id names, if any"
    )
    name: str | None = Field(
        examples=["新原社区党群服务中心"], description="the centre's or venue's"
    )
    community_id: int | None = Field(examples=[1])
    community: str | None = Field(examples=["新原社区"], description="the community's name")
    site_state: SiteState = Field(
        examples=["online"],
        description="revoked (account revoked), never_seen (account, never heard from), "
        "online or offline (docs/dashboards.md)",
    )
    problems: list[Problem] = Field(
        examples=[["degraded"]],
        description="worst first: offline, commands_failed, outbox, degraded, unregistered",
    )
    account: CredentialsOut | None = Field(description="none: an edge with no account")
    device_count: int = Field(examples=[2], description="devices its heartbeats reported")
    devices_bad: int = Field(examples=[1], description="of them degraded or disconnected")
    failed_commands: int = Field(
        examples=[0], description="commands failed or expired within the window"
    )
    online: bool = Field(description="status not offline and heard from within the timeout")
    state: str | None = Field(
        examples=["online"], description="the edge's last status: online, offline, unknown"
    )
    first_seen: datetime | None = Field(examples=["2026-11-01T07:00:00Z"])
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


class BeatOut(BaseModel):
    """One step of a site's heartbeat history."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime = Field(examples=[_TIME], description="start of the step (hub time)")
    heartbeat_at: datetime = Field(examples=[_TIME], description="the edge's time")
    uptime_s: float = Field(examples=[3600.0])
    outbox_depth: int = Field(examples=[0])
    oldest_pending_s: float | None = Field(examples=[None])
    devices: int = Field(examples=[2])
    devices_bad: int = Field(examples=[0])


class SiteCommandOut(BaseModel):
    """A command to the site, as ``edge_commands`` keeps it."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    op: str = Field(examples=["ping"])
    args: dict[str, Any] = Field(examples=[{}])
    state: str = Field(examples=["done"], description="queued, sent, done, failed or expired")
    reason: str | None = Field(examples=[None])
    requested_by: str | None = Field(examples=["ops"])
    attempts: int = Field(examples=[1])
    created_at: datetime = Field(examples=[_TIME])
    deadline: datetime = Field(examples=[_TIME])
    sent_at: datetime | None = Field(examples=[_TIME])
    finished_at: datetime | None = Field(examples=[_TIME])


class SiteDetailOut(SiteOut):
    devices: list[DeviceOut] = Field(description="its devices, by id")
    commands: list[SiteCommandOut] = Field(description="its newest commands, newest first")
    history: list[BeatOut] = Field(description="its heartbeat history, oldest first")
    history_step_s: float = Field(examples=[60.0], description="one heartbeat kept per step")
