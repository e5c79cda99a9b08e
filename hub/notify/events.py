"""What can be notified: the event kinds and the one shape every source hands in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hub.notify.models import SEVERITIES


class EventKind(StrEnum):
    CAPACITY_ALERT = "capacity_alert"
    """A venue's capacity alert raised, and its clearing."""
    SITE_OFFLINE = "site_offline"
    """An edge (a centre's or a venue's) silent longer than ``notify_offline_after_s``."""
    DEVICE_OFFLINE = "device_offline"
    """A reader or sensor silent that long while its edge is online."""
    DEAD_LETTER_SURGE = "dead_letter_surge"
    """``notify_dead_letter_surge`` dead letters or more in one window."""
    COMMAND_FAILED = "command_failed"
    """A command to an edge failed or expired."""
    SERVICE_REQUEST_OVERDUE = "service_request_overdue"
    """A service request past its deadline (handed in through ``Notifier.emit``)."""
    DIGEST = "digest"
    """A user's daily digest (made by the dispatcher, never subscribed to)."""


SUBSCRIBABLE = tuple(k.value for k in EventKind if k is not EventKind.DIGEST)

MAX_TITLE = 200
MAX_BODY = 4000


@dataclass(frozen=True, slots=True)
class NotifyEvent:
    """One thing to tell people once. ``key`` identifies it among all events of its kind (the
    same key from several hub processes is one notification); ``venue_id`` or ``centre_id``
    says whose it is (neither: operators only)."""

    kind: str
    key: str
    title: str
    body: str
    at: datetime
    severity: str = "warning"
    venue_id: str | None = None
    centre_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in SUBSCRIBABLE and self.kind != EventKind.DIGEST:
            raise ValueError(f"unknown notification kind {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}")
        if not 0 < len(self.key) <= 150:
            raise ValueError("an event key is 1 to 150 characters")
        if self.at.tzinfo is None:
            raise ValueError("an event's time must be timezone-aware")

    @property
    def dedup_key(self) -> str:
        return f"{self.kind}:{self.key}"
