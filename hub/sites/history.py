"""The sites' heartbeat history: one heartbeat a step per site, kept a bounded time.

Why a table and not the ``edge_health`` points in InfluxDB: InfluxDB is optional (the demo and
small hubs run without it), the hub only writes to it, and its sink drops points under pressure
by design. The operations page must show a site's recent history on any hub, so the hub keeps its
own, small and bounded: at most one row per site per ``site_history_step_s`` (the first heartbeat
of each step; a redelivered one lands on the same key and is ignored), rows older than
``site_history_keep_h`` deleted as it goes. A city's 60 sites at the defaults (60 s, 24 h) make
86,400 rows; Grafana over InfluxDB remains the place for long history.

It runs after each batch's commit and before its ack (``hub.ingest.hooks.BeforeAck``): one
``INSERT ... ON CONFLICT DO NOTHING`` for the batch's heartbeats, and a ``DELETE`` at most once
a step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete

from hub.core.db_errors import StoreUnavailableError, describe, is_transient
from hub.core.dialect import insert_for
from hub.ingest.events import HealthRecord, Record
from hub.sites.models import SiteBeat
from hub.sites.view import BAD_DEVICE_STATES

log = logging.getLogger(__name__)


def step_start(at: datetime, step_s: float) -> datetime:
    """The start of the step ``at`` falls in (steps counted from the Unix epoch)."""
    seconds = at.timestamp()
    return datetime.fromtimestamp(seconds - seconds % step_s, UTC)


def beats_of(records: Sequence[Record], step_s: float) -> list[dict[str, Any]]:
    """One row per site and step: the first heartbeat of it in this batch."""
    rows: dict[tuple[str, datetime], dict[str, Any]] = {}
    for record in records:
        if not isinstance(record, HealthRecord):
            continue
        h = record.health
        key = (h.site, step_start(record.received_at, step_s))
        rows.setdefault(
            key,
            {
                "site_id": h.site,
                "at": key[1],
                "heartbeat_at": h.ts,
                "uptime_s": h.uptime_s,
                "outbox_depth": h.outbox_depth,
                "oldest_pending_s": h.oldest_pending_s,
                "devices": len(h.devices),
                "devices_bad": sum(1 for d in h.devices if d.state in BAD_DEVICE_STATES),
            },
        )
    return list(rows.values())


class HeartbeatHistory:
    """Registered with ingest by the composition root (``add_before_ack``)."""

    def __init__(self, engine: Engine, *, step_s: float, keep_h: float) -> None:
        self._engine = engine
        self._step_s = step_s
        self._keep = timedelta(hours=keep_h)
        self._pruned_at = float("-inf")

    def after_commit(self, records: Sequence[Record]) -> None:
        rows = beats_of(records, self._step_s)
        if not rows:
            return
        try:
            with self._engine.begin() as conn:
                conn.execute(insert_for(conn)(SiteBeat).on_conflict_do_nothing(), rows)
                self._prune(conn)
        except Exception as err:
            if is_transient(err):  # held: the batch's ack waits, and it is tried again
                raise StoreUnavailableError(describe(err)) from err
            log.exception("could not keep the sites' heartbeat history; ingest goes on")

    def _prune(self, conn: Connection) -> None:
        now = time.monotonic()
        if now - self._pruned_at < self._step_s:
            return
        self._pruned_at = now
        prune(conn, datetime.now(UTC) - self._keep)


def prune(conn: Connection, before: datetime) -> int:
    """Delete the history older than ``before``; how many rows went."""
    return conn.execute(delete(SiteBeat).where(SiteBeat.at < before)).rowcount
