"""Commands to edges (``hub.commands``), as the API takes and shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from hub.commands.service import DEFAULT_DEADLINE_S, MAX_DEADLINE_S, MIN_DEADLINE_S
from mqtt_contract.commands import CommandState, Operation
from mqtt_contract.topics import ID_PATTERN

_ID = "5b1f0a6e-8c1d-4b7a-9a3e-2f4d6c8e0a1b"


class CommandIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "site": "venue-03",
                    "op": "alert",
                    "args": {"state": "raised", "occupancy": 19, "capacity": 20},
                },
                {"site": "centre-01", "op": "ping", "args": {}, "deadline_s": 300},
            ]
        },
    )

    site: str = Field(pattern=ID_PATTERN, description="the edge's site id (a centre or venue)")
    op: Operation = Field(
        description="config, allowlist.resend, ping, restart or alert (docs/commands.md)"
    )
    args: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="config: the settings to change; alert: {state, message}; others: none",
    )
    deadline_s: int = Field(
        default=DEFAULT_DEADLINE_S,
        ge=MIN_DEADLINE_S,
        le=MAX_DEADLINE_S,
        description="seconds from now; unanswered by then, the command is expired",
    )


class CommandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID = Field(examples=[_ID])
    site: str = Field(validation_alias="site_id", examples=["centre-01"])
    op: str = Field(examples=["ping"])
    args: dict[str, Any] = Field(examples=[{}])
    state: CommandState = Field(
        examples=["done"], description="queued, sent, then done, failed or expired"
    )
    reason: str | None = Field(examples=[None], description="why it failed or expired")
    result: dict[str, Any] | None = Field(
        examples=[{"agent_version": "0.1.0", "uptime_s": 3600.0}], description="the edge's answer"
    )
    requested_by: str | None = Field(examples=["ops.li"])
    attempts: int = Field(examples=[1], description="times published to the broker")
    created_at: datetime = Field(examples=["2026-11-27T08:30:00Z"])
    deadline: datetime = Field(examples=["2026-11-27T08:40:00Z"])
    sent_at: datetime | None = Field(examples=["2026-11-27T08:30:01Z"])
    finished_at: datetime | None = Field(examples=["2026-11-27T08:30:01Z"])
