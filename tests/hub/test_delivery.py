"""The delivery guarantees: acknowledge only after the commit, persistent sessions, retry.

The database is made really unavailable (an exclusive lock on SQLite, a database refusing
connections on PostgreSQL); whether a message was acknowledged is seen from the broker: what was
not acknowledged is delivered again to the next session with the same client id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from demo.broker.mosquitto import MosquittoBroker
from hub.core.settings import HubSettings
from tests.hub.support import (
    BOOT,
    Db,
    EdgeClient,
    Outage,
    StartWorker,
    checkin,
    wait_until,
)

MakeEdge = Callable[..., EdgeClient]
FAST_RETRY = {"retry_initial_s": 0.05, "retry_max_s": 0.2}


def seqs(*numbers: int) -> set[tuple[uuid.UUID, int]]:
    return {(BOOT, n) for n in numbers}


def test_nothing_is_acknowledged_while_the_commit_fails(
    start_worker: StartWorker, edge: MakeEdge, db: Db, outage: Outage
) -> None:
    first = start_worker(**FAST_RETRY)
    centre = edge()
    outage.down()
    centre.publish_events([checkin(seq) for seq in range(1, 6)])
    wait_until(
        lambda: first.metrics.value("hub_commit_failures_total") >= 2, what="commits to fail"
    )
    assert first.status().failing_since is not None
    first.stop(timeout=0.3)  # gives up on the batch in hand: it must stay unacknowledged
    assert centre.receipt_count() == 0
    outage.up()
    assert db.count("checkins") == 0

    second = start_worker()  # same client id: the broker's session still holds the messages
    assert second.status().session_present
    wait_until(lambda: centre.receipted() == seqs(1, 2, 3, 4, 5), what="redelivered events")
    assert db.count("checkins") == 5
    assert second.metrics.value("hub_events_committed_total") == 5


def test_a_failing_batch_is_retried_until_the_database_is_back(
    start_worker: StartWorker, edge: MakeEdge, db: Db, outage: Outage
) -> None:
    worker = start_worker(**FAST_RETRY)
    centre = edge()
    centre.publish_events([checkin(1)])
    wait_until(lambda: centre.receipted() == seqs(1), what="first receipt")

    outage.down()
    centre.publish_events([checkin(seq) for seq in range(2, 12)])
    wait_until(lambda: worker.metrics.value("hub_commit_failures_total") >= 3, what="failures")
    assert centre.receipted() == seqs(1)
    outage.up()
    wait_until(lambda: centre.receipted() == seqs(*range(1, 12)), what="receipts after recovery")
    assert db.count("checkins") == 11
    assert worker.status().failing_since is None


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_a_persistent_session_keeps_what_arrives_while_the_hub_is_away(
    hub_settings: HubSettings,
    start_worker: StartWorker,
    edge: MakeEdge,
    db: Db,
    protocol: str,
) -> None:
    settings = hub_settings.model_copy(update={"mqtt_protocol": protocol})
    start_worker(settings).stop()
    centre = edge()
    centre.publish_events([checkin(seq) for seq in range(1, 201)])

    worker = start_worker(settings)
    assert worker.status().session_present
    wait_until(lambda: centre.receipted() == seqs(*range(1, 201)), what="queued events")
    assert db.count("checkins") == 200


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_what_was_committed_is_acknowledged_and_never_delivered_again(
    hub_settings: HubSettings,
    start_worker: StartWorker,
    edge: MakeEdge,
    db: Db,
    protocol: str,
) -> None:
    """The acks of a batch go out together (one write): the broker must take every one of them,
    or the next session with the same client id would get those messages again."""
    settings = hub_settings.model_copy(update={"mqtt_protocol": protocol})
    first = start_worker(settings)
    centre = edge()
    centre.publish_events([checkin(seq) for seq in range(1, 301)])
    wait_until(lambda: centre.receipted() == seqs(*range(1, 301)), what="receipts")
    assert first.metrics.value("hub_batch_size_count") > 1  # several batches were acked
    first.stop()

    second = start_worker(settings)
    assert second.status().session_present
    centre.publish_events([checkin(301)])  # after anything the broker would deliver again
    wait_until(lambda: (BOOT, 301) in centre.receipted(), what="the new event's receipt")
    assert second.metrics.value("hub_events_committed_total") == 1
    assert second.metrics.value("hub_events_duplicate_total") == 0
    assert db.count("checkins") == 301


def test_workers_in_a_shared_subscription_split_the_load_and_record_each_event_once(
    hub_settings: HubSettings, start_worker: StartWorker, edge: MakeEdge, db: Db
) -> None:
    shared = hub_settings.model_copy(update={"mqtt_shared_group": "hub"})
    workers = [
        start_worker(shared.model_copy(update={"mqtt_client_id": f"{shared.mqtt_client_id}-{n}"}))
        for n in range(2)
    ]
    centre = edge()
    events = [checkin(seq) for seq in range(1, 1001)]
    centre.publish_events(events + events[:100])  # resent ones may land on either worker
    wait_until(lambda: centre.receipted() == seqs(*range(1, 1001)), what="every receipt")
    wait_until(
        lambda: sum(w.metrics.value("hub_events_duplicate_total") for w in workers) == 100,
        what="the resent events",
    )
    assert db.count("checkins") == 1000
    committed = [w.metrics.value("hub_events_committed_total") for w in workers]
    assert sum(committed) == 1000
    assert all(n > 0 for n in committed), committed


def test_after_the_broker_loses_everything_the_worker_subscribes_again(
    mosquitto: MosquittoBroker, start_worker: StartWorker, edge: MakeEdge, db: Db
) -> None:
    worker = start_worker()
    mosquitto.kill()
    for leftover in mosquitto.workdir.glob("*.db"):
        leftover.unlink()  # no persistence file: every session and subscription is gone
    mosquitto.start()
    wait_until(lambda: worker.status().session_present is False, what="a new session")
    assert worker.wait_ready(10)  # subscribed again on the new connection
    centre = edge()
    centre.publish_events([checkin(seq) for seq in range(1, 6)])
    wait_until(lambda: centre.receipted() == seqs(1, 2, 3, 4, 5), what="receipts")
    assert db.count("checkins") == 5


def test_a_schema_problem_holds_the_batch_instead_of_dead_lettering_it(
    start_worker: StartWorker, edge: MakeEdge, db: Db
) -> None:
    """A missing table is not the message's fault: wait for the database to be put right."""
    worker = start_worker(**FAST_RETRY)
    centre = edge()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE checkins RENAME TO checkins_away")
    centre.publish_events([checkin(1), checkin(2)])
    wait_until(lambda: worker.metrics.value("hub_commit_failures_total") >= 2, what="failures")
    assert centre.receipt_count() == 0
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE checkins_away RENAME TO checkins")
    wait_until(lambda: centre.receipted() == seqs(1, 2), what="receipts once the table is back")
    assert db.count("checkins") == 2
    assert db.count("dead_letters") == 0
