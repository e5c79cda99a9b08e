"""The composition root: the one place that builds the hub's parts and plugs them together.

Ingest is a pipe that knows nothing of what listens to it (``hub.ingest.hooks``); here it gets
attendance matching inside its transaction, venue occupancy (and the capacity alerts it publishes
on the ingest connection) before its acks, and the telemetry sink and the live stream after them.
``community hub`` (``hub.server``) builds through this module, and so does the demo (it runs
``community hub``) and every test that wants the whole hub.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from hub.api import App, create_app
from hub.commands.dispatcher import CommandDispatcher
from hub.core.settings import HubSettings
from hub.ingest import IngestStatus, IngestWorker
from hub.ingest.events import Record, WriteResult
from hub.ingest.hooks import TransactionHook
from hub.ingest.store import RecordStore
from hub.live import LiveFeed, LivePublisher
from hub.metrics import CommandMetrics, HubMetrics, RetentionMetrics
from hub.notify.notifier import Notifier
from hub.notify.requests import forward_overdue
from hub.org.allowlist_publisher import AllowlistPublisher
from hub.org.attendance import match_new_checkins
from hub.org.cards import learn_new_cards
from hub.org.escalation import EscalationJob
from hub.retention import kinds as retention_kinds
from hub.retention.job import RetentionJob
from hub.sites.history import HeartbeatHistory
from hub.telemetry.influx import InfluxSink, make_sink
from hub.venues.service import OccupancyService

TRANSACTION_HOOKS: tuple[TransactionHook, ...] = (match_new_checkins, learn_new_cards)
"""What commits with each batch or not at all: taps at centres become attendance, and the card
vault learns the cards it did not hold yet."""


@dataclass(frozen=True, slots=True)
class HubIngest:
    """The ingest worker and what hangs on it; started and stopped as one (the worker starts
    and stops its services in order)."""

    worker: IngestWorker
    occupancy: OccupancyService
    telemetry: InfluxSink | None
    escalation: EscalationJob
    """Overdue service requests; ``escalation.on_escalated(callback)`` to hear of each."""
    notifier: Notifier | None = None
    """Notifications (``hub.notify``): its ``emit`` takes events other packages raise."""

    @property
    def metrics(self) -> HubMetrics:
        return self.worker.metrics

    def start(self) -> None:
        self.worker.start()

    def wait_ready(self, timeout: float) -> bool:
        return self.worker.wait_ready(timeout)

    def status(self) -> IngestStatus:
        return self.worker.status()

    def registry_changed(self) -> None:
        """A venue's capacity, threshold, hours or closures changed (through the API in this
        process): the next readings are judged by the new values."""
        self.occupancy.venues.forget()

    def stop(self, timeout: float = 10.0) -> None:
        self.worker.stop(timeout)


class _TelemetryListener:
    """Every committed batch goes to the InfluxDB sink (which only buffers)."""

    def __init__(self, sink: InfluxSink) -> None:
        self._sink = sink

    def __call__(self, records: Sequence[Record], result: WriteResult) -> None:
        self._sink.offer(records)


def build_ingest(
    settings: HubSettings, *, metrics: HubMetrics | None = None, **worker_options: Any
) -> HubIngest:
    """The ingest worker with attendance (in its transaction), occupancy and its alerts and the
    sites' heartbeat history (after the commit, before the ack), the telemetry sink (after
    the ack), the retention job (every kind of data, ``hub.retention``) and the escalation of
    overdue service requests (``hub.org.escalation``) plugged in."""
    worker = IngestWorker(settings, metrics=metrics, hooks=TRANSACTION_HOOKS, **worker_options)
    registry = worker.metrics.registry
    telemetry = make_sink(settings, registry)
    if telemetry is not None:
        worker.add_service(telemetry)
        worker.add_commit_listener(_TelemetryListener(telemetry))
    occupancy = OccupancyService(
        worker.engine,
        registry,
        publish=worker.publish,  # capacity alerts go out on the ingest connection
        telemetry=telemetry.offer if telemetry is not None else None,
        tick_s=settings.occupancy_tick_s,
        live_s=settings.occupancy_live_ms / 1000,
    )
    worker.add_service(occupancy)
    worker.add_before_ack(occupancy)
    worker.add_before_ack(
        HeartbeatHistory(
            worker.engine,
            step_s=settings.site_history_step_s,
            keep_h=settings.site_history_keep_h,
        )
    )
    worker.add_service(
        RetentionJob(
            worker.engine,
            retention_kinds(settings),
            RetentionMetrics(registry),
            interval_s=settings.retention_interval_h * 3600,
        )
    )
    escalation = EscalationJob(worker.engine, interval_s=settings.request_escalation_interval_s)
    worker.add_service(escalation)
    notifier = None
    if settings.notify_enabled:
        # beside ingest: it reads the state tables ingest and the API write, never the reverse
        notifier = Notifier(worker.engine, settings, registry)
        worker.add_service(notifier)
        escalation.on_escalated(forward_overdue(worker.engine, notifier.emit))
    return HubIngest(worker, occupancy, telemetry, escalation, notifier)


def build_app(
    settings: HubSettings, *, ingest: HubIngest | None = None, live: LiveFeed | None = None
) -> App:
    """The API; with ``ingest`` its live stream is told of every commit and every venue whose
    occupancy changed."""
    app = create_app(settings, ingest=ingest, live=live)
    if ingest is not None:
        publisher: LivePublisher = app.state.live_publisher
        ingest.worker.add_commit_listener(publisher)
        ingest.occupancy.add_live_listener(publisher.occupancy_changed)
    return app


def build_allowlists(settings: HubSettings) -> AllowlistPublisher:
    """The publisher of every centre's allowlist (a connection of its own: see its module)."""
    return AllowlistPublisher(settings)


def build_commands(settings: HubSettings, metrics: HubMetrics | None = None) -> CommandDispatcher:
    """The dispatcher of commands to edges and their replies (a connection of its own); its
    metrics on ``metrics``'s registry (ingest's: the one ``/metrics`` shows)."""
    registry = (metrics or HubMetrics()).registry
    return CommandDispatcher(settings, CommandMetrics(registry))


@dataclass(frozen=True, slots=True)
class HubParts:
    ingest: HubIngest | None
    allowlists: AllowlistPublisher | None
    commands: CommandDispatcher | None
    app: App | None


def build_hub(settings: HubSettings, *, api: bool = True, ingest: bool = True) -> HubParts:
    """What ``community hub`` runs: ingest, the allowlists and the commands with ``ingest``, the
    app with ``api`` (told of ingest's commits when both run in one process)."""
    worker = build_ingest(settings) if ingest else None
    return HubParts(
        ingest=worker,
        allowlists=build_allowlists(settings) if ingest else None,
        commands=build_commands(settings, worker.metrics) if worker is not None else None,
        app=build_app(settings, ingest=worker) if api else None,
    )


def build_store(engine: Engine) -> RecordStore:
    """Ingest's store with its in-transaction hooks, for writing records without a broker
    (tests, loaders): what it records is matched to attendance as the running hub does."""
    return RecordStore(engine, TRANSACTION_HOOKS)
