"""Turn committed batches into live events on a thread of its own, so that ingest never waits for
the stream: the commit listener only queues (bounded); if the queue is full the batch is dropped
and every client is told to resync, which fetches the current state instead."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import replace
from uuid import UUID

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from hub.ingest.events import Record, WriteResult
from hub.live.enrich import tap_context
from hub.live.events import live_events
from hub.live.feed import LiveEvent, LiveFeed, LiveTopic

log = logging.getLogger(__name__)

DEFAULT_QUEUE = 1000
_Item = tuple[Sequence[Record], WriteResult] | list[str] | None
"""A committed batch, the venues whose live occupancy was recomputed, or None: stop now."""
_POLL_S = 0.2


class LivePublisher:
    """A commit listener (``worker.add_commit_listener(publisher)``) that feeds a ``LiveFeed``."""

    def __init__(self, feed: LiveFeed, engine: Engine, *, queue_max: int = DEFAULT_QUEUE) -> None:
        self._feed = feed
        self._engine = engine
        self._queue: queue.Queue[_Item] = queue.Queue(queue_max)
        self._lost = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped_batches = 0

    def __call__(self, records: Sequence[Record], result: WriteResult) -> None:
        """On the ingest thread: never blocks."""
        if not (result.new_events or result.new_dead_letters) and not records:
            return
        self._put((records, result))

    def occupancy_changed(self, venue_ids: Sequence[str]) -> None:
        """On the occupancy service's thread, after it committed new live occupancy."""
        if venue_ids:
            self._put(list(venue_ids))

    def _put(self, item: _Item) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped_batches += 1
            self._lost.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hub-live", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        with contextlib.suppress(queue.Full):  # a full queue: the poll notices within _POLL_S
            self._queue.put_nowait(None)  # wakes the thread at once (every API shutdown waits)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                item = self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if item is None:
                break
            if self._lost.is_set():
                self._lost.clear()
                log.warning("the live stream fell behind ingest; clients will fetch afresh")
                self._feed.resync_all()
            if not self._feed.client_count:
                self._feed.skip()  # no page is open: building the events would be for nobody
                continue
            try:
                if isinstance(item, list):
                    events = [LiveEvent(LiveTopic.OCCUPANCY, {"venue_id": v}) for v in item]
                else:
                    events = self._enriched(live_events(*item))
                self._feed.publish(events)
            except Exception:
                log.exception("could not publish to the live stream")

    def _enriched(self, events: list[LiveEvent]) -> list[LiveEvent]:
        taps = [UUID(str(e.data["event_id"])) for e in events if e.topic is LiveTopic.CHECKINS]
        if not taps:
            return events
        try:
            with self._engine.connect() as conn:
                context = tap_context(conn, taps)
        except SQLAlchemyError as exc:
            log.warning("check-ins go to the live stream without names: %s", exc)
            return events
        out = []
        for event in events:
            found = None
            if event.topic is LiveTopic.CHECKINS:
                found = context.get(UUID(str(event.data["event_id"])))
            if found is None:
                out.append(event)
                continue
            data = {
                **event.data,
                "member": found.member,
                "activity": found.activity,
                "activity_id": found.activity_id,
            }
            out.append(replace(event, data=data))
        return out
