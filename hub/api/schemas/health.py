"""The hub's health: database, broker, ingest, telemetry sink."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


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
