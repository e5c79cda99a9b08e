"""Take messages from the ingest queue in batches: up to ``batch_max``, waiting at most
``batch_wait_ms`` after the first, but never waiting for what is already queued."""

from __future__ import annotations

import queue
import time
from typing import Generic, TypeVar

T = TypeVar("T")


class Batcher(Generic[T]):
    def __init__(self, source: queue.SimpleQueue[T], batch_max: int, batch_wait_s: float) -> None:
        self._source = source
        self._max = batch_max
        self._wait_s = batch_wait_s

    def take(self, idle_timeout: float) -> list[T]:
        """A batch, or an empty list when nothing came within ``idle_timeout`` seconds."""
        try:
            first = self._source.get(timeout=idle_timeout)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self._wait_s
        while len(batch) < self._max:
            try:
                batch.append(self._source.get_nowait())
                continue
            except queue.Empty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._source.get(timeout=remaining))
            except queue.Empty:
                break
        return batch
