"""Occupancy in SQL (SQLite and PostgreSQL): batches in any order and redelivered give the same
live state and rollups; closing time resets; capacity alerts with hysteresis; bays override."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from hub.composition import build_store
from hub.core.db_errors import StoreUnavailableError
from hub.ingest.events import EventRecord
from hub.ingest.store import RecordStore
from hub.venues import rollups
from hub.venues.occupancy import BayReading, GateReading, occupancy_at
from hub.venues.service import OccupancyService
from mqtt_contract import topics
from mqtt_contract.models import CapacityAlert
from mqtt_contract.topics import Command
from tests.hub.venues.support import (
    EDGE_BOOT,
    T0,
    Gate,
    SimVenue,
    batches,
    bays_record,
    counter_record,
    register_venue,
)

DAY_BEFORE = T0 - timedelta(hours=10)  # 22:00 local closing, before T0 (08:00 local)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Harness:
    service: OccupancyService
    clock: Clock
    published: list[tuple[str, bytes]]
    engine: Engine
    store: RecordStore

    def ingest(self, records: list[EventRecord]) -> None:
        """As the ingest worker does: commit the batch, then derive occupancy from it."""
        self.store.write(records)
        self.service.after_commit(records)

    def rows(self, query: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(query), params))

    def live(self, venue: str) -> Any:
        (row,) = self.rows(
            "SELECT occupancy, visits, source FROM venue_occupancy WHERE venue_id = :v", v=venue
        )
        return row

    def alerts(self, venue: str) -> list[CapacityAlert]:
        topic = topics.command(venue, Command.ALERT)
        return [CapacityAlert.model_validate_json(p) for t, p in self.published if t == topic]


@pytest.fixture
def harness(engine: Engine) -> Harness:
    clock = Clock(T0)
    published: list[tuple[str, bytes]] = []

    def publish(topic: str, payload: bytes) -> bool:
        published.append((topic, payload))
        return True

    service = OccupancyService(engine, CollectorRegistry(), publish=publish, clock=clock)
    return Harness(service, clock, published, engine, build_store(engine))


def simulate(seed: int) -> SimVenue:
    """A morning at a venue: people in and out of three gates, a power loss, a wrap, an edge
    restart; every gate read before the power goes."""
    rng = random.Random(seed)
    venue = SimVenue(
        gates=[
            Gate("gate-0", 3, 2**32 - 25, 2**32 - 5),
            Gate("gate-1", 0, 100, 90),
            Gate("gate-2", 7, 0, 0),
        ]
    )
    venue.poll_all()
    for step in range(400):
        gate = rng.randrange(3)
        roll = rng.random()
        if roll < 0.4:
            venue.enter(gate, rng.randint(1, 4))
        elif roll < 0.7:
            venue.leave(gate, rng.randint(1, 4))
        elif roll < 0.97:
            venue.poll(gate)
        elif roll < 0.99:
            venue.power_loss(gate)
        else:
            venue.edge_restart()
        if step % 100 == 99:
            venue.clock += timedelta(minutes=3)
    venue.poll_all()
    return venue


def feed(harness: Harness, venue_id: str, readings: list[GateReading], seed: int) -> None:
    records = [counter_record(venue_id, r) for r in readings]
    rng = random.Random(seed)
    sizes = iter(lambda: rng.randint(1, 40), None)
    for batch in batches(records, sizes):
        harness.ingest(batch)


@pytest.mark.parametrize("seed", [1, 2])
def test_batches_in_any_order_and_redelivered_give_the_same_state(
    engine: Engine, harness: Harness, seed: int
) -> None:
    sim = simulate(seed)
    for venue in ("venue-01", "venue-02"):
        register_venue(engine, venue, capacity=500, closes_at=time(22, 0))
    harness.clock.now = sim.clock + timedelta(seconds=1)
    in_order = sim.readings
    rng = random.Random(seed)
    scrambled = in_order + rng.sample(in_order, 60)
    rng.shuffle(scrambled)

    feed(harness, "venue-01", in_order, seed)
    feed(harness, "venue-02", scrambled, seed + 1)
    reference = occupancy_at(in_order, harness.clock.now, reset_at=DAY_BEFORE, capacity=500)
    assert reference == sim.inside
    assert tuple(harness.live("venue-01")) == (sim.inside, sim.entered, "counters")
    assert tuple(harness.live("venue-02")) == (sim.inside, sim.entered, "counters")

    feed(harness, "venue-01", list(reversed(in_order)), seed + 2)  # redelivered, backwards
    assert tuple(harness.live("venue-01")) == (sim.inside, sim.entered, "counters")

    harness.clock.now = sim.clock + timedelta(minutes=10)
    assert harness.service.roll_up() > 0
    query = (
        "SELECT step, bucket_start, readings, visits, peak, mean, last FROM occupancy_rollups "
        "WHERE venue_id = :v ORDER BY step, bucket_start"
    )
    first = harness.rows(query, v="venue-01")
    second = harness.rows(query, v="venue-02")
    assert first == second
    five = [r for r in first if r.step == "5m"]
    assert sum(r.visits for r in five) == sim.entered
    assert five[-1].last == sim.inside
    assert sum(r.readings for r in five) == len(in_order)
    with engine.connect() as conn:
        stored = rollups.series(conn, "venue-01", "5m", T0, harness.clock.now)
    assert len(stored) == len(five)
    for row in stored:
        before = [r for r in in_order if r.time < row.end]
        assert row.last == occupancy_at(before, row.end, reset_at=DAY_BEFORE, capacity=500)

    # redelivery after the rollups: recomputed, not added to
    feed(harness, "venue-02", in_order, seed + 3)
    harness.service.roll_up()
    assert harness.rows(query, v="venue-02") == second


def gate_reading(seq: int, count_in: int, count_out: int, *, at: datetime) -> GateReading:
    return GateReading("gate-1", 1, EDGE_BOOT, seq, at, count_in, count_out)


def test_alerts_raise_at_the_threshold_and_clear_with_hysteresis(
    engine: Engine, harness: Harness
) -> None:
    register_venue(engine, "venue-03", capacity=10, threshold_pct=90.0)
    seq = itertools.count(1)

    def occupancy(n: int) -> None:
        # base reading first, then n inside
        harness.clock.now += timedelta(seconds=1)
        r = gate_reading(next(seq), 100 + n, 100, at=harness.clock.now)
        harness.ingest([counter_record("venue-03", r)])

    occupancy(0)
    for n in (5, 9, 8, 9, 8, 9):  # hovers at the threshold: one alert
        occupancy(n)
    assert harness.live("venue-03").occupancy == 9
    (raised,) = harness.alerts("venue-03")
    assert (raised.state, raised.occupancy, raised.capacity, raised.threshold_pct) == (
        "raised",
        9,
        10,
        90.0,
    )
    occupancy(10)
    occupancy(8)  # 80 %: not below threshold - 10 points
    assert len(harness.alerts("venue-03")) == 1
    occupancy(7)
    cleared = harness.alerts("venue-03")[-1]
    assert (cleared.state, cleared.occupancy) == ("cleared", 7)
    (row,) = harness.rows(
        "SELECT peak_occupancy, cleared_at IS NOT NULL, raised_published_at IS NOT NULL, "
        "cleared_published_at IS NOT NULL FROM capacity_alerts WHERE venue_id = 'venue-03'"
    )
    assert tuple(row) == (10, True, True, True)

    occupancy(12)  # above capacity: clamped, a second alert
    assert harness.live("venue-03").occupancy == 10
    assert [a.state for a in harness.alerts("venue-03")] == ["raised", "cleared", "raised"]


def test_closing_time_resets_to_zero_and_clears_the_alert(engine: Engine, harness: Harness) -> None:
    # closes at 08:10 local = 00:10 UTC on T0's day
    register_venue(engine, "venue-04", capacity=10, closes_at=time(8, 10))
    harness.clock.now = T0
    harness.ingest(
        [
            counter_record("venue-04", gate_reading(1, 0, 0, at=T0)),
            counter_record("venue-04", gate_reading(2, 10, 0, at=T0 + timedelta(minutes=1))),
        ]
    )
    assert harness.live("venue-04").occupancy == 10
    assert [a.state for a in harness.alerts("venue-04")] == ["raised"]
    harness.clock.now = T0 + timedelta(minutes=9)
    harness.service.tick()
    assert harness.live("venue-04").occupancy == 10
    harness.clock.now = T0 + timedelta(minutes=10)
    harness.service.tick()
    assert harness.live("venue-04").occupancy == 0
    assert [a.state for a in harness.alerts("venue-04")] == ["raised", "cleared"]
    # after the reset people leave: zero, never below; the net flow since the reset counts
    harness.ingest(
        [counter_record("venue-04", gate_reading(3, 12, 8, at=T0 + timedelta(minutes=11)))]
    )
    assert harness.live("venue-04").occupancy == 0
    harness.clock.now = T0 + timedelta(minutes=12)
    harness.ingest(
        [counter_record("venue-04", gate_reading(4, 15, 8, at=T0 + timedelta(minutes=12)))]
    )
    assert harness.live("venue-04").occupancy == 0  # -4 + 3 since the reset, clamped
    harness.ingest(
        [counter_record("venue-04", gate_reading(5, 20, 8, at=T0 + timedelta(minutes=12)))]
    )
    assert harness.live("venue-04").occupancy == 2  # since the reset: 10 in, 8 out


def test_bay_sensors_override_the_counters(engine: Engine, harness: Harness) -> None:
    register_venue(engine, "venue-05", capacity=8, kind="car_park")
    harness.clock.now = T0 + timedelta(minutes=1)
    harness.ingest(
        [
            counter_record("venue-05", gate_reading(1, 0, 0, at=T0)),
            counter_record("venue-05", gate_reading(2, 6, 1, at=T0 + timedelta(seconds=5))),
            bays_record("venue-05", BayReading("bays-1", EDGE_BOOT, 3, T0, "00000000")),
            bays_record(
                "venue-05",
                BayReading("bays-1", EDGE_BOOT, 4, T0 + timedelta(seconds=9), "01100001"),
            ),
        ]
    )
    live = harness.live("venue-05")
    assert (live.occupancy, live.source, live.visits) == (3, "bays", 6)
    harness.clock.now = T0 + timedelta(minutes=10)
    harness.service.roll_up()
    (row,) = harness.rows(
        "SELECT peak, last, visits FROM occupancy_rollups WHERE venue_id = 'venue-05' "
        "AND step = '5m'"
    )
    assert tuple(row) == (3, 3, 6)


def test_a_late_reading_recomputes_its_bucket(engine: Engine, harness: Harness) -> None:
    register_venue(engine, "venue-06", capacity=100)
    b = T0 + timedelta(minutes=5)
    harness.clock.now = T0 + timedelta(minutes=20)
    harness.ingest(
        [
            counter_record("venue-06", gate_reading(1, 0, 0, at=T0)),
            counter_record("venue-06", gate_reading(3, 30, 0, at=b + timedelta(minutes=6))),
        ]
    )
    harness.service.roll_up()
    query = (
        "SELECT bucket_start, peak, last, visits FROM occupancy_rollups WHERE venue_id = "
        "'venue-06' AND step = '5m' ORDER BY bucket_start"
    )
    assert [(r.peak, r.last, r.visits) for r in harness.rows(query)] == [(0, 0, 0), (30, 30, 30)]
    # a reading from the middle bucket arrives late (the edge was offline)
    harness.ingest(
        [counter_record("venue-06", gate_reading(2, 20, 0, at=b + timedelta(minutes=1)))]
    )
    harness.service.roll_up()
    assert [(r.peak, r.last, r.visits) for r in harness.rows(query)] == [
        (0, 0, 0),
        (20, 20, 20),
        (30, 30, 10),
    ]
    (hour,) = harness.rows(
        "SELECT peak, last, visits FROM occupancy_rollups WHERE venue_id = 'venue-06' "
        "AND step = '1h'"
    )
    assert tuple(hour) == (30, 30, 30)
    assert harness.rows("SELECT count(*) FROM occupancy_dirty")[0][0] == 0


def test_readings_of_unregistered_sites_are_left_alone(engine: Engine, harness: Harness) -> None:
    harness.ingest([counter_record("venue-99", gate_reading(1, 5, 0, at=T0))])
    assert harness.rows("SELECT count(*) FROM occupancy_gate_days")[0][0] == 0


@contextmanager
def commits_failing(engine: Engine) -> Iterator[None]:
    """The database really refuses the occupancy transaction after its buckets were marked.

    PostgreSQL: a deferred constraint trigger fails the COMMIT itself with a serialization
    failure (what a busy server does to a transaction). SQLite has no deferred triggers: a
    trigger on the live occupancy (written after the marks, in the same transaction) inserts
    into a table that is gone, "no such table". Both are transient database errors
    (``OperationalError``): the ingest worker derives the batch again."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                sa.text(
                    "CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    "BEGIN RAISE EXCEPTION 'commit refused' USING ERRCODE = "
                    "'serialization_failure'; END $$"
                )
            )
            conn.execute(
                sa.text(
                    "CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT OR UPDATE ON "
                    "venue_occupancy DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                    "EXECUTE FUNCTION refuse_commit()"
                )
            )
        else:
            conn.execute(sa.text("CREATE TABLE refuse_commit (venue_id TEXT)"))
            for event in ("INSERT", "UPDATE"):
                conn.execute(
                    sa.text(
                        f"CREATE TRIGGER refuse_commit_{event.lower()} AFTER {event} ON "
                        "venue_occupancy BEGIN INSERT INTO refuse_commit VALUES "
                        "(new.venue_id); END"
                    )
                )
            conn.execute(sa.text("DROP TABLE refuse_commit"))
    try:
        yield
    finally:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("DROP TRIGGER refuse_commit ON venue_occupancy"))
            else:
                conn.execute(sa.text("DROP TRIGGER refuse_commit_insert"))
                conn.execute(sa.text("DROP TRIGGER refuse_commit_update"))


