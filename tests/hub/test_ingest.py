"""Check-ins over a real broker: committed once, receipted, duplicates absorbed, dead letters."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import sqlalchemy as sa

from hub.composition import HubIngest
from hub.ingest.events import AnyEvent
from mqtt_contract import topics
from mqtt_contract.credentials import card_hash
from mqtt_contract.models import MAX_PAYLOAD_BYTES
from tests.hub.support import (
    BOOT,
    CARD_KEY,
    Db,
    EdgeClient,
    StartWorker,
    bays,
    checkin,
    counter,
    event_topic,
    wait_until,
)
from tests.services import ACCOUNTS

MakeEdge = Callable[..., EdgeClient]


def seqs(*numbers: int) -> set[tuple[uuid.UUID, int]]:
    return {(BOOT, n) for n in numbers}


def test_checkins_are_committed_once_and_receipted(
    start_worker: StartWorker, edge: MakeEdge, db: Db
) -> None:
    worker = start_worker()
    centre, other = edge("centre-01"), edge("centre-02")
    events = [checkin(seq) for seq in range(1, 11)]
    centre.publish_events(events)
    other.publish_events([checkin(7, site="centre-02", device="reader-9")])

    wait_until(lambda: centre.receipted() >= seqs(*range(1, 11)), what="centre-01 receipts")
    wait_until(lambda: other.receipted() == seqs(7), what="centre-02 receipt")
    assert centre.receipted() == seqs(*range(1, 11)), "a site gets receipts for its own events"
    rows = db.rows("SELECT event_id, site_id, device_id, seq, card_hash FROM checkins")
    assert len(rows) == 11
    recorded = {str(uuid.UUID(str(r.event_id))) for r in rows if r.site_id == "centre-01"}
    assert recorded == {str(e.id) for e in events}
    assert {r.card_hash for r in rows} == {card_hash(CARD_KEY, "0A1B2C3D4E")}, "the city hash"
    # Sites and devices are registered the first time they are seen.
    assert {(r.site_id, r.id) for r in db.rows("SELECT site_id, id FROM devices")} == {
        ("centre-01", "reader-1"),
        ("centre-02", "reader-9"),
    }
    assert worker.metrics.value("hub_events_committed_total") == 11
    assert worker.metrics.value("hub_messages_received_total", {"kind": "event"}) == 11


def test_counter_and_bay_readings_are_recorded_and_receipted(
    start_worker: StartWorker, edge: MakeEdge, db: Db
) -> None:
    worker = start_worker()
    centre = edge()
    readings: list[AnyEvent] = [
        counter(1, count_in=10, count_out=2),
        bays(2, "0110"),
        checkin(3),
        counter(4, count_in=4_294_967_295, count_out=3),
    ]
    centre.publish_events(readings + readings[:2])
    wait_until(lambda: centre.receipted() == seqs(1, 2, 3, 4), what="receipts")
    wait_until(
        lambda: worker.metrics.value("hub_events_duplicate_total") == 2, what="the duplicates"
    )
    assert [
        (r.seq, r.count_in, r.count_out, r.device_boots)
        for r in db.rows(
            "SELECT seq, count_in, count_out, device_boots FROM counter_readings ORDER BY seq"
        )
    ] == [(1, 10, 2, 1), (4, 4_294_967_295, 3, 1)]
    (bay,) = db.rows("SELECT bays, occupied, total FROM bay_readings")
    assert (bay.bays, bay.occupied, bay.total) == ("0110", 2, 4)
    assert db.count("checkins") == 1
    devices = {r.id for r in db.rows("SELECT id FROM devices")}
    assert devices == {"gate-1", "bays-1", "reader-1"}


def test_duplicates_are_recorded_once_and_receipted_every_time(
    start_worker: StartWorker, edge: MakeEdge, db: Db
) -> None:
    worker = start_worker()
    centre = edge()
    event = checkin(1)
    centre.publish(event_topic(event), event.to_bytes())
    wait_until(lambda: centre.receipt_count() == 1, what="first receipt")
    centre.publish(event_topic(event), event.to_bytes())
    wait_until(lambda: centre.receipt_count() == 2, what="receipt for the duplicate")
    assert centre.receipts[1].ranges[0].first == 1

    # A whole batch replayed, and a message with its redelivery in the same batch.
    batch = [checkin(seq) for seq in range(2, 52)]
    centre.publish_events(batch + batch[:5])
    wait_until(lambda: centre.receipted() >= seqs(*range(1, 52)), what="batch receipts")
    before = centre.receipt_count()
    centre.publish_events(batch)
    wait_until(
        lambda: worker.metrics.value("hub_events_duplicate_total") >= 1 + 5 + 50,
        what="the replay to be processed",
    )
    wait_until(lambda: centre.receipt_count() > before, what="receipts for the replay")
    assert db.count("checkins") == 51
    assert worker.metrics.value("hub_events_committed_total") == 51


def test_an_event_id_reused_for_another_event_is_dead_lettered(
    start_worker: StartWorker, edge: MakeEdge, db: Db
) -> None:
    start_worker()
    centre = edge()
    first = checkin(1)
    clash = checkin(2, event_id=first.id)
    centre.publish_events([first])
    wait_until(lambda: centre.receipted() == seqs(1), what="receipt")
    centre.publish_events([clash])
    wait_until(lambda: db.count("dead_letters") == 1, what="the clash to be dead-lettered")
    (row,) = db.rows("SELECT reason_kind, reason, payload FROM dead_letters")
    assert row.reason_kind == "conflict"
    assert str(first.id) in row.reason
    assert bytes(row.payload) == clash.to_bytes()
    wait_until(lambda: centre.receipted() == seqs(1, 2), what="receipt: the dead letter keeps it")
    assert db.count("checkins") == 1


def _dead_letters(db: Db) -> dict[str, list[sa.Row[tuple[object, ...]]]]:
    found: dict[str, list[sa.Row[tuple[object, ...]]]] = {}
    for row in db.rows(
        "SELECT topic, payload, size, reason_kind, reason FROM dead_letters ORDER BY id"
    ):
        found.setdefault(str(row.reason_kind), []).append(row)
    return found


def test_malformed_messages_are_dead_lettered_and_ingest_goes_on(
    start_worker: StartWorker, edge: MakeEdge, db: Db
) -> None:
    worker: HubIngest = start_worker()
    centre = edge()
    publisher = edge("centre-01", account=ACCOUNTS.publisher)
    topic = topics.event("centre-01", "reader-1", topics.EventKind.CHECKIN)
    valid = json.loads(checkin(1).to_bytes())

    centre.publish(topic, b"not json :(")
    centre.publish(topic, b"\xff\xfe\x00 binary")
    centre.publish(topic, json.dumps({**valid, "seq": -1, "data": None}).encode())
    centre.publish(topic, json.dumps({**valid, "v": 2, "seq": 2}).encode())
    centre.publish(topic, b"x" * (1024 * 1024))
    centre.publish(topic, json.dumps({**valid, "site": "centre-02", "seq": 3}).encode())
    centre.publish(topic, json.dumps({**valid, "device": "reader-2", "seq": 4}).encode())
    centre.publish(topic, b"[1, 2]")
    publisher.publish("yp/v1/Centre-01/reader-1/checkin", checkin(5).to_bytes())
    publisher.publish("yp/v1/centre-01/cmd/checkin", checkin(6).to_bytes())
    good = checkin(10)
    centre.publish(event_topic(good), good.to_bytes())

    wait_until(lambda: centre.receipted() >= seqs(10), what="the valid event after the bad ones")
    wait_until(lambda: db.count("dead_letters") == 10, what="ten dead letters")
    assert db.count("checkins") == 1
    letters = _dead_letters(db)
    assert {kind: len(rows) for kind, rows in letters.items()} == {
        "not_json": 1,
        "not_utf8": 1,
        "schema": 2,
        "version": 1,
        "too_large": 1,
        "mismatch": 2,
        "topic": 2,
    }
    schema = letters["schema"][0]
    assert "seq" in schema.reason
    assert "data" in schema.reason
    assert "not an object" in letters["schema"][1].reason
    assert "version 2" in letters["version"][0].reason
    (large,) = letters["too_large"]
    assert large.size == 1024 * 1024
    assert len(bytes(large.payload)) == MAX_PAYLOAD_BYTES
    assert "exceeds the limit" in large.reason
    assert bytes(letters["not_json"][0].payload) == b"not json :("
    assert {row.topic for row in letters["topic"]} == {
        "yp/v1/Centre-01/reader-1/checkin",
        "yp/v1/centre-01/cmd/checkin",
    }
    mismatch = sorted(row.reason for row in letters["mismatch"])
    assert "device 'reader-2'" in mismatch[0]
    assert "site 'centre-02'" in mismatch[1]

    # What still names this site's boot and seq is receipted (the dead letter keeps it); an
    # event that claims another site is not.
    wait_until(lambda: centre.receipted() >= seqs(2, 4, 10), what="receipts for dead letters")
    assert (BOOT, 3) not in centre.receipted()
    assert (BOOT, -1) not in centre.receipted()
    assert worker.metrics.value("hub_dead_letters_total", {"reason": "too_large"}) == 1
    assert worker.metrics.value("hub_dead_letters_total", {"reason": "mismatch"}) == 2


def test_a_message_the_database_refuses_does_not_stall_the_worker(
    start_worker: StartWorker, edge: MakeEdge, db: Db
) -> None:
    """PostgreSQL refuses NUL in text; the worker isolates that message and goes on."""
    start_worker()
    centre = edge()
    status = {
        "v": 1,
        "site": "centre-01",
        "state": "online",
        "boot": str(BOOT),
        "since": "2026-11-27T08:00:00Z",
        "agent_version": "0.1\u0000evil",
    }
    centre.publish(topics.status("centre-01"), json.dumps(status).encode())
    events = [checkin(seq) for seq in range(1, 6)]
    centre.publish_events(events)
    wait_until(lambda: centre.receipted() >= seqs(1, 2, 3, 4, 5), what="receipts")
    assert db.count("checkins") == 5
    if db.engine.dialect.name == "postgresql":
        (row,) = db.rows("SELECT reason_kind, reason FROM dead_letters")
        assert row.reason_kind == "rejected"
        assert "refused by the database" in row.reason
