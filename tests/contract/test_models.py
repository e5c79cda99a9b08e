from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from mqtt_contract.credentials import card_hash, normalise_card
from mqtt_contract.models import CheckinData, CheckinEvent, Health, parse_event, ranges_from

KEY = b"k" * 32


def sample_event(**overrides: object) -> dict[str, object]:
    event = CheckinEvent(
        id=uuid.uuid4(),
        site="centre-01",
        device="reader-1",
        boot=uuid.uuid4(),
        seq=7,
        ts=datetime(2026, 11, 27, 8, 30, tzinfo=UTC),
        data=CheckinData(card_hash=card_hash(KEY, "0a1b2c3d4e")),
    )
    payload: dict[str, object] = json.loads(event.to_bytes())
    payload.update(overrides)
    return payload


def test_event_round_trips() -> None:
    payload = sample_event()
    event = parse_event(json.dumps(payload))
    assert event.seq == 7
    assert event.kind == "checkin"
    assert event.data.decision == "unchecked"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"v": 2}, "v"),
        ({"seq": -1}, "seq"),
        ({"ts": "2026-11-27T08:30:00"}, "ts"),  # device time must carry its offset
        ({"site": "Bad Site"}, "site"),
        ({"extra": 1}, "extra"),
        ({"data": {"card_hash": "0A1B2C3D4E"}}, "card_hash"),  # a clear card number is refused
    ],
)
def test_invalid_events_name_the_field(override: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        parse_event(json.dumps(sample_event(**override)))


def test_card_hash_is_keyed_and_normalised() -> None:
    assert card_hash(KEY, "0a1b2c3d4e") == card_hash(KEY, "0A1B2C3D4E")
    assert card_hash(KEY, "0A1B2C3D4E") != card_hash(b"j" * 32, "0A1B2C3D4E")
    with pytest.raises(ValueError, match="10 hex digits"):
        normalise_card("12345")


def test_ranges_compress_contiguous_sequences() -> None:
    a, b = uuid.UUID(int=1), uuid.UUID(int=2)
    ranges = ranges_from([(a, 3), (a, 1), (a, 2), (a, 5), (b, 0), (a, 2)])
    assert [(r.boot, r.first, r.last) for r in ranges] == [(a, 1, 3), (a, 5, 5), (b, 0, 0)]


@pytest.mark.parametrize(
    "ts",
    [
        "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
        "0001-01-01T00:00:00+14:00",  # year 0 in UTC
    ],
)
def test_a_time_outside_the_years_1_to_9999_in_utc_is_refused_naming_it(ts: str) -> None:
    with pytest.raises(ValidationError, match=r"ts\n.*outside the years 1 to 9999 once converted"):
        parse_event(json.dumps(sample_event(ts=ts)))


def test_times_are_normalised_to_utc() -> None:
    event = parse_event(json.dumps(sample_event(ts="2026-11-27T16:30:00.5+08:00")))
    assert event.ts == datetime(2026, 11, 27, 8, 30, 0, 500_000, tzinfo=UTC)
    assert event.ts.utcoffset() == timedelta(0)
    assert b'"ts":"2026-11-27T08:30:00.500000Z"' in event.to_bytes()
    extreme = parse_event(json.dumps(sample_event(ts="9999-12-31T23:59:59.999999Z")))
    assert extreme.ts == datetime.max.replace(tzinfo=UTC)


def _health(**overrides: object) -> dict[str, object]:
    device = {"id": "reader-1", "kind": "card_reader", "state": "ok"}
    device |= {"frames_ok": 1, "frame_errors": 0, "port_errors": 0}
    document: dict[str, object] = {
        "site": "centre-01",
        "boot": str(uuid.uuid4()),
        "ts": "2026-11-27T08:30:00Z",
        "uptime_s": 1.5,
        "outbox_depth": 0,
        "agent_version": "0.1.0",
        "devices": [device],
    }
    for key, value in overrides.items():
        if key.startswith("device."):
            device[key.removeprefix("device.")] = value
        else:
            document[key] = value
    return document


# Each value is the first one past what the hub's column holds (BIGINT, INTEGER) or a float that
# JSON can spell but no column should keep: refused here, it is one message's dead letter
# instead of a batch the database refuses.
@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"device.frames_ok": 2**63}, "frames_ok"),
        ({"device.frame_errors": 2**63}, "frame_errors"),
        ({"device.port_errors": 2**63}, "port_errors"),
        ({"device.timeouts": 2**63}, "timeouts"),
        ({"device.last_frame_at": "9999-12-31T23:59:59-14:00"}, "last_frame_at"),
        ({"outbox_depth": 2**31}, "outbox_depth"),
        ({"ts": "0001-01-01T00:00:00+14:00"}, "ts"),
        ({"agent_version": "x" * 65}, "agent_version"),
        ({"agent_version": ""}, "agent_version"),
    ],
)
def test_heartbeat_values_beyond_what_the_hub_stores_are_refused(
    override: dict[str, object], field: str
) -> None:
    assert Health.model_validate_json(json.dumps(_health())).outbox_depth == 0
    with pytest.raises(ValidationError, match=field):
        Health.model_validate_json(json.dumps(_health(**override)))


@pytest.mark.parametrize("text", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_durations_must_be_finite(text: str) -> None:
    for field in ("uptime_s", "oldest_pending_s"):
        payload = json.dumps(_health(**{field: 0})).replace(f'"{field}": 0', f'"{field}": {text}')
        with pytest.raises(ValidationError, match=field):
            Health.model_validate_json(payload)


@pytest.mark.parametrize("version", [0, 2**63])
def test_allowlist_versions_fit_the_bigint_they_are_kept_in(version: int) -> None:
    with pytest.raises(ValidationError, match="allowlist_version"):
        parse_event(
            json.dumps(sample_event(data={"card_hash": "0" * 64, "allowlist_version": version}))
        )
    assert parse_event(
        json.dumps(sample_event(data={"card_hash": "0" * 64, "allowlist_version": 2**63 - 1}))
    )