def test_buckets_marked_in_a_commit_that_failed_are_rolled_up_after_the_retry(
    engine: Engine, harness: Harness
) -> None:
    register_venue(engine, "venue-07", capacity=100)
    readings = [
        counter_record("venue-07", gate_reading(1, 100, 100, at=T0 + timedelta(minutes=1))),
        counter_record("venue-07", gate_reading(2, 112, 100, at=T0 + timedelta(minutes=2))),
    ]
    harness.store.write(readings)  # the batch is recorded
    harness.clock.now = T0 + timedelta(minutes=3)  # its bucket is still open
    with commits_failing(engine), pytest.raises(StoreUnavailableError):
        harness.service.after_commit(readings)  # its occupancy is not
    assert harness.rows("SELECT count(*) FROM occupancy_dirty")[0][0] == 0
    harness.service.after_commit(readings)  # the worker derives the batch again
    assert harness.live("venue-07").occupancy == 12
    harness.clock.now = T0 + timedelta(minutes=10)
    assert harness.service.roll_up() == 1
    (rollup,) = harness.rows(
        "SELECT bucket_start, readings, last FROM occupancy_rollups "
        "WHERE venue_id = 'venue-07' AND step = '5m'"
    )
    assert (rollup.readings, rollup.last) == (2, 12)
