"""The MQTT contract shared by edge agents and the hub: topics, payload models, version.

Both sides import this package; nothing else builds a topic string or a payload literal.
"""

from __future__ import annotations

from mqtt_contract.models import (
    CheckinData,
    CheckinEvent,
    Event,
    Health,
    Receipt,
    SeqRange,
    Status,
    parse_event,
)
from mqtt_contract.topics import CONTRACT_VERSION, Topic, parse_topic

__all__ = [
    "CONTRACT_VERSION",
    "CheckinData",
    "CheckinEvent",
    "Event",
    "Health",
    "Receipt",
    "SeqRange",
    "Status",
    "Topic",
    "parse_event",
    "parse_topic",
]
