"""How long the audit log is kept: rows older than the retention are deleted, in bounded batches,
by the hub's periodic job and by ``community audit purge``; nothing is deleted unless the setting
(``HUB_AUDIT_RETENTION_DAYS``) asks for it.

On PostgreSQL the table's trigger (migration 0010) lets only rows older than 180 days go,
whatever is asked: the purge never asks for younger ones, and reads the same clock as the
trigger, so a hub whose clock runs ahead of the database's does not trip it.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Engine, delete, func, select

from hub.audit.models import MIN_RETENTION_DAYS, AuditEntry

log = logging.getLogger(__name__)

PURGE_BATCH = 5_000
"""Rows deleted per transaction: a first purge of years of log holds no lock for long."""
PURGE_INTERVAL_S = 6 * 3600.0


def check_retention(days: int) -> int:
    """``days``, or a ``ValueError`` saying why fewer than the legal minimum are refused."""
    if days < MIN_RETENTION_DAYS:
        raise ValueError(
            f"the audit log must be kept at least {MIN_RETENTION_DAYS} days (China's "
            f"Cybersecurity Law, art. 21: six months), not {days}"
        )
    return days


def cutoff(days: int, now: datetime | None = None) -> datetime:
    """Rows recorded before this time are older than ``days``."""
    return (now or datetime.now(UTC)) - timedelta(days=check_retention(days))


def _older_than(engine: Engine, before: datetime) -> ColumnElement[bool]:
    condition = AuditEntry.at < before
    if engine.dialect.name == "postgresql":
        # the trigger's own test, on the database's clock
        legal = func.now() - timedelta(days=MIN_RETENTION_DAYS)
        condition = condition & (AuditEntry.at < legal)
    return condition


def purge(
    engine: Engine, days: int, *, now: datetime | None = None, batch: int = PURGE_BATCH
) -> int:
    """Delete the audit rows older than ``days`` (at least ``MIN_RETENTION_DAYS``), ``batch``
    rows a transaction; how many went."""
    older = _older_than(engine, cutoff(days, now))
    removed = 0
    while True:
        with engine.begin() as conn:
            ids = list(
                conn.scalars(
                    select(AuditEntry.id).where(older).order_by(AuditEntry.id).limit(batch)
                )
            )
            if ids:
                conn.execute(delete(AuditEntry).where(AuditEntry.id.in_(ids)))
        removed += len(ids)
        if len(ids) < batch:
            return removed


class RetentionJob:
    """Purges the audit log every ``interval_s`` (first at start) on a thread of its own; a
    failure is logged and tried again at the next interval."""

    def __init__(self, engine: Engine, days: int, *, interval_s: float = PURGE_INTERVAL_S) -> None:
        self._engine = engine
        self._days = check_retention(days)
        self._interval_s = interval_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-audit-retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(30)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                removed = purge(self._engine, self._days)
                if removed:
                    log.info("audit log: %d rows older than %d days purged", removed, self._days)
            except Exception:
                log.exception("audit log purge failed; trying again in %.0f s", self._interval_s)
            self._stopping.wait(self._interval_s)
