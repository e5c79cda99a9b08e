"""Ingest as a pipe: what it does with no hooks at all, and what a hook can do to a batch."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, Engine

from hub.core.db_errors import StoreUnavailableError
from hub.core.settings import HubSettings
from hub.ingest import IngestWorker
from hub.ingest.decode import decode
from hub.ingest.events import EventRecord, InboundMessage, Record, WriteResult
from hub.ingest.store import RecordStore
from tests.hub.support import BOOT, CARDS, Db, EdgeClient, checkin, event_topic, wait_until

MakeEdge = Callable[..., EdgeClient]


@pytest.fixture
def bare_worker(hub_settings: HubSettings) -> Iterator[Callable[..., IngestWorker]]:
    """A worker as ``hub.ingest`` builds it, nothing plugged in unless the test does."""
    workers: list[IngestWorker] = []

    def make(**kwargs: object) -> IngestWorker:
        worker = IngestWorker(hub_settings, **kwargs)  # type: ignore[arg-type]
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.stop(timeout=2)


def test_a_worker_with_no_hooks_stores_and_receipts(
    bare_worker: Callable[..., IngestWorker], edge: MakeEdge, db: Db
) -> None:
    worker = bare_worker()
    worker.start()
    assert worker.wait_ready(10)
    centre = edge("centre-01")
    centre.publish_events([checkin(seq) for seq in range(1, 6)])
    wait_until(lambda: centre.receipted() == {(BOOT, n) for n in range(1, 6)}, what="receipts")
    assert db.count("checkins") == 5
    assert db.count("attendance") == 0, "attendance is a hook the composition root plugs in"


class _Recorder:
    """A before-ack listener and a commit listener that write down when they were told."""

    def __init__(self, seen: list[str]) -> None:
        self.seen = seen

    def after_commit(self, records: Sequence[Record]) -> None:
        self.seen.append(f"before-ack {len(records)}")

    def __call__(self, records: Sequence[Record], result: WriteResult) -> None:
        self.seen.append(f"committed {result.committed}")


def test_listeners_run_after_the_commit_in_their_order(
    bare_worker: Callable[..., IngestWorker], edge: MakeEdge
) -> None:
    seen: list[str] = []
    recorder = _Recorder(seen)
    worker = bare_worker()
    worker.add_before_ack(recorder)
    worker.add_commit_listener(recorder)
    worker.start()
    assert worker.wait_ready(10)
    centre = edge("centre-01")
    centre.publish_events([checkin(1)])
    wait_until(lambda: centre.receipted() == {(BOOT, 1)}, what="receipt")
    wait_until(lambda: len(seen) == 2, what="both listeners")
    assert seen == ["before-ack 1", "committed 1"]


def _message(seq: int) -> InboundMessage:
    event = checkin(seq)
    return InboundMessage(
        topic=event_topic(event),
        payload=event.to_bytes(),
        mid=seq,
        qos=1,
        retained=False,
        received_at=datetime.now(UTC),
        generation=1,
    )


def test_a_failing_hook_rolls_the_batch_back(engine: Engine, db: Db) -> None:
    seen: list[uuid.UUID] = []

    def failing(conn: Connection, new_events: Sequence[EventRecord]) -> None:
        seen.extend(r.event.id for r in new_events)
        raise RuntimeError("hook failed")

    records = [decode(_message(seq), cards=CARDS) for seq in (1, 2, 3)]
    with pytest.raises(RuntimeError, match="hook failed"):
        RecordStore(engine, [failing]).write(records)
    assert len(seen) == 3, "the hook saw the batch's new events"
    assert db.count("checkins") == 0, "and its failure took them back out"
    assert db.count("sites") == 0

    result = RecordStore(engine).write(records)
    assert result.committed == 3, "the same batch commits once nothing fails in its transaction"


def test_a_hook_that_finds_the_database_unavailable_is_retried(
    bare_worker: Callable[..., IngestWorker], edge: MakeEdge, db: Db
) -> None:
    calls: list[int] = []

    def flaky(conn: Connection, new_events: Sequence[EventRecord]) -> None:
        calls.append(len(new_events))
        if len(calls) == 1:
            raise StoreUnavailableError("not now")

    worker = bare_worker(hooks=[flaky], retry_initial_s=0.01)
    worker.start()
    assert worker.wait_ready(10)
    centre = edge("centre-01")
    centre.publish_events([checkin(1)])
    wait_until(lambda: centre.receipted() == {(BOOT, 1)}, what="receipt")
    assert calls == [1, 1], "rolled back once, then committed with the hook run again"
    assert db.count("checkins") == 1
    assert worker.metrics.value("hub_commit_failures_total") == 1


def test_ingest_imports_none_of_what_listens_to_it() -> None:
    """In a fresh interpreter: importing ingest and its public modules loads no records, venues,
    telemetry, live stream or API code (the composition root plugs them in)."""
    code = (
        "import sys, hub.ingest, hub.ingest.events, hub.ingest.hooks\n"
        "listeners = ('org', 'venues', 'telemetry', 'live', 'api')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[:2][-1] in listeners"
        " and m.startswith('hub.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
