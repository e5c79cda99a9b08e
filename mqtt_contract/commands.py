"""Commands from the hub to one edge, and the edge's answers.

The hub sends a :class:`CommandRequest` on ``yp/v1/{site}/cmd/request`` (QoS 1, not retained, so
a persistent session queues it while the edge is away) and the edge answers with a
:class:`CommandReply` on ``yp/v1/{site}/reply``, the one topic besides its events, status and
heartbeats that its account may write. The command's ``id`` makes a request idempotent: an edge
that sees an id again (a redelivery) answers again without acting twice.

A request past its ``deadline`` is not acted on: the edge answers ``failed`` (``expired``) and the
hub marks it expired whether or not that answer arrives.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, JsonValue, field_validator

from mqtt_contract.models import Timestamp, _Message

MAX_ARGS_BYTES = 16 * 1024
"""Largest ``args`` (and ``result``) object as JSON; a whole edge config fits many times over."""

Reason = Annotated[str, Field(min_length=1, max_length=500)]

CONFIG_KEYS = frozenset(
    {"heartbeat_interval_s", "resend_after_s", "inflight_window", "retention_s", "devices"}
)
"""What a ``config`` request may change: the site, its secrets, the broker account and the
outbox's place are set at the box, never from afar."""


class Operation(StrEnum):
    CONFIG = "config"  # args: part of an edge config (heartbeat_interval_s, devices, ...)
    ALLOWLIST_RESEND = "allowlist.resend"  # the edge takes the retained allowlist again
    PING = "ping"  # answered with the agent's version and uptime
    RESTART = "restart"  # the agent restarts its readers, pollers and session
    ALERT = "alert"  # args: {"state": "raised"|"cleared", ...}: the venue's sign shows it


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"


def _bounded(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value, separators=(",", ":"))) > MAX_ARGS_BYTES:
        raise ValueError(f"larger than {MAX_ARGS_BYTES} bytes as JSON")
    return value


class CommandRequest(_Message):
    """``yp/v1/{site}/cmd/request``: do ``op`` with ``args`` before ``deadline``."""

    id: UUID
    op: Operation
    args: dict[str, JsonValue] = Field(default_factory=dict)
    issued_at: Timestamp
    deadline: Timestamp

    @field_validator("args")
    @classmethod
    def _check_args(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _bounded(value)


class CommandReply(_Message):
    """``yp/v1/{site}/reply``: what became of command ``id``; ``reason`` says why it failed."""

    id: UUID
    outcome: Outcome
    reason: Reason | None = None
    result: dict[str, JsonValue] = Field(default_factory=dict)
    ts: Timestamp

    @field_validator("result")
    @classmethod
    def _check_result(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _bounded(value)


def request_of(payload: bytes | bytearray | str) -> CommandRequest:
    return CommandRequest.model_validate_json(payload)


def reply_of(payload: bytes | bytearray | str) -> CommandReply:
    return CommandReply.model_validate_json(payload)


CommandState = Literal["queued", "sent", "done", "failed", "expired"]
"""A command's state at the hub: ``queued`` (not yet taken by the broker), ``sent`` (the broker
has it), then one of ``done``/``failed`` (the edge answered) or ``expired`` (no answer by the
deadline)."""
FINAL_STATES: tuple[CommandState, ...] = ("done", "failed", "expired")

__all__ = [
    "CONFIG_KEYS",
    "FINAL_STATES",
    "MAX_ARGS_BYTES",
    "CommandReply",
    "CommandRequest",
    "CommandState",
    "Operation",
    "Outcome",
    "reply_of",
    "request_of",
]
