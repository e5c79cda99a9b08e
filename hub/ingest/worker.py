"""The ingest worker: broker link, batcher thread, one transaction per batch, then acks, then
receipts.

Correctness does not depend on a clean shutdown: a message is acknowledged only after its batch has
committed, and every write is idempotent, so a worker killed at any moment loses nothing (the broker
delivers the unacknowledged messages again) and records nothing twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from hub.core.db import make_engine
from hub.core.db_errors import RecordsRejectedError, StoreUnavailableError
from hub.core.settings import HubSettings
from hub.ingest.batcher import Batcher
from hub.ingest.cards import CardPolicy
from hub.ingest.decode import TimeWindow, dead_letter, decode
from hub.ingest.events import (
    DeadLetterKind,
    DeadLetterRecord,
    EventKey,
    EventRecord,
    InboundMessage,
    Record,
    WriteResult,
)
from hub.ingest.hooks import BeforeAck, CommitListener, Service, TransactionHook
from hub.ingest.link import BrokerLink
from hub.ingest.store import RecordStore
from hub.metrics import HubMetrics
from mqtt_contract import topics
from mqtt_contract.models import Receipt, ranges_from
from mqtt_contract.topics import Command

log = logging.getLogger(__name__)

RANGES_PER_RECEIPT = 200  # keeps a receipt far below MAX_PAYLOAD_BYTES
_IDLE_POLL_S = 0.2


@dataclass(frozen=True, slots=True)
class IngestStatus:
    running: bool
    connected: bool
    session_present: bool | None
    queue_depth: int
    failing_since: datetime | None
    """Set while batch commits fail (database down or locked)."""


class IngestWorker:
    def __init__(
        self,
        settings: HubSettings,
        *,
        metrics: HubMetrics | None = None,
        engine: Engine | None = None,
        hooks: Sequence[TransactionHook] = (),
        retry_initial_s: float = 0.2,
        retry_max_s: float = 10.0,
    ) -> None:
        """A pipe: MQTT in, one transaction per batch, acks, receipts. ``hooks`` run inside
        each batch's transaction; what runs after the commit is added with
        :meth:`add_before_ack` and :meth:`add_commit_listener` (``hub.ingest.hooks``).
        ``engine``: the one to write with (the worker disposes of its own only)."""
        self.settings = settings
        self.metrics = metrics or HubMetrics()
        self._own_engine = engine is None
        self.engine = engine or make_engine(
            settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms
        )
        self._store = RecordStore(self.engine, hooks)
        self._window = TimeWindow.of(settings)
        self._cards = CardPolicy.of(settings)  # the card key file: read once, at start
        self._batcher: Batcher[InboundMessage] = Batcher(
            settings.batch_max, settings.batch_wait_ms / 1000
        )
        self._link = BrokerLink(settings, self._batcher.put, self.metrics)
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._give_up_at = float("inf")
        self._failing_since: datetime | None = None
        self._listeners: list[CommitListener] = []
        self._before_ack: list[BeforeAck] = []
        self._services: list[Service] = []
        self._thread = threading.Thread(target=self._run, name="hub-ingest", daemon=True)
        self.metrics.track_queue_depth(self._batcher.qsize)

    # wiring (before ``start``) -----------------------------------------------------------------

    def add_before_ack(self, listener: BeforeAck) -> None:
        """Run ``listener.after_commit`` after each commit and before the ack (in the order
        added); a failing database there holds the ack and is retried."""
        self._before_ack = [*self._before_ack, listener]

    def add_commit_listener(self, listener: CommitListener) -> None:
        """Call ``listener`` after each commit (before ``start``, or from any thread)."""
        self._listeners = [*self._listeners, listener]

    def add_service(self, service: Service) -> None:
        """Start ``service`` with the worker and stop it (in reverse order) after its last
        batch, while the broker connection is still open for what it publishes."""
        self._services = [*self._services, service]

    def publish(self, topic: str, payload: bytes) -> bool:
        """Publish at QoS 1 on the worker's broker connection (receipts, alerts)."""
        return self._link.publish(topic, payload)

    # lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        for service in self._services:
            service.start()
        self._thread.start()
        self._link.start()

    def wait_ready(self, timeout: float) -> bool:
        """Connected and subscribed, or ``False`` after ``timeout`` seconds."""
        return self._link.wait_ready(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking messages, finish the batch in hand (trying for at most ``timeout`` s if the
        database is failing: what is not committed then stays unacknowledged), disconnect."""
        if not self._thread.is_alive() and self._stopping.is_set():
            return
        self._give_up_at = time.monotonic() + timeout
        self._stopping.set()
        self._wake.set()
        self._link.stop_receiving()
        if self._thread.is_alive():
            self._thread.join(timeout + 1)
        for service in reversed(self._services):
            service.stop()
        self._link.close()
        if self._own_engine:
            self.engine.dispose()
        log.info("ingest worker stopped")

    def status(self) -> IngestStatus:
        return IngestStatus(
            running=self._thread.is_alive(),
            connected=self._link.connected,
            session_present=self._link.session_present,
            queue_depth=self._batcher.qsize(),
            failing_since=self._failing_since,
        )

    # the batcher thread ------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            batch = self._batcher.take(_IDLE_POLL_S)
            if batch:
                self._handle(batch)

    def _handle(self, batch: list[InboundMessage]) -> None:
        """Never raises: a batch is either committed and acknowledged, or left unacknowledged
        (only when stopping) for the broker to deliver again."""
        records = [decode(message, self._window, self._cards) for message in batch]
        result = self._commit(batch, records)
        if result is None or not self._derive(records):
            return
        self._count(batch, result)  # before the receipts: whoever sees a receipt sees it counted
        try:
            acked = self._link.ack(batch)
        except Exception:
            log.exception("could not acknowledge %d committed messages", len(batch))
        else:
            if acked < len(batch):
                log.info(
                    "%d messages came on an earlier connection; the broker will send them again",
                    len(batch) - acked,
                )
        try:
            self._publish_receipts(result)
        except Exception:
            log.exception("could not publish receipts; the edges will resend and get them then")
        self._notify(records, result)

    def _commit(self, batch: list[InboundMessage], records: list[Record]) -> WriteResult | None:
        """Retry with capped backoff until committed; ``None`` only when stopping gives up."""
        delay = self._retry_initial_s
        attempts = 0
        while True:
            started = time.monotonic()
            try:
                result = self._write(batch, records)
            except Exception as err:
                if not isinstance(err, StoreUnavailableError):
                    log.exception("unexpected error writing a batch; it will be retried")
                attempts += 1
                self.metrics.commit_failures.inc()
                if self._failing_since is None:
                    self._failing_since = datetime.now(UTC)
                now = time.monotonic()
                if now >= self._give_up_at:
                    log.error(
                        "stopping with %d messages uncommitted (%s); they were not "
                        "acknowledged and the broker will deliver them again",
                        len(batch),
                        err,
                    )
                    return None
                wait = min(delay, self._give_up_at - now)
                log.warning(
                    "could not commit %d messages (%s); attempt %d, retrying in %.1f s",
                    len(batch),
                    err,
                    attempts,
                    wait,
                )
                self._wake.wait(wait)
                self._wake.clear()
                delay = min(delay * 2, self._retry_max_s)
                continue
            self.metrics.commit_seconds.observe(time.monotonic() - started)
            if self._failing_since is not None:
                log.info("the database is back: committed after %d failed attempts", attempts)
                self._failing_since = None
            return result

    def _derive(self, records: list[Record]) -> bool:
        """Run the before-ack listeners (venue occupancy) after the commit and before the ack,
        so that a hub killed in between gets the batch again and derives again (idempotently).
        ``False`` only when stopping gives up while the database fails: the batch stays
        unacknowledged."""
        return all(self._derive_one(listener, records) for listener in self._before_ack)

    def _derive_one(self, listener: BeforeAck, records: list[Record]) -> bool:
        delay = self._retry_initial_s
        while True:
            try:
                listener.after_commit(records)
            except StoreUnavailableError as err:
                if time.monotonic() >= self._give_up_at:
                    log.error("stopping before the batch was derived (%s); not acknowledged", err)
                    return False
                log.warning("could not derive from the batch (%s); retrying in %.1f s", err, delay)
                self._wake.wait(min(delay, max(0.0, self._give_up_at - time.monotonic())))
                self._wake.clear()
                delay = min(delay * 2, self._retry_max_s)
                continue
            return True

    def _write(self, batch: Sequence[InboundMessage], records: Sequence[Record]) -> WriteResult:
        """Write the batch; if the database refuses something in it, find that message by
        halving and dead-letter it, so one bad message cannot stall the worker."""
        try:
            return self._store.write(records)
        except StoreUnavailableError:
            raise
        except Exception as err:
            if len(records) > 1:
                middle = len(records) // 2
                result = self._write(batch[:middle], records[:middle])
                result.merge(self._write(batch[middle:], records[middle:]))
                return result
            if isinstance(err, RecordsRejectedError):
                log.warning(
                    "the database refused the message on %s: %s",
                    batch[0].topic,
                    err,
                    exc_info=True,
                )
                kind, reason = DeadLetterKind.REJECTED, f"refused by the database: {err}"
                receipt = _key_of(records[0])
            else:
                log.exception("unexpected error recording the message on %s", batch[0].topic)
                kind, reason = DeadLetterKind.INTERNAL, f"internal error while recording: {err!r}"
                receipt = None  # a valid message met a bug: the edge resends it to a fixed hub
            replacement = dead_letter(batch[0], kind, reason, receipt=receipt)
            try:
                return self._store.write([replacement])
            except StoreUnavailableError:
                raise
            except Exception as again:
                raise StoreUnavailableError(f"cannot store even a dead letter: {again}") from again

    def _publish_receipts(self, result: WriteResult) -> None:
        for site, pairs in result.receipts.items():
            ranges = ranges_from(list(pairs))
            for start in range(0, len(ranges), RANGES_PER_RECEIPT):
                receipt = Receipt(site=site, ranges=ranges[start : start + RANGES_PER_RECEIPT])
                if self._link.publish(topics.command(site, Command.RECEIPT), receipt.to_bytes()):
                    self.metrics.receipts_published.inc()

    def _notify(self, records: Sequence[Record], result: WriteResult) -> None:
        for listener in self._listeners:
            try:
                listener(records, result)
            except Exception:
                log.exception("a commit listener failed; ingest goes on")

    def _count(self, batch: list[InboundMessage], result: WriteResult) -> None:
        """Counts what was committed (what was received is counted as it arrives)."""
        m = self.metrics
        m.batch_size.observe(len(batch))
        m.events_committed.inc(result.committed)
        m.duplicates.inc(result.duplicates)
        for reason, n in result.dead_letters.items():
            m.dead_letters.labels(reason).inc(n)
        log.debug(
            "batch of %d: %d new, %d duplicate, %d dead letters",
            len(batch),
            result.committed,
            result.duplicates,
            sum(result.dead_letters.values()),
        )


def _key_of(record: Record) -> EventKey | None:
    if isinstance(record, EventRecord):
        return record.key
    if isinstance(record, DeadLetterRecord):
        return record.receipt
    return None
