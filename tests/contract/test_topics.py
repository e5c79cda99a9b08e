from __future__ import annotations

import pytest
from paho.mqtt.client import topic_matches_sub

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


# The broker ACL built from the contract. paho's own matcher judges, so the test does not lean on
# the project's matching code.
SITE, OTHER = "centre-01", "centre-02"


def _edge_patterns(site: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    placeholder = topics.SITE_PLACEHOLDER
    publish = [p.replace(placeholder, site) for p in topics.edge_publish_patterns()]
    denied = [p.replace(placeholder, site) for p in topics.edge_denied_publish_patterns()]
    read = [p.replace(placeholder, site) for p in topics.edge_subscribe_patterns()]
    assert publish == list(topics.edge_publish_patterns(site))
    return tuple(publish), tuple(denied), tuple(read)


def _may_publish(site: str, topic: str) -> bool:
    publish, denied, _ = _edge_patterns(site)
    if any(topic_matches_sub(p, topic) for p in denied):
        return False
    return any(topic_matches_sub(p, topic) for p in publish)


@pytest.mark.parametrize("command", list(Command))
@pytest.mark.parametrize("target", [SITE, OTHER])
def test_no_edge_publish_pattern_matches_a_downlink(command: Command, target: str) -> None:
    publish, _, _ = _edge_patterns(SITE)
    downlink = topics.command(target, command)
    assert not [p for p in publish if topic_matches_sub(p, downlink)]
    assert not _may_publish(SITE, downlink)


def test_nothing_under_cmd_is_publishable_by_an_edge() -> None:
    # The device level of an event pattern is "+", which also matches "cmd"; the deny shuts it.
    for kind in EventKind:
        assert not _may_publish(SITE, f"yp/v1/{SITE}/cmd/{kind.value}")
    assert not _may_publish(SITE, f"yp/v1/{SITE}/cmd/anything/else")


def test_every_topic_an_edge_sends_is_matched_for_its_own_site_only() -> None:
    sent = [topics.event(SITE, "reader-1", kind) for kind in EventKind]
    sent += [topics.status(SITE), topics.health(SITE)]
    for topic in sent:
        assert _may_publish(SITE, topic), topic
        assert not _may_publish(OTHER, topic), topic
    # One pattern per event kind: nothing but the contract's kinds.
    assert not _may_publish(SITE, f"yp/v1/{SITE}/reader-1/unknown")
    assert not _may_publish(SITE, f"yp/v1/{SITE}/reader-1/checkin/x")


def test_an_edge_reads_its_own_downlink_only() -> None:
    _, _, read = _edge_patterns(SITE)
    assert read == (topics.command_filter(SITE),)
    for command in Command:
        assert any(topic_matches_sub(p, topics.command(SITE, command)) for p in read)
        assert not any(topic_matches_sub(p, topics.command(OTHER, command)) for p in read)
    assert not any(topic_matches_sub(p, topics.status(SITE)) for p in read)


def test_the_acl_patterns_refuse_bad_site_ids() -> None:
    with pytest.raises(ValueError, match="invalid site"):
        topics.edge_publish_patterns("+")
    with pytest.raises(ValueError, match="invalid site"):
        topics.edge_client_id("a/b")
    assert topics.edge_client_id(SITE) == "edge-centre-01"
