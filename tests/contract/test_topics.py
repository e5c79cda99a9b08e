from __future__ import annotations

import pytest

from mqtt_contract import topics
from mqtt_contract.topics import Command, EventKind, TopicKind, parse_topic


def test_event_topic_round_trips() -> None:
    topic = topics.event("centre-01", "reader-1", EventKind.CHECKIN)
    assert topic == "yp/v1/centre-01/reader-1/checkin"
    parsed = parse_topic(topic)
    assert parsed.kind is TopicKind.EVENT
    assert (parsed.site, parsed.device, parsed.event_kind) == (
        "centre-01",
        "reader-1",
        EventKind.CHECKIN,
    )


def test_downlink_is_never_taken_for_an_event() -> None:
    receipt = topics.command("centre-01", Command.RECEIPT)
    assert parse_topic(receipt).kind is TopicKind.COMMAND
    # The hub subscribes per event kind, so a downlink topic cannot match its filters.
    assert all(not f.endswith("/receipt") for f in topics.event_filters())


@pytest.mark.parametrize("bad", ["cmd", "status", "Centre", "a/b", "+", "#", "", "x" * 64])
def test_bad_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        topics.event(bad, "reader-1", EventKind.CHECKIN)


@pytest.mark.parametrize(
    "topic",
    [
        "other/v1/a/b/checkin",
        "yp/v1/a/b/unknown",
        "yp/v1/a/cmd/nope",
        "yp/v1/a/b/c/d",
        "yp/v1/A/b/checkin",
    ],
)
def test_unknown_topics_are_refused(topic: str) -> None:
    with pytest.raises(ValueError, match="topic"):
        parse_topic(topic)


def test_shared_subscription_prefix() -> None:
    assert topics.event_filters("hub") == [
        "$share/hub/yp/v1/+/+/checkin",
        "$share/hub/yp/v1/+/+/counter",
        "$share/hub/yp/v1/+/+/bays",
    ]
