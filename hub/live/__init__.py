"""The live stream: committed events fanned out to dashboard pages as server-sent events."""

from __future__ import annotations

from hub.live.events import feed_listener, live_events
from hub.live.feed import LiveEvent, LiveFeed, LiveTopic, Subscription, Take

__all__ = [
    "LiveEvent",
    "LiveFeed",
    "LiveTopic",
    "Subscription",
    "Take",
    "feed_listener",
    "live_events",
]
