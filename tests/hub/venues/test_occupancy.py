"""The occupancy algorithm, property-tested: a simulated venue (people in and out through gates,
power losses, counters that wrap) against what its readings say, in any order, with duplicates."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.venues.hours import day_start, opening_window, resets_between
from hub.venues.occupancy import (
    WRAP,
    BayLedger,
    BayReading,
    GateLedger,
    GateReading,
    bucket_stats,
    first_boots,
    occupancy_at,
    unique_sorted,
)
from tests.hub.venues.support import EDGE_BOOTS, T0, Gate, SimVenue

near_wrap = st.integers(min_value=WRAP - 40, max_value=WRAP - 1)
start_count = st.one_of(st.integers(min_value=0, max_value=1000), near_wrap)
op = st.one_of(
    st.tuples(st.just("in"), st.integers(0, 2), st.integers(1, 30)),
    st.tuples(st.just("out"), st.integers(0, 2), st.integers(1, 30)),
    st.tuples(st.just("poll"), st.integers(0, 2), st.just(0)),
    st.tuples(st.just("power"), st.integers(0, 2), st.just(0)),
    st.tuples(st.just("edge"), st.just(0), st.just(0)),
    st.tuples(st.just("poll_all"), st.just(0), st.just(0)),
)


@st.composite
def venues(draw: st.DrawFn) -> SimVenue:
    n = draw(st.integers(1, 3))
    gates = [
        Gate(f"gate-{i}", draw(st.integers(0, 5)), draw(start_count), draw(start_count))
        for i in range(n)
    ]
    venue = SimVenue(gates=gates)
    venue.poll_all()  # the venue opens empty and every gate is read
    for kind, drawn_gate, k in draw(st.lists(op, max_size=60)):
        gate = drawn_gate % n
        if kind == "in":
            venue.enter(gate, k)
        elif kind == "out":
            venue.leave(gate, k)
        elif kind == "poll":
            venue.poll(gate)
        elif kind == "power":
            venue.power_loss(gate)
        elif kind == "edge":
            venue.edge_restart()
        else:
            venue.poll_all()
    venue.poll_all()
    return venue


def shuffled_with_duplicates(readings: list[GateReading], seed: int) -> list[GateReading]:
    rng = random.Random(seed)
    copy = readings + rng.sample(readings, k=min(len(readings), rng.randint(0, 10)))
    rng.shuffle(copy)
    return copy


BEFORE = T0 - timedelta(hours=1)


@given(venues(), st.integers(0, 10_000))
def test_any_order_with_duplicates_gives_the_true_occupancy(venue: SimVenue, seed: int) -> None:
    """Across power losses, wraps and edge restarts, every reading once or twice, in any order."""
    capacity = 10_000
    expected = venue.inside
    assert occupancy_at(venue.readings, venue.clock, reset_at=BEFORE, capacity=capacity) == expected
    mixed = shuffled_with_duplicates(venue.readings, seed)
    assert occupancy_at(mixed, venue.clock, reset_at=BEFORE, capacity=capacity) == expected


@given(venues(), st.integers(1, 60))
def test_clamped_to_capacity(venue: SimVenue, capacity: int) -> None:
    got = occupancy_at(venue.readings, venue.clock, reset_at=BEFORE, capacity=capacity)
    assert got == min(venue.inside, capacity)


@given(venues(), st.data())
def test_closing_resets_to_zero_and_counts_from_there(venue: SimVenue, data: st.DataObject) -> None:
    """Reset right after a reading of every gate: afterwards only the net flow since counts."""
    polls = sorted(venue.people_at_poll)
    upto = data.draw(st.sampled_from(polls))
    reset_at = venue.readings[upto - 1].time + timedelta(milliseconds=500)
    since_reset = venue.inside - venue.people_at_poll[upto]
    got = occupancy_at(venue.readings, venue.clock, reset_at=reset_at, capacity=10_000)
    assert got == max(0, since_reset)


garbage_reading = st.builds(
    GateReading,
    device=st.sampled_from(["gate-0", "gate-1"]),
    device_boots=st.integers(0, 3),
    edge_boot=st.sampled_from(EDGE_BOOTS),
    seq=st.integers(0, 50),
    time=st.integers(0, 100).map(lambda s: T0 + timedelta(seconds=s)),
    count_in=st.integers(0, WRAP - 1),
    count_out=st.integers(0, WRAP - 1),
)


@given(st.lists(garbage_reading, max_size=40), st.integers(1, 500), st.integers(0, 100))
def test_never_below_zero_nor_above_capacity(
    readings: list[GateReading], capacity: int, reset_s: int
) -> None:
    got = occupancy_at(
        readings,
        T0 + timedelta(seconds=100),
        reset_at=T0 + timedelta(seconds=reset_s),
        capacity=capacity,
    )
    assert 0 <= got <= capacity


@given(st.lists(garbage_reading, max_size=40), st.integers(0, 10_000))
def test_order_and_duplicates_never_matter_even_for_nonsense(
    readings: list[GateReading], seed: int
) -> None:
    at, reset = T0 + timedelta(seconds=80), T0 + timedelta(seconds=30)
    a = occupancy_at(readings, at, reset_at=reset, capacity=WRAP)
    b = occupancy_at(shuffled_with_duplicates(readings, seed), at, reset_at=reset, capacity=WRAP)
    assert a == b


@settings(max_examples=50)
@given(venues(), st.integers(2, 20))
def test_buckets_replay_the_same_occupancy(venue: SimVenue, bucket_s: int) -> None:
    """Rollup buckets carried one into the next end where the reference says, and their visits
    add up to everyone who came in."""
    readings = unique_sorted(venue.readings)
    ledger = GateLedger(first_boot=first_boots(readings))
    start = T0
    total_visits = 0
    while start <= venue.clock:
        end = start + timedelta(seconds=bucket_s)
        inside = [r for r in readings if start <= r.time < end]
        stats = bucket_stats(
            start=start, end=end, capacity=10_000, gates=ledger, gate_readings=inside
        )
        before_end = [r for r in readings if r.time < end]
        assert stats.last == occupancy_at(before_end, end, reset_at=BEFORE, capacity=10_000)
        assert stats.peak >= stats.last
        assert 0 <= stats.mean <= stats.peak
        assert stats.readings == len(inside)
        total_visits += stats.visits
        start = end
    assert total_visits == venue.entered
    assert stats.last == venue.inside


def test_visits_count_people_in_across_a_wrap_and_a_power_loss() -> None:
    def gate(seq: int, boots: int, cin: int) -> GateReading:
        return GateReading("gate-1", boots, EDGE_BOOTS[0], seq, T0 + timedelta(seconds=seq), cin, 0)

    readings = [gate(1, 3, WRAP - 2), gate(2, 3, 3), gate(3, 4, 4), gate(4, 4, 9)]
    ledger = GateLedger(first_boot=first_boots(readings))
    stats = bucket_stats(
        start=T0,
        end=T0 + timedelta(seconds=10),
        capacity=100,
        gates=ledger,
        gate_readings=readings,
    )
    assert stats.visits == 5 + 4 + 5  # wrap: 2 to zero +3; restart from 0 to 4; then 4 to 9
    assert stats.last == 14


def test_a_reset_inside_a_bucket_sets_occupancy_to_zero() -> None:
    r = [
        GateReading("g", 1, EDGE_BOOTS[0], 1, T0 + timedelta(seconds=1), 10, 0),
        GateReading("g", 1, EDGE_BOOTS[0], 2, T0 + timedelta(seconds=2), 20, 0),
        GateReading("g", 1, EDGE_BOOTS[0], 3, T0 + timedelta(seconds=6), 23, 1),
    ]
    ledger = GateLedger(first_boot=first_boots(r))
    ledger.apply(r[0])
    stats = bucket_stats(
        start=T0 + timedelta(seconds=2),
        end=T0 + timedelta(seconds=10),
        capacity=100,
        gates=ledger,
        gate_readings=r[1:],
        resets=[T0 + timedelta(seconds=4)],
    )
    assert stats.peak == 10
    assert stats.last == 2
    # 10 for 2 s, 0 for 2 s, 2 for 4 s over 8 s
    assert stats.mean == (10 * 2 + 0 * 2 + 2 * 4) / 8


def test_bays_override_counters_and_count_arrivals() -> None:
    gates = [GateReading("g", 1, EDGE_BOOTS[0], 1, T0, 0, 0)]
    bays = [
        BayReading("bays-1", EDGE_BOOTS[0], 2, T0 + timedelta(seconds=1), "0110"),
        BayReading("bays-1", EDGE_BOOTS[0], 3, T0 + timedelta(seconds=2), "1100"),
    ]
    assert occupancy_at(gates, T0 + timedelta(seconds=5), reset_at=BEFORE, capacity=3) == 0 + 0
    at = T0 + timedelta(seconds=5)
    assert occupancy_at(gates, at, reset_at=BEFORE, capacity=3, bays=bays) == 2
    stats = bucket_stats(
        start=T0,
        end=T0 + timedelta(seconds=4),
        capacity=3,
        gates=GateLedger(first_boot={}),
        gate_readings=[],
        bay_ledger=BayLedger(),
        bay_readings=bays,
    )
    assert stats.visits == 1  # bay 1 arrived; bay 3 left; the first reading is where we start
    assert stats.peak == 2
    assert stats.last == 2


def test_day_start_is_the_last_closing_in_the_city() -> None:
    closes = time(22, 0)
    # 2026-11-27 13:59 UTC is 21:59 in Yuanping: the day began at the previous closing
    assert day_start(datetime(2026, 11, 27, 13, 59, tzinfo=UTC), closes) == datetime(
        2026, 11, 26, 14, 0, tzinfo=UTC
    )
    assert day_start(datetime(2026, 11, 27, 14, 0, tzinfo=UTC), closes) == datetime(
        2026, 11, 27, 14, 0, tzinfo=UTC
    )
    assert resets_between(
        datetime(2026, 11, 27, 14, 0, tzinfo=UTC), datetime(2026, 11, 29, 14, 0, tzinfo=UTC), closes
    ) == [datetime(2026, 11, 28, 14, 0, tzinfo=UTC)]


def test_opening_window_past_midnight() -> None:
    day = datetime(2026, 11, 27, tzinfo=UTC)
    opens, closes = opening_window(day, time(18, 0), time(2, 0))
    assert opens == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert closes == datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
