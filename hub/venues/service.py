"""The occupancy service: derives venue occupancy from each committed ingest batch, and keeps
rollups, closing-time resets and alert messages going on a thread of its own.

``after_commit`` runs on the ingest thread after the batch's commit and before its
acknowledgement, in one transaction of its own: if the hub dies in between, the broker delivers
the batch again and the (idempotent) derivation runs again. A database that fails here raises
``StoreUnavailableError`` (the worker retries); any other failure is logged and counted, the
venues are recomputed by the next tick, and ingest goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry
from sqlalchemy import Connection, Engine, select

from hub.core.db_errors import StoreUnavailableError, describe, is_transient
from hub.ingest.events import EventRecord, Record
from hub.metrics import OccupancyMetrics
from hub.org.calendar import local_date_of
from hub.telemetry.points import Sample, occupancy_sample
from hub.venues import alerts, rollups, state
from hub.venues.models import CapacityAlertRecord
from hub.venues.occupancy import BayReading, GateReading
from hub.venues.registry import VenueInfo, VenueRegistry
from mqtt_contract.models import BaysEvent, CounterEvent

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Offer = Callable[[Sequence[Sample]], None]
LiveListener = Callable[[Sequence[str]], None]
"""Told the ids of the venues whose live occupancy was just recomputed and committed."""

ROLLUP_GRACE = timedelta(seconds=2)
"""A bucket is rolled up this long after it closed (readings still in the batcher)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OccupancyService:
    def __init__(
        self,
        engine: Engine,
        registry: CollectorRegistry,
        *,
        publish: alerts.Publish,
        telemetry: Offer | None = None,
        tick_s: float = 5.0,
        live_s: float = 0.0,
        clock: Clock = _utcnow,
    ) -> None:
        """``live_s``: 0 recomputes the live occupancy of the venues a batch touched in the
        batch's own derivation; more gathers them and recomputes them that often (the merge of
        the readings, which is what must happen before the ack, is per batch either way)."""
        self._engine = engine
        self._publish = publish
        self._telemetry = telemetry
        self._tick_s = tick_s
        self._live_s = live_s
        self._clock = clock
        self._marked: set[tuple[str, datetime]] = set()
        self._started_ticking = False
        self.venues = VenueRegistry()
        self.metrics = OccupancyMetrics(registry)
        self._stale: set[str] = set()
        self._stale_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-occupancy", daemon=True)
        self._live_listeners: list[LiveListener] = []

    def add_live_listener(self, listener: LiveListener) -> None:
        """Tell ``listener`` which venues' live occupancy was recomputed, after the commit (on
        the thread that recomputed it: it must return quickly). The live stream uses it."""
        self._live_listeners = [*self._live_listeners, listener]

    def _tell(self, venue_ids: Sequence[str]) -> None:
        for listener in self._live_listeners:
            try:
                listener(venue_ids)
            except Exception:
                log.exception("a live occupancy listener failed")

    # lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(30)

    # the ingest hook ---------------------------------------------------------------------------

    def after_commit(self, records: Sequence[Record]) -> None:
        """Derive occupancy from a committed batch (duplicates included: it is idempotent)."""
        gates: list[tuple[str, GateReading]] = []
        bays: list[tuple[str, BayReading]] = []
        for record in records:
            if not isinstance(record, EventRecord):
                continue
            e = record.event
            if isinstance(e, CounterEvent):
                d = e.data
                gates.append(
                    (
                        e.site,
                        GateReading(
                            e.device, d.device_boots, e.boot, e.seq, e.ts, d.count_in, d.count_out
                        ),
                    )
                )
            elif isinstance(e, BaysEvent):
                bays.append((e.site, BayReading(e.device, e.boot, e.seq, e.ts, e.data.bays)))
        if not gates and not bays:
            return
        try:
            self._derive(gates, bays)
        except Exception as err:
            if is_transient(err):
                raise StoreUnavailableError(describe(err)) from err
            self.metrics.failures.inc()
            log.exception("could not update occupancy; the next tick recomputes those venues")
            with self._stale_lock:
                self._stale.update(v for v, _ in gates)
                self._stale.update(v for v, _ in bays)

    def _derive(
        self, gates: list[tuple[str, GateReading]], bays: list[tuple[str, BayReading]]
    ) -> None:
        now = self._clock()
        with self._engine.begin() as conn:
            venues = self.venues.venues(conn, local_date_of(now))
            gates = [(v, r) for v, r in gates if v in venues]
            bays = [(v, r) for v, r in bays if v in venues]
            if not gates and not bays:
                return
            marks = state.merge_readings(conn, venues, gates, bays, now=now, marked=self._marked)
            touched = sorted({v for v, _ in gates} | {v for v, _ in bays})
            if self._live_s > 0:
                with self._stale_lock:
                    self._stale.update(touched)
                transitions = 0
            else:
                transitions = self._refresh(conn, venues, [venues[v] for v in touched], now)
        # committed: only now are these marks in the database (and closed buckets' marks spent)
        self._marked = {m for m in self._marked | marks if m[1] + state.BUCKET > now}
        self.metrics.updates.inc()
        if not self._live_s:
            self._tell(touched)
        if transitions:
            self._publish_alerts(now)

    def _refresh(
        self,
        conn: Connection,
        venues: dict[str, VenueInfo],
        which: Sequence[VenueInfo],
        now: datetime,
    ) -> int:
        """Live occupancy and alerts of ``which``, in the caller's transaction."""
        lives = state.live_occupancy(conn, which, now)
        state.store_live(conn, lives, now)
        transitions = alerts.apply_alerts(conn, venues, lives, now)
        self.metrics.alerts.inc(transitions)
        if self._telemetry is not None:
            open_alerts = _open_alerts(conn, [live.venue_id for live in lives])
            self._telemetry(
                [
                    occupancy_sample(
                        live.venue_id,
                        venues[live.venue_id].kind,
                        occupancy=live.occupancy,
                        capacity=live.capacity,
                        alert=live.venue_id in open_alerts,
                        at=live.as_of if live.as_of and live.as_of > live.day_start else now,
                    )
                    for live in lives
                ]
            )
        return transitions

    def _publish_alerts(self, now: datetime) -> None:
        try:
            self.metrics.published.inc(alerts.publish_pending(self._engine, self._publish, now))
        except Exception:
            log.exception("could not publish capacity alerts; the next tick tries again")

    # the service's own thread ------------------------------------------------------------------

    def _run(self) -> None:
        step = min(self._live_s or self._tick_s, self._tick_s)
        next_tick = 0.0
        while not self._stopping.is_set():
            try:
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + self._tick_s
                    self.tick()
                else:
                    self.refresh_live()
            except Exception:
                log.exception("occupancy tick failed; trying again in %.0f s", step)
            self._stopping.wait(step)

    def refresh_live(self, *, everything: bool = False) -> int:
        """Recompute the live occupancy and alerts of the venues touched since the last time
        (of every venue with ``everything``, as at start-up: what a killed hub left behind),
        and of those whose day has changed (closing time passed)."""
        now = self._clock()
        with self._engine.begin() as conn:
            venues = self.venues.venues(conn, local_date_of(now))
            with self._stale_lock:
                stale_ids, self._stale = self._stale, set()
            if everything:
                stale_ids |= set(venues)
            due = state.stale_days(conn, list(venues.values()), now)
            due += [venues[v] for v in sorted(stale_ids) if v in venues and venues[v] not in due]
            transitions = self._refresh(conn, venues, due, now) if due else 0
        if due:
            self._tell([venue.id for venue in due])
        if transitions:
            self._publish_alerts(now)
        return len(due)

    def tick(self) -> None:
        """Live occupancy (closing-time resets, touched venues), due rollups, unpublished alert
        messages."""
        first = not self._started_ticking
        self._started_ticking = True
        self.refresh_live(everything=first)
        self.roll_up()
        self._publish_alerts(self._clock())

    def roll_up(self, now: datetime | None = None) -> int:
        """Recompute every dirty 5-minute bucket that has closed; how many were."""
        now = now or self._clock()
        done = 0
        while not self._stopping.is_set():
            with self._engine.connect() as conn:
                venues = self.venues.venues(conn, local_date_of(now))
                marks = rollups.due_marks(conn, now - ROLLUP_GRACE)
            if not marks:
                break
            for mark in marks:
                venue = venues.get(mark.venue_id)
                with self._engine.begin() as conn:
                    if venue is None:  # left the registry: nothing to roll up
                        rollups.drop_mark(conn, mark)
                        continue
                    rollups.recompute(conn, venue, mark, now)
                done += 1
            if len(marks) < rollups.MARKS_PER_PASS:
                break
        self.metrics.rollups.inc(done)
        return done


def _open_alerts(conn: Connection, venue_ids: Sequence[str]) -> set[str]:
    a = CapacityAlertRecord
    return set(
        conn.scalars(select(a.venue_id).where(a.venue_id.in_(venue_ids), a.cleared_at.is_(None)))
    )
