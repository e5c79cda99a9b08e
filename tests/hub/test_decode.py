"""Decoding one message: the record it becomes, or the dead letter and its reason."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.core.settings import HubSettings
from hub.ingest.decode import TimeWindow, envelope_key
from hub.ingest.decode import decode as decode_with
from hub.ingest.events import (
    DeadLetterKind,
    DeadLetterRecord,
    EventKey,
    EventRecord,
    HealthRecord,
    InboundMessage,
    Record,
    StatusRecord,
)
from hub.ingest.store import EVENT_TABLES
from mqtt_contract import topics
from mqtt_contract.credentials import card_hash
from mqtt_contract.models import EVENT_MODELS, MAX_PAYLOAD_BYTES, CheckinEvent
from mqtt_contract.topics import EventKind
from tests.hub.support import (
    BOOT,
    CARD_KEY,
    CARDS,
    T0,
    bays,
    checkin,
    counter,
    event_topic,
    health,
    status,
)

TOPIC = topics.event("centre-01", "reader-1", topics.EventKind.CHECKIN)


def decode(message: InboundMessage, window: TimeWindow | None = None) -> Record:
    """As the running hub decodes: with a production hub's card keys and policy."""
    return decode_with(message, window, CARDS)


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
        if isinstance(event, CheckinEvent):  # the hub's copy: the seal opened to its city hash
            assert record.event.data.card_sealed == event.data.card_sealed
            assert record.event.data.card_hash == card_hash(CARD_KEY, "0A1B2C3D4E")
            assert record.event.model_copy(update={"data": event.data}) == event
        else:
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


# --- times: the contract's range, then the hub's window --------------------------------------

WINDOW = TimeWindow(max_age=timedelta(days=400), max_future=timedelta(seconds=300))
ARRIVED = T0 + timedelta(hours=1)


def arriving(payload: bytes, topic: str = TOPIC, at: datetime = ARRIVED) -> InboundMessage:
    return InboundMessage(topic, payload, 7, 1, False, at, 1)


@pytest.mark.parametrize("ts", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_a_time_no_database_reader_could_load_is_a_schema_dead_letter(ts: str) -> None:
    letter = decode(arriving(valid(ts=ts)), WINDOW)
    assert isinstance(letter, DeadLetterRecord)
    assert (letter.kind, letter.receipt) == ("schema", EventKey("centre-01", BOOT, 5))
    assert f"ts: Value error, {ts} is outside the years 1 to 9999" in letter.reason


@pytest.mark.parametrize(
    ("ts", "why"),
    [
        ("9999-12-31T23:59:59Z", "days, 14:59:59 ahead of the hub's clock"),
        ("2026-11-27T09:05:01Z", "301 s ahead of the hub's clock"),
        ("0001-01-01T00:00:00Z", "days, 9:00:00 before the hub's clock"),
        ("1970-01-01T00:00:00Z", "20784 days, 9:00:00 before"),  # a box booted with no clock
        ("2025-10-23T08:59:59+00:00", "400 days, 0:00:01 before"),
    ],
)
def test_a_device_time_outside_the_window_is_a_clock_dead_letter(ts: str, why: str) -> None:
    letter = decode(arriving(valid(ts=ts)), WINDOW)
    assert isinstance(letter, DeadLetterRecord), letter
    assert letter.kind == DeadLetterKind.CLOCK == "clock"
    assert letter.reason.startswith("ts ")
    assert why in letter.reason
    assert "HUB_EVENT_MAX_" in letter.reason
    # receipted: the edge may let it go, the dead letter keeps it
    assert letter.receipt == EventKey("centre-01", BOOT, 5)
    assert decode(arriving(valid(ts=ts))).__class__ is EventRecord, "no window: no check"


@pytest.mark.parametrize(
    "ts",
    ["2026-11-27T09:05:00Z", "2026-11-27T17:05:00+08:00", "2025-10-23T09:00:00Z", "2026-11-27"],
)
def test_times_inside_the_window_are_recorded_in_utc(ts: str) -> None:
    if len(ts) == 10:  # naive: refused as before, its meaning is a guess
        assert decode(arriving(valid(ts=ts)), WINDOW).kind == "schema"  # type: ignore[union-attr]
        return
    record = decode(arriving(valid(ts=ts)), WINDOW)
    assert isinstance(record, EventRecord)
    assert record.event.ts.utcoffset() == timedelta(0)


def test_heartbeats_ahead_or_long_ago_are_clock_dead_letters_not_receipted() -> None:
    topic = topics.health("centre-01")
    for beat, why in [
        (health(ts=ARRIVED + timedelta(minutes=6)), "ts 2026-11-27T09:06:00+00:00 is 360 s"),
        (health(ts=ARRIVED - timedelta(days=401)), "ts 2025-10-22T09:00:00+00:00 is 401 days"),
    ]:
        letter = decode(arriving(beat.to_bytes(), topic), WINDOW)
        assert isinstance(letter, DeadLetterRecord)
        assert (letter.kind, letter.receipt) == ("clock", None)
        assert letter.reason.startswith(why)


def test_a_device_last_heard_long_ago_is_news_but_one_heard_in_the_future_is_not() -> None:
    topic = topics.health("centre-01")
    beat = json.loads(health(ts=ARRIVED).to_bytes())
    beat["devices"][0]["last_frame_at"] = "2020-01-01T00:00:00Z"
    assert isinstance(decode(arriving(json.dumps(beat).encode(), topic), WINDOW), HealthRecord)
    beat["devices"][0]["last_frame_at"] = "2027-01-01T00:00:00Z"
    letter = decode(arriving(json.dumps(beat).encode(), topic), WINDOW)
    assert isinstance(letter, DeadLetterRecord)
    assert letter.kind == "clock"
    assert letter.reason.startswith("devices.reader-1.last_frame_at 2027-01-01T00:00:00+00:00")


def test_a_status_since_is_not_stored_so_no_window_applies() -> None:
    old = status("online", since=datetime(2001, 1, 1, tzinfo=UTC)).to_bytes()
    assert isinstance(decode(arriving(old, topics.status("centre-01")), WINDOW), StatusRecord)


def test_the_window_comes_from_the_settings() -> None:
    settings = HubSettings(mode="demo", event_max_age_days=2, event_max_future_s=0)
    assert TimeWindow.of(settings) == TimeWindow(timedelta(days=2), timedelta(0))
    defaults = TimeWindow.of(HubSettings(mode="demo"))
    assert defaults == TimeWindow(timedelta(days=400), timedelta(seconds=300))


# Each value is the first past what the hub's column holds: refused by the contract, the message
# is one dead letter (receipted) instead of a batch the database refuses.
@pytest.mark.parametrize(
    ("field", "value"),
    [("seq", 2**63), ("data.allowlist_version", 2**63), ("data.allowlist_version", 0)],
)
def test_integers_beyond_their_columns_are_schema_dead_letters(field: str, value: int) -> None:
    document = json.loads(checkin(5).to_bytes())
    if field.startswith("data."):
        document["data"][field.removeprefix("data.")] = value
    else:
        document[field] = value
    letter = dead(json.dumps(document).encode())
    assert letter.kind == "schema"
    assert field in letter.reason


def test_every_dead_letter_kind_has_a_label_on_the_dashboard() -> None:
    web = Path(__file__).parents[2] / "dashboards" / "web" / "i18n"
    for language in ("en", "zh-CN"):
        catalogue = json.loads((web / f"{language}.json").read_text(encoding="utf-8"))
        missing = [k.value for k in DeadLetterKind if f"dead.kind.{k.value}" not in catalogue]
        assert not missing, f"{language}: no label for {missing}"
