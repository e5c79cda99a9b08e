"""The live publisher: its own thread between ingest and the feed; a full queue costs the
clients a resync, never ingest a wait."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import sqlalchemy as sa

from hub.core.db import make_engine, upgrade
from hub.ingest.store import WriteResult
from hub.live import LiveFeed, LivePublisher, LiveTopic, Take


def _engine(tmp_path: Path) -> sa.Engine:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    return make_engine(url)


def test_recomputed_occupancy_reaches_the_feed(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    feed = LiveFeed()
    publisher = LivePublisher(feed, engine)

    async def run() -> Take:
        sub = feed.subscribe([LiveTopic.OCCUPANCY], asyncio.get_running_loop())
        publisher.start()
        publisher.occupancy_changed(["venue-01", "venue-02"])
        taken = Take()
        while len(taken.events) < 2:
            more = await sub.take(5.0)
            assert more.events, "nothing came"
            taken.events += more.events
        return taken

    try:
        taken = asyncio.run(run())
    finally:
        publisher.stop()
        engine.dispose()
    assert [json.loads(e.json) for e in taken.events] == [
        {"venue_id": "venue-01"},
        {"venue_id": "venue-02"},
    ]


def test_a_full_queue_drops_and_tells_every_client_to_resync(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    feed = LiveFeed()
    publisher = LivePublisher(feed, engine, queue_max=2)

    async def run() -> Take:
        sub = feed.subscribe(list(LiveTopic), asyncio.get_running_loop())
        for n in range(5):  # the publisher's thread is not running: the queue fills
            publisher.occupancy_changed([f"venue-{n:02d}"])
        assert publisher.dropped_batches == 3
        publisher(records=[], result=WriteResult())  # nothing committed: not even queued
        publisher.start()
        taken = Take()
        while len(taken.events) < 2:
            more = await sub.take(5.0)
            assert more.events or more.resync, "nothing came"
            taken.resync |= more.resync
            taken.events += more.events
        return taken

    try:
        taken = asyncio.run(run())
    finally:
        publisher.stop()
        engine.dispose()
    assert taken.resync, "the clients were told they lost events"
    assert [json.loads(e.json)["venue_id"] for e in taken.events] == ["venue-00", "venue-01"]
