"""The ingest queue, taken in batches of up to ``batch_max``.

A batch closes ``batch_wait_s`` after the previous one was taken, or at once when the queue holds a
full batch; a message that arrives after a quiet spell goes at once, and none waits longer than
``batch_wait_s``. So a lone tap is committed without delay, while a steady stream (the city's
sensors) is committed a few times a second in batches large enough that the cost per batch
(transactions, receipts) stays small.

The consumer is woken for the first message of a batch and when a batch is full, not for every
message: at hundreds of messages a second, a wake-up per message was a visible share of the hub's
CPU.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Batcher(Generic[T]):
    def __init__(self, batch_max: int, batch_wait_s: float) -> None:
        self._max = batch_max
        self._wait_s = batch_wait_s
        self._items: deque[T] = deque()
        self._ready = threading.Condition(threading.Lock())
        self._first_at = 0.0
        """When the oldest queued message arrived."""
        self._taken_at = -float("inf")

    def put(self, item: T) -> None:
        """Queue a message (any thread); wakes the consumer only when that can matter."""
        with self._ready:
            self._items.append(item)
            size = len(self._items)
            if size == 1:
                self._first_at = time.monotonic()
                self._ready.notify()
            elif size == self._max:
                self._ready.notify()

    def qsize(self) -> int:
        return len(self._items)

    def take(self, idle_timeout: float) -> list[T]:
        """A batch, or an empty list when nothing came within ``idle_timeout`` seconds."""
        with self._ready:
            if not self._items:
                self._ready.wait(idle_timeout)
                if not self._items:
                    return []
            first = self._first_at
            deadline = min(max(first, self._taken_at + self._wait_s), first + self._wait_s)
            while len(self._items) < self._max:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._ready.wait(remaining)
            count = min(len(self._items), self._max)
            batch = [self._items.popleft() for _ in range(count)]
            # what is left (the batch was full) keeps ``_first_at``: it came after that, so the
            # next batch still closes no later than ``batch_wait_s`` after its first message
            self._taken_at = time.monotonic()
            return batch
