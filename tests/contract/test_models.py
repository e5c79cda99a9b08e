from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from mqtt_contract.credentials import card_hash, normalise_card
from mqtt_contract.models import CheckinData, CheckinEvent, parse_event, ranges_from

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
