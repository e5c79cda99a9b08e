"""The retention job: every kind purged every few hours (first soon after start) on a thread of
its own, its figures on ``/metrics`` (``hub.metrics.RetentionMetrics``)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine

from hub.core.retention import Kind, PurgeResult, purge
from hub.metrics import RetentionMetrics

log = logging.getLogger(__name__)

FIRST_RUN_S = 300.0
"""The first run waits this long after start: a restarted hub first catches up with the backlog
its edges send, and a short-lived one (a test, a migration check) purges nothing."""


def run(
    engine: Engine,
    kinds: Sequence[Kind],
    metrics: RetentionMetrics | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, PurgeResult]:
    """Purge every kind; one that fails is logged and counted, and the others still run."""
    started = time.monotonic()
    results: dict[str, PurgeResult] = {}
    for kind in kinds:
        try:
            result = purge(engine, kind, now=now)
        except Exception:
            log.exception("retention of %s failed; trying again at the next run", kind.name)
            if metrics is not None:
                metrics.failures.labels(kind.name).inc()
            continue
        results[kind.name] = result
        if metrics is not None:
            metrics.rows.labels(kind.name).inc(result.rows)
            metrics.partitions.labels(kind.name).inc(result.partitions)
        if result.rows or result.partitions:
            log.info(
                "retention: %s before %s: %d rows deleted, %d partitions dropped",
                kind.name,
                result.cutoff,
                result.rows,
                result.partitions,
            )
    if metrics is not None:
        metrics.duration.set(time.monotonic() - started)
        metrics.last_run.set(time.time())
    return results


class RetentionJob:
    """Runs :func:`run` every ``interval_s``, first ``first_run_s`` after start."""

    def __init__(
        self,
        engine: Engine,
        kinds: Sequence[Kind],
        metrics: RetentionMetrics | None = None,
        *,
        interval_s: float,
        first_run_s: float = FIRST_RUN_S,
    ) -> None:
        self._engine = engine
        self.kinds = tuple(kinds)
        self._metrics = metrics
        self._interval_s = interval_s
        self._first_run_s = first_run_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(30)

    def _run(self) -> None:
        if self._stopping.wait(self._first_run_s):
            return
        while not self._stopping.is_set():
            run(self._engine, self.kinds, self._metrics)
            self._stopping.wait(self._interval_s)
