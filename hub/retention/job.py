"""The retention job: every kind purged every few hours (first soon after start) on a thread of
its own, its figures on ``/metrics`` (``hub.metrics.RetentionMetrics``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine

from hub.core.periodic import PeriodicJob
from hub.core.retention import Kind, PurgeResult, purge
from hub.metrics import RetentionMetrics

log = logging.getLogger(__name__)

FIRST_RUN_S = 300.0
"""The first run waits this long after start: a restarted hub first catches up with the backlog
its edges send, and a short-lived one (a test, a migration check) purges nothing."""


LOCK_KEY = 0x7970_7265_7465_6E00  # "ypreten": one PostgreSQL advisory lock for the job
"""Several hub workers on one database (a shared subscription) each run the job: one at a time
purges; the others find the lock taken and skip that run."""


@contextmanager
def _exclusive(engine: Engine) -> Iterator[bool]:
    if engine.dialect.name != "postgresql":
        yield True  # SQLite: one writer at a time anyway
        return
    with engine.connect() as conn:
        got = bool(conn.exec_driver_sql("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
                conn.commit()


def run(
    engine: Engine,
    kinds: Sequence[Kind],
    metrics: RetentionMetrics | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, PurgeResult]:
    """Purge every kind; one that fails is logged and counted, and the others still run. Nothing
    (an empty result) if another process is running it on the same PostgreSQL database."""
    with _exclusive(engine) as mine:
        if not mine:
            log.info("retention: another process is running it; skipped")
            return {}
        return _run(engine, kinds, metrics, now)


def _run(
    engine: Engine, kinds: Sequence[Kind], metrics: RetentionMetrics | None, now: datetime | None
) -> dict[str, PurgeResult]:
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


class RetentionJob(PeriodicJob):
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
        super().__init__(name="hub-retention", interval_s=interval_s, first_run_s=first_run_s)
        self._engine = engine
        self.kinds = tuple(kinds)
        self._metrics = metrics

    def tick(self) -> None:
        run(self._engine, self.kinds, self._metrics)
