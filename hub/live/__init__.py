"""The live stream: committed events fanned out to dashboard pages as server-sent events."""

from __future__ import annotations

from hub.live.events import card_ref, live_events
from hub.live.feed import LiveEvent, LiveFeed, LiveTopic, Subscription, Take
from hub.live.publisher import LivePublisher

__all__ = [
    "LiveEvent",
    "LiveFeed",
    "LivePublisher",
    "LiveTopic",
    "Subscription",
    "Take",
    "card_ref",
    "live_events",
]
