"""A burst of 10,000 queued check-ins is ingested in bulk batches, each receipted once.

How fast is a benchmark's question (`benchmarks/delivery.py --only burst`), not this test's."""

from __future__ import annotations

from collections.abc import Callable

from hub.core.settings import HubSettings
from tests.hub.support import BOOT, Db, EdgeClient, StartWorker, checkin, wait_until

MakeEdge = Callable[..., EdgeClient]
BURST = 10_000


def test_a_queued_burst_is_ingested_in_bulk(
    hub_settings: HubSettings, start_worker: StartWorker, edge: MakeEdge, db: Db
) -> None:
    start_worker().stop()  # the session exists: what follows is queued for it
    centre = edge()
    centre.publish_events([checkin(seq) for seq in range(1, BURST + 1)])

    worker = start_worker()
    wait_until(
        lambda: worker.metrics.value("hub_events_committed_total") == BURST,
        timeout=180,
        what="the burst to be committed",
    )
    batches = worker.metrics.value("hub_batch_size_count")
    assert batches <= BURST / 50, f"{batches} batches: not batching"
    wait_until(
        lambda: centre.receipted() == {(BOOT, s) for s in range(1, BURST + 1)},
        timeout=60,
        what="receipts for the burst",
    )
    assert db.count("checkins") == BURST
