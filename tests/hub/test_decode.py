"""Decoding one message: the record it becomes, or the dead letter and its reason."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from hub.ingest.decode import EVENT_MODELS, decode, envelope_key
from hub.ingest.records import (
    DeadLetterRecord,
    EventKey,
    EventRecord,
    HealthRecord,
    InboundMessage,
    StatusRecord,
)
from hub.ingest.store import EVENT_TABLES
from mqtt_contract import topics
from mqtt_contract.models import MAX_PAYLOAD_BYTES
from mqtt_contract.topics import EventKind
from tests.hub.support import BOOT, bays, checkin, counter, event_topic, health, status

TOPIC = topics.event("centre-01", "reader-1", topics.EventKind.CHECKIN)


def message(payload: bytes, topic: str = TOPIC, retained: bool = False) -> InboundMessage:
    return InboundMessage(
        topic=topic,
        payload=payload,
        mid=7,
        qos=1,
        retained=retained,
        received_at=datetime.now(UTC),
        generation=1,
    )


def test_every_event_kind_of_the_contract_has_a_model_and_a_table() -> None:
    assert set(EVENT_MODELS) == set(EventKind)
    assert {model.model_fields["kind"].default for model in EVENT_MODELS.values()} == set(
        EVENT_TABLES
    )


def test_valid_messages_become_records() -> None:
    for event in (checkin(3), counter(3, count_in=1, count_out=0), bays(3, "01")):
        record = decode(message(event.to_bytes(), event_topic(event)))
        assert isinstance(record, EventRecord)
        assert record.event == event
        assert record.key == EventKey("centre-01", BOOT, 3)
    state = decode(message(status("online").to_bytes(), topics.status("centre-01"), True))
    assert isinstance(state, StatusRecord)
    assert state.retained
    beat = decode(message(health().to_bytes(), topics.health("centre-01")))
    assert isinstance(beat, HealthRecord)


def dead(payload: bytes, topic: str = TOPIC) -> DeadLetterRecord:
    record = decode(message(payload, topic))
    assert isinstance(record, DeadLetterRecord), record
    return record


def valid(**overrides: object) -> bytes:
    document = json.loads(checkin(5).to_bytes())
    document.update(overrides)
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("payload", "topic", "kind", "reason", "receipted"),
    [
        (b"x" * (MAX_PAYLOAD_BYTES + 1), TOPIC, "too_large", "exceeds the limit", False),
        (b"\xc3\x28", TOPIC, "not_utf8", "not UTF-8", False),
        (b"{'single': 'quotes'}", TOPIC, "not_json", "not JSON", False),
        (b'"a string"', TOPIC, "schema", "JSON str, not an object", False),
        (valid(seq=-1), TOPIC, "schema", "seq", False),
        (valid(data={"card_hash": "0A1B2C3D4E"}), TOPIC, "schema", "data.card_hash", True),
        (valid(extra=1), TOPIC, "schema", "extra", True),
        (valid(v=2), TOPIC, "version", "version 2", True),
        (valid(v="1"), TOPIC, "version", "version '1'", True),
        (valid(site="centre-02"), TOPIC, "mismatch", "site 'centre-02'", False),
        (valid(device="reader-2"), TOPIC, "mismatch", "device 'reader-2'", True),
        (valid(), "yp/v1/centre-01/cmd/receipt", "topic", "downlink", False),
        (valid(), "yp/v1/centre-01/reader-1/bogus", "topic", "unknown event kind", False),
        (valid(), "elsewhere/centre-01/reader-1/checkin", "topic", "not under", False),
        (status("online").to_bytes(), topics.health("centre-01"), "schema", "Health", False),
        (valid(), "yp/v1/centre-01/reader-1/counter", "schema", "CounterEvent", True),
    ],
)
def test_invalid_messages_become_dead_letters_with_a_reason(
    payload: bytes, topic: str, kind: str, reason: str, receipted: bool
) -> None:
    letter = dead(payload, topic)
    assert letter.kind == kind
    assert reason in letter.reason
    assert letter.size == len(payload)
    assert letter.payload == payload[:MAX_PAYLOAD_BYTES]
    assert (letter.receipt == EventKey("centre-01", BOOT, 5)) is receipted


def test_a_nul_in_a_field_name_does_not_reach_the_reason() -> None:
    letter = dead(valid(**{"bad\u0000key": 1}))
    assert "\x00" not in letter.reason
    assert "bad\\x00key" in letter.reason


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"site": "centre-01", "boot": str(BOOT), "seq": 4}, EventKey("centre-01", BOOT, 4)),
        ({"site": "centre-02", "boot": str(BOOT), "seq": 4}, None),
        ({"site": "centre-01", "boot": "not-a-uuid", "seq": 4}, None),
        ({"site": "centre-01", "boot": str(BOOT), "seq": -4}, None),
        ({"site": "centre-01", "boot": str(BOOT), "seq": True}, None),
        ({"site": "centre-01", "boot": str(BOOT), "seq": 2**63}, None),
        ({"site": "centre-01", "boot": str(uuid.uuid4())}, None),
    ],
)
def test_envelope_key_only_for_a_sane_site_boot_and_seq(
    document: dict[str, object], expected: EventKey | None
) -> None:
    assert envelope_key(document, "centre-01") == expected
