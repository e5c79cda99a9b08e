"""The notifier: one thread beside ingest that records what happened (the state tables, read
every ``notify_poll_s``, and events handed to ``emit``) and sends what is due. Nothing on the
ingest path waits for it or for any receiver; every receiver call has a timeout.

``Notifier.emit(event)`` is the entry point for events other packages raise themselves (an
overdue service request): thread-safe, it never blocks (a full queue drops the event with a
warning) and the event is recorded on the notifier's next turn.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import Engine, select

from hub.core.settings import HubSettings
from hub.notify.channels import Outcome, Smtp
from hub.notify.dispatcher import Policy, dispatch_due, make_digests, queue_state
from hub.notify.events import NotifyEvent
from hub.notify.guard import allowed_hosts
from hub.notify.models import Notification, NotificationPrefs
from hub.notify.record import record
from hub.notify.sources import SOURCES, Thresholds

log = logging.getLogger(__name__)

EMIT_QUEUE_MAX = 10_000
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class NotifyMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.sent = Counter(
            "hub_notifications_sent",
            "Notifications sent, by channel",
            ["channel"],
            registry=registry,
        )
        self.failed = Counter(
            "hub_notifications_failed",
            "Notifications that failed for good (retries spent), by channel",
            ["channel"],
            registry=registry,
        )
        self.attempts_failed = Counter(
            "hub_notification_attempts_failed",
            "Sending attempts that failed (retried or not), by channel",
            ["channel"],
            registry=registry,
        )
        self.queue = Gauge(
            "hub_notifications_queue", "Deliveries waiting to be sent", registry=registry
        )
        self.oldest = Gauge(
            "hub_notifications_oldest_pending_seconds",
            "Age of the oldest delivery waiting to be sent",
            registry=registry,
        )

    def observe(self, channel: str, outcome: Outcome, last: bool) -> None:
        if outcome.ok:
            self.sent.labels(channel).inc()
            return
        self.attempts_failed.labels(channel).inc()
        if last:
            self.failed.labels(channel).inc()


def policy_from(settings: HubSettings) -> Policy:
    return Policy(
        max_attempts=settings.notify_max_attempts,
        backoff=timedelta(seconds=settings.notify_backoff_s),
        backoff_max=timedelta(seconds=settings.notify_backoff_max_s),
        timeout_s=settings.notify_timeout_s,
        hosts=allowed_hosts(settings.notify_webhook_hosts),
        smtp=Smtp(
            host=settings.smtp_host,
            port=settings.smtp_port,
            user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
        ),
    )


class Notifier:
    def __init__(
        self,
        engine: Engine,
        settings: HubSettings,
        registry: CollectorRegistry,
        *,
        clock: Clock = _utcnow,
    ) -> None:
        self.engine = engine
        self.policy = policy_from(settings)
        self.thresholds = Thresholds(
            lookback=timedelta(hours=settings.notify_lookback_h),
            offline_after=timedelta(seconds=settings.notify_offline_after_s),
            heartbeat_timeout_s=settings.heartbeat_timeout_s,
            surge=settings.notify_dead_letter_surge,
            surge_window=timedelta(seconds=settings.notify_dead_letter_window_s),
        )
        self.poll_s = settings.notify_poll_s
        self.metrics = NotifyMetrics(registry)
        self.clock = clock
        self._emitted: queue.Queue[NotifyEvent] = queue.Queue(EMIT_QUEUE_MAX)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._recorded = 0

    # the entry point for other packages ---------------------------------------------------------

    def emit(self, event: NotifyEvent) -> None:
        """Record ``event`` on the next turn (thread-safe, never blocks)."""
        try:
            self._emitted.put_nowait(event)
        except queue.Full:
            log.warning("notification queue full: %s dropped", event.dedup_key)
            return
        self._wake.set()

    # one turn ------------------------------------------------------------------------------------

    def watch(self) -> int:
        """Record every new event (the state tables' and the emitted ones); how many were new.
        Emitted events not recorded when the database fails go back in the queue (the state
        tables' come back by themselves)."""
        emitted: list[NotifyEvent] = []
        while True:
            try:
                emitted.append(self._emitted.get_nowait())
            except queue.Empty:
                break
        self._recorded = 0
        try:
            return self._record(emitted)
        except Exception:
            for event in emitted[self._recorded :]:
                self.emit(event)
            raise

    def _record(self, emitted: list[NotifyEvent]) -> int:
        now = self.clock()
        events = list(emitted)
        with self.engine.connect() as conn:
            if conn.scalar(select(NotificationPrefs.user_id).limit(1)) is None:
                return 0  # nobody subscribed: nothing to tell, and no write beside ingest
            for source in SOURCES:
                events += source(conn, now, self.thresholds)
            keys = [e.dedup_key for e in events]
            known: set[str] = set()
            for i in range(0, len(keys), 500):
                known |= set(
                    conn.scalars(
                        select(Notification.dedup_key).where(
                            Notification.dedup_key.in_(keys[i : i + 500])
                        )
                    )
                )
        new = 0
        for i, event in enumerate(events):
            if event.dedup_key not in known:
                with self.engine.begin() as conn:
                    new += record(conn, event, now) is not None
                known.add(event.dedup_key)
            self._recorded = i + 1  # the emitted ones come first
        return new

    def dispatch(self) -> int:
        now = self.clock()
        make_digests(self.engine, now)
        sent = dispatch_due(self.engine, self.policy, now, self.metrics.observe)
        depth, oldest = queue_state(self.engine, self.clock())
        self.metrics.queue.set(depth)
        self.metrics.oldest.set(oldest)
        return sent

    def turn(self) -> None:
        self.watch()
        self.dispatch()

    # the thread ----------------------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hub-notifier", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.turn()
            except Exception:  # a database hiccup must not end the notifier
                log.exception("notifier turn failed; trying again in %.0f s", self.poll_s)
            self._wake.wait(self.poll_s)
            self._wake.clear()
