"""The ingest batcher: a lone message goes at once, a stream is gathered into one batch per
interval, a full batch never waits, and nothing is lost or reordered."""

from __future__ import annotations

import threading
import time
from typing import TypeVar

from hub.ingest.batcher import Batcher

T = TypeVar("T")

LONG_S = 5.0
"""An interval no test may sit out: a batch that waited for it would fail the test's bound."""


def test_nothing_queued_gives_an_empty_batch() -> None:
    assert Batcher[int](10, LONG_S).take(0.01) == []


def test_a_message_after_a_quiet_spell_goes_at_once() -> None:
    batcher = Batcher[int](10, LONG_S)
    batcher.put(1)
    started = time.monotonic()
    assert batcher.take(1.0) == [1]
    assert time.monotonic() - started < LONG_S / 2  # it did not sit out the interval


def test_a_stream_is_gathered_until_the_interval_after_the_last_batch() -> None:
    wait_s = 0.5
    batcher = Batcher[int](100, wait_s)
    batcher.put(1)
    assert batcher.take(1.0) == [1]
    taken = time.monotonic()
    batcher.put(2)
    later = threading.Timer(0.05, batcher.put, args=(3,))
    later.start()
    try:
        batch = batcher.take(1.0)
    finally:
        later.join()
    assert batch == [2, 3]  # both came within the interval: one batch, in order
    assert time.monotonic() - taken >= wait_s * 0.9  # it did wait for the interval


def test_a_full_batch_goes_at_once_and_the_rest_follows_in_order() -> None:
    batcher = Batcher[int](3, LONG_S)
    batcher.put(0)
    assert batcher.take(1.0) == [0]
    started = time.monotonic()
    for n in range(1, 5):
        batcher.put(n)
    assert batcher.take(1.0) == [1, 2, 3]
    assert time.monotonic() - started < LONG_S / 2
    assert batcher.qsize() == 1
    feeder = threading.Timer(0.05, _put_all, args=(batcher, [5, 6]))
    feeder.start()
    try:
        assert batcher.take(1.0) == [4, 5, 6]  # filled up by later messages: goes when full
    finally:
        feeder.join()
    assert time.monotonic() - started < LONG_S / 2


def test_every_message_of_several_producers_is_taken_once() -> None:
    batcher = Batcher[tuple[int, int]](50, 0.01)
    producers = [
        threading.Thread(target=_put_all, args=(batcher, [(p, n) for n in range(500)]))
        for p in range(4)
    ]
    for producer in producers:
        producer.start()
    taken: list[tuple[int, int]] = []
    deadline = time.monotonic() + 30
    while len(taken) < 2000 and time.monotonic() < deadline:
        taken += batcher.take(0.1)
    for producer in producers:
        producer.join()
    assert sorted(taken) == sorted((p, n) for p in range(4) for n in range(500))
    for p in range(4):  # each producer's messages in the order it sent them
        assert [n for q, n in taken if q == p] == list(range(500))


def _put_all(batcher: Batcher[T], items: list[T]) -> None:
    for item in items:
        batcher.put(item)
