"""Fan committed events out to live-stream clients without ever making ingest wait.

The ingest thread publishes; each client (an SSE response on the API's event loop) has its own
bounded buffer. A client that falls behind loses its buffer and is told to resync (fetch the
current state again) instead of slowing anyone down. A short ring of recent events lets a client
that reconnects with ``Last-Event-ID`` catch up on what it missed; if it missed more than the ring
holds, or the hub restarted since, it is told to resync too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

log = logging.getLogger(__name__)

DEFAULT_CLIENT_BUFFER = 1000
DEFAULT_REPLAY = 2000
DEFAULT_KEEPALIVE_S = 15.0


class LiveTopic(StrEnum):
    """What a client can subscribe to (the SSE ``event:`` name of each message)."""

    CHECKINS = "checkins"
    READINGS = "readings"
    OCCUPANCY = "occupancy"
    """A venue's live occupancy (or alert) was recomputed: ``{"venue_id": ...}``."""
    DEVICES = "devices"
    DEAD_LETTERS = "dead_letters"


@dataclass(frozen=True, slots=True)
class LiveEvent:
    topic: LiveTopic
    data: Mapping[str, object]
    """JSON-able; encoded once when published, whatever the number of clients."""


@dataclass(frozen=True, slots=True)
class Numbered:
    """A published event with its place in this feed's sequence."""

    seq: int
    topic: LiveTopic
    json: str
    site: str | None = None
    """The site (centre or venue) the event is about, for clients that see only some sites."""


@dataclass(slots=True)
class Take:
    """What a client gets on one wake-up."""

    events: list[Numbered] = field(default_factory=list)
    resync: bool = False
    """The client fell behind and lost events: it must fetch the current state again."""
    closed: bool = False


