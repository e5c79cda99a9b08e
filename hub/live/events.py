"""What a committed batch means to a live page: one ``LiveEvent`` per new tap, reading, state
change or dead letter.

Only what the store recorded for the first time is published (a redelivered tap is not shown
twice); a check-in carries a short reference to its card's keyed hash (``card_ref``), never a
card number nor the whole hash: the full hash is the city-wide pseudonym of a person, which a
page has no use for.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.ingest.events import (
    DeadLetterRecord,
    EventRecord,
    HealthRecord,
    Record,
    StatusRecord,
    WriteResult,
)
from hub.live.feed import LiveEvent, LiveTopic
from mqtt_contract.models import CheckinEvent, CounterEvent

PREVIEW_CHARS = 200
CARD_REF_CHARS = 8
"""How much of a card's hash a page sees: enough to tell today's unknown cards apart."""


def card_ref(card_hash: str) -> str:
    """The short reference to a card that live pages and the live API show."""
    return card_hash[:CARD_REF_CHARS]


def live_events(records: Sequence[Record], result: WriteResult) -> list[LiveEvent]:
    events = [_event(record) for record in result.new_events]
    for record in records:
        if isinstance(record, StatusRecord | HealthRecord):
            events.append(_state(record))
    events += [_dead_letter(record) for record in result.new_dead_letters]
    return events


def _event(record: EventRecord) -> LiveEvent:
    event = record.event
    common: dict[str, object] = {
        "event_id": str(event.id),
        "site_id": event.site,
        "device_id": event.device,
        "device_time": event.ts.isoformat(),
        "received_at": record.received_at.isoformat(),
    }
    if isinstance(event, CheckinEvent):
        return LiveEvent(
            LiveTopic.CHECKINS,
            {
                **common,
                "card_ref": card_ref(event.data.pseudonym),
                "decision": event.data.decision,
                "allowlist_version": event.data.allowlist_version,
            },
        )
    if isinstance(event, CounterEvent):
        data: dict[str, object] = {
            "kind": "counter",
            "unit_id": event.data.unit_id,
            "device_boots": event.data.device_boots,
            "count_in": event.data.count_in,
            "count_out": event.data.count_out,
        }
    else:
        data = {
            "kind": "bays",
            "unit_id": event.data.unit_id,
            "occupied": event.data.bays.count("1"),
            "total": len(event.data.bays),
        }
    return LiveEvent(LiveTopic.READINGS, {**common, **data})


def _state(record: StatusRecord | HealthRecord) -> LiveEvent:
    if isinstance(record, StatusRecord):
        status = record.status
        return LiveEvent(
            LiveTopic.DEVICES,
            {
                "kind": "status",
                "site_id": status.site,
                "state": status.state,
                "agent_version": status.agent_version,
                "received_at": record.received_at.isoformat(),
            },
        )
    health = record.health
    return LiveEvent(
        LiveTopic.DEVICES,
        {
            "kind": "health",
            "site_id": health.site,
            "outbox_depth": health.outbox_depth,
            "agent_version": health.agent_version,
            "received_at": record.received_at.isoformat(),
            "devices": [
                {
                    "id": d.id,
                    "kind": d.kind,
                    "state": d.state,
                    "frame_errors": d.frame_errors,
                    "port_errors": d.port_errors,
                }
                for d in health.devices
            ],
        },
    )


def _dead_letter(record: DeadLetterRecord) -> LiveEvent:
    return LiveEvent(
        LiveTopic.DEAD_LETTERS,
        {
            "received_at": record.received_at.isoformat(),
            "topic": record.topic,
            "size": record.size,
            "reason_kind": record.kind.value,
            "reason": record.reason,
            "preview": record.payload[: PREVIEW_CHARS * 4].decode("utf-8", errors="replace")[
                :PREVIEW_CHARS
            ],
        },
    )
