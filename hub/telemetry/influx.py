"""The InfluxDB telemetry sink: raw readings and device health, never in the way of ingest.

SQL is the system of record; InfluxDB is for Grafana. So the ingest thread only appends what it
committed to a bounded queue (O(1), never blocks, never raises) and a thread of the sink's own
turns it into points and writes batches. When the queue is full the oldest entries go, counted;
a batch that still fails after its retries is dropped, counted. While InfluxDB is down or slow,
ingest and SQL go on exactly as without the sink.

influxdb-client's own batching ``WriteApi`` is not used: it keeps its buffer out of sight, drops a
batch after its last retry, and its ``flush()`` does nothing. Synchronous writes from this thread
keep the backlog, the retries and every drop visible in ``/metrics`` and ``/healthz``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from prometheus_client import CollectorRegistry

from hub.core.settings import HubSettings
from hub.ingest.events import Record
from hub.metrics import InfluxMetrics
from hub.telemetry.points import Sample, line_of, samples_of

log = logging.getLogger(__name__)

SinkState = Literal["ok", "failing", "stopped"]


@dataclass(frozen=True, slots=True)
class SinkStatus:
    state: SinkState
    url: str
    bucket: str
    queue_depth: int
    written: int
    dropped: int
    errors: int
    failing_since: datetime | None
    last_error: str | None


class InfluxSink:
    """Start it, ``offer`` it records after each commit, ``stop`` it (flushes what it can)."""

    def __init__(
        self,
        settings: HubSettings,
        registry: CollectorRegistry,
        *,
        retry_initial_s: float = 0.5,
        retry_max_s: float = 10.0,
    ) -> None:
        if not settings.influx_url:
            raise ValueError("the Influx sink needs HUB_INFLUX_URL")
        self.url = settings.influx_url
        self.bucket = settings.influx_bucket
        self._org = settings.influx_org
        token = settings.influx_token.get_secret_value() if settings.influx_token else ""
        self._client = InfluxDBClient(
            url=self.url,
            token=token,
            org=self._org,
            timeout=settings.influx_timeout_ms,
            retries=0,  # the retries are ours, so that they are counted and bounded
        )
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)
        self._queue: deque[Sample] = deque()
        self._queue_max = settings.influx_queue_max
        self._batch_size = settings.influx_batch_size
        self._flush_s = settings.influx_flush_ms / 1000
        self._retries = settings.influx_retries
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._give_up_at = float("inf")
        self._failing_since: datetime | None = None
        self._last_error: str | None = None
        self._written = self._dropped = self._errors = 0
        self.metrics = InfluxMetrics(registry)
        self.metrics.queue_depth.set_function(lambda: len(self._queue))
        self._thread = threading.Thread(target=self._run, name="hub-influx", daemon=True)

    # called from the ingest thread -------------------------------------------------------------

    def offer(self, items: Iterable[Record | Sample]) -> None:
        """Queue the points of what was committed; drops the oldest when full. Never blocks on
        InfluxDB, never raises."""
        try:
            samples = list(samples_of(items))
            dropped = 0
            with self._lock:
                for sample in samples:
                    if len(self._queue) >= self._queue_max:
                        self._queue.popleft()
                        dropped += 1
                    self._queue.append(sample)
                self._dropped += dropped
                self._wake.notify()
            if dropped:
                self.metrics.dropped.labels("queue_full").inc(dropped)
        except Exception:
            log.exception("the Influx sink could not take a batch; ingest goes on")

    # lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued (for at most ``timeout`` s), then close the client."""
        self._give_up_at = time.monotonic() + timeout
        self._stopping.set()
        with self._lock:
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join(timeout + 1)
        self._client.close()  # type: ignore[no-untyped-call]

    def status(self) -> SinkStatus:
        state: SinkState = "stopped" if not self._thread.is_alive() else "ok"
        if state == "ok" and self._failing_since is not None:
            state = "failing"
        return SinkStatus(
            state=state,
            url=self.url,
            bucket=self.bucket,
            queue_depth=len(self._queue),
            written=self._written,
            dropped=self._dropped,
            errors=self._errors,
            failing_since=self._failing_since,
            last_error=self._last_error,
        )

    # the sink's thread -------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch:
                self._write(batch)
            elif self._stopping.is_set():
                return

    def _take(self) -> list[Sample]:
        """Up to a batch; waits at most the flush interval for it to fill."""
        deadline = time.monotonic() + self._flush_s
        with self._lock:
            while len(self._queue) < self._batch_size and not self._stopping.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._wake.wait(left)
            n = min(len(self._queue), self._batch_size)
            return [self._queue.popleft() for _ in range(n)]

    def _write(self, batch: list[Sample]) -> None:
        try:
            points = [line_of(s) for s in batch]
        except Exception:
            log.exception("could not make points of %d samples; dropped", len(batch))
            self._drop_failed(len(batch))
            return
        delay = self._retry_initial_s
        for attempt in range(self._retries + 1):
            try:
                self._write_api.write(
                    bucket=self.bucket,
                    org=self._org,
                    record=points,
                    write_precision=WritePrecision.MS,  # type: ignore[arg-type]  # a str constant
                )
            except Exception as err:
                self._errors += 1
                self.metrics.errors.inc()
                self.metrics.up.set(0)
                self._last_error = _describe(err)
                if self._failing_since is None:
                    self._failing_since = datetime.now(UTC)
                    log.warning("InfluxDB write failed (%s); retrying", self._last_error)
                if attempt == self._retries or time.monotonic() >= self._give_up_at:
                    break
                self._stopping.wait(min(delay, max(0.0, self._give_up_at - time.monotonic())))
                delay = min(delay * 2, self._retry_max_s)
                continue
            self._written += len(points)
            self.metrics.written.inc(len(points))
            self.metrics.up.set(1)
            if self._failing_since is not None:
                log.info("InfluxDB writes succeed again")
                self._failing_since = None
                self._last_error = None
            return
        self._drop_failed(len(points))
        log.warning("dropped %d points after %d failed writes", len(points), self._retries + 1)

    def _drop_failed(self, n: int) -> None:
        with self._lock:
            self._dropped += n
        self.metrics.dropped.labels("write_failed").inc(n)


def _describe(err: Exception) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0]}" if text else type(err).__name__


def make_sink(settings: HubSettings, registry: CollectorRegistry) -> InfluxSink | None:
    """The sink when ``HUB_INFLUX_URL`` is set, else ``None``."""
    return InfluxSink(settings, registry) if settings.influx_url else None