class Subscription:
    """One client's bounded buffer, filled by any thread, drained on the client's event loop."""

    def __init__(
        self,
        topics: frozenset[LiveTopic],
        capacity: int,
        loop: asyncio.AbstractEventLoop,
        sites: frozenset[str] | None = None,
    ) -> None:
        self.topics = topics
        self.sites = sites
        """Only events about these sites (``None``: every event of the topics)."""
        self.resumed = False
        """Set when the subscription picked up where the client's ``Last-Event-ID`` left off."""
        self._capacity = capacity
        self._loop = loop
        self._lock = threading.Lock()
        self._buffer: deque[Numbered] = deque()
        self._overflowed = False
        self._closed = False
        self._wake = asyncio.Event()

    def offer(self, items: Iterable[Numbered]) -> bool:
        """Buffer what this client subscribed to; never blocks. ``False`` once it is closed."""
        added = False
        with self._lock:
            if self._closed:
                return False
            for item in items:
                if item.topic not in self.topics:
                    continue
                if self.sites is not None and item.site not in self.sites:
                    continue
                if len(self._buffer) >= self._capacity:
                    self._buffer.clear()
                    self._overflowed = True
                self._buffer.append(item)
                added = True
        if added:
            self._signal()
        return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._signal()

    def lose(self) -> None:
        """What was buffered and what was never offered is gone: the client must resync."""
        with self._lock:
            self._buffer.clear()
            self._overflowed = True
        self._signal()

    async def take(self, timeout: float) -> Take:
        """Wait up to ``timeout`` s for events; an empty, open ``Take`` means nothing came."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()
        with self._lock:
            taken = Take(list(self._buffer), self._overflowed, self._closed)
            self._buffer.clear()
            self._overflowed = False
        return taken

    def _signal(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._wake.set)
        except RuntimeError:  # the client's loop is closed: nobody is waiting any more
            with self._lock:
                self._closed = True


class LiveFeed:
    """Thread-safe publish, per-client bounded buffers, replay of recent events by id."""

    def __init__(
        self,
        *,
        client_buffer: int = DEFAULT_CLIENT_BUFFER,
        replay: int = DEFAULT_REPLAY,
        keepalive_s: float = DEFAULT_KEEPALIVE_S,
    ) -> None:
        self.keepalive_s = keepalive_s
        """How long a stream may stay silent before it sends a comment line."""
        self.epoch = uuid.uuid4().hex[:12]
        """Changes when the hub restarts: an event id of another epoch cannot be resumed."""
        self._client_buffer = client_buffer
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._last_seq = 0
        self._ring: deque[Numbered] = deque(maxlen=replay)
        self._gap_seq = 0
        """Events up to here were not kept (nobody was listening): no resuming from before it."""
        self._subscribers: set[Subscription] = set()
        self._closed = False
        self.published = 0
        self.resyncs = 0

    @property
    def client_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def skip(self) -> None:
        """Nobody listens: the publisher skips building events, and the feed remembers that a
        client reconnecting with an older id missed some and must resync."""
        with self._lock:
            self._last_seq = next(self._counter)
            self._gap_seq = self._last_seq

    def event_id(self, seq: int) -> str:
        return f"{self.epoch}-{seq}"

    def publish(self, events: Iterable[LiveEvent]) -> None:
        """Called from the ingest thread after a commit: encodes, numbers and fans out."""
        encoded = [
            (e.topic, json.dumps(e.data, ensure_ascii=False, default=str), _site_of(e))
            for e in events
        ]
        if not encoded:
            return
        with self._lock:
            if self._closed:
                return
            numbered = []
            for topic, text, site in encoded:
                self._last_seq = next(self._counter)
                numbered.append(Numbered(self._last_seq, topic, text, site))
            self._ring.extend(numbered)
            self.published += len(numbered)
            gone = [sub for sub in self._subscribers if not sub.offer(numbered)]
            self._subscribers.difference_update(gone)

    def subscribe(
        self,
        topics: Iterable[LiveTopic],
        loop: asyncio.AbstractEventLoop,
        last_event_id: str | None = None,
        *,
        sites: frozenset[str] | None = None,
    ) -> Subscription:
        """A new client; with ``last_event_id`` it first gets what it missed, if still held;
        with ``sites`` only the events about those sites."""
        sub = Subscription(frozenset(topics), self._client_buffer, loop, sites)
        with self._lock:
            if self._closed:
                sub.close()
                return sub
            missed = self._missed_since(last_event_id)
            if missed is not None:
                sub.resumed = True
                sub.offer(missed)
            self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        sub.close()
        with self._lock:
            self._subscribers.discard(sub)

    def resync_all(self) -> None:
        """Events were lost before reaching the feed: every client must fetch afresh."""
        with self._lock:
            subscribers = list(self._subscribers)
        for sub in subscribers:
            sub.lose()

    def count_resync(self) -> None:
        with self._lock:
            self.resyncs += 1

    def close(self) -> None:
        """End every stream (the server is stopping): their responses finish and close."""
        with self._lock:
            self._closed = True
            subscribers = list(self._subscribers)
            self._subscribers.clear()
        for sub in subscribers:
            sub.close()
        if subscribers:
            log.info("closed %d live streams", len(subscribers))

    def _missed_since(self, last_event_id: str | None) -> list[Numbered] | None:
        """The events after ``last_event_id``, or ``None`` if they cannot all be given."""
        if not last_event_id:
            return None
        epoch, _, number = last_event_id.rpartition("-")
        if epoch != self.epoch or not number.isdigit():
            return None
        seq = int(number)
        if seq > self._last_seq:
            return None
        if seq < self._gap_seq:
            return None
        if seq == self._last_seq:
            return []
        if not self._ring or self._ring[0].seq > seq + 1:
            return None
        return [item for item in self._ring if item.seq > seq]


def _site_of(event: LiveEvent) -> str | None:
    site = event.data.get("site_id", event.data.get("venue_id"))
    return site if isinstance(site, str) else None
