"""Notification settings (a user's own) and the operators' log. A channel's target (a webhook
URL carries its access token; an e-mail address is personal) and secret are write-only: the API
shows them masked and never returns them."""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from hub.api.params import LocalTime, LocalTimeIn
from hub.notify.events import SUBSCRIBABLE

EventName = Literal[
    "capacity_alert",
    "site_offline",
    "device_offline",
    "dead_letter_surge",
    "command_failed",
    "service_request_overdue",
]
assert set(EventName.__args__) == set(SUBSCRIBABLE)  # type: ignore[attr-defined]


class PrefsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventName] = Field(default_factory=list, max_length=len(SUBSCRIBABLE))
    quiet_from: LocalTimeIn | None = Field(default=None, description="city time (Asia/Shanghai)")
    quiet_to: LocalTimeIn | None = None
    critical_in_quiet: StrictBool = Field(default=True, description="critical ones all the same")
    digest: StrictBool = Field(default=False, description="one message a day instead of each")
    digest_at: LocalTimeIn = Field(default=time(8, 0), description="city time")


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["wecom", "dingtalk", "email", "webhook"]
    name: str = Field(min_length=1, max_length=80)
    target: str = Field(
        min_length=3, max_length=2000, description="the robot's or webhook's URL, or an address"
    )
    secret: str | None = Field(
        default=None,
        min_length=8,
        max_length=200,
        description="DingTalk's signing secret (SEC...) or the webhook's HMAC key; write-only",
    )


class ChannelOut(BaseModel):
    id: int
    kind: str
    name: str
    target_masked: str
    has_secret: bool
    enabled: bool
    created_at: datetime


class SettingsOut(BaseModel):
    events: list[str]
    quiet_from: LocalTime | None
    quiet_to: LocalTime | None
    critical_in_quiet: bool
    digest: bool
    digest_at: LocalTime
    channels: list[ChannelOut]
    available_events: list[str]


class TestOut(BaseModel):
    ok: bool
    answer: str


class LogEntry(BaseModel):
    id: int
    notification_id: int
    kind: str
    severity: str
    title: str
    created_at: datetime
    username: str
    channel_kind: str
    channel_name: str
    state: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    answer: str | None
