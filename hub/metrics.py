"""Prometheus metrics of one hub process, on a registry of its own: every metric the hub exports
is declared in this module.

A registry per instance (not the global default) lets several workers live in one test process and
keeps library collectors out of the hub's ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class HubMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.messages_received = Counter(
            "hub_messages_received",
            "MQTT messages taken from the broker, by topic kind",
            ["kind"],
            registry=r,
        )
        self.events_committed = Counter("hub_events_committed", "Events newly recorded", registry=r)
        self.duplicates = Counter(
            "hub_events_duplicate",
            "Events that were already recorded (redelivered, resent)",
            registry=r,
        )
        self.dead_letters = Counter(
            "hub_dead_letters",
            "Messages stored as dead letters, by reason kind",
            ["reason"],
            registry=r,
        )
        self.receipts_published = Counter(
            "hub_receipts_published", "Receipts published to edges", registry=r
        )
        self.commit_failures = Counter(
            "hub_commit_failures", "Batch commits that failed and will be retried", registry=r
        )
        self.batch_size = Histogram(
            "hub_batch_size",
            "Messages per committed batch",
            buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000),
            registry=r,
        )
        self.commit_seconds = Histogram(
            "hub_commit_seconds",
            "Time to write and commit one batch",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.broker_connected = Gauge(
            "hub_broker_connected",
            "1 while the ingest worker is connected to the broker",
            registry=r,
        )
        self.queue_depth = Gauge(
            "hub_ingest_queue_depth", "Messages received and not yet committed", registry=r
        )

    def track_queue_depth(self, depth: Callable[[], float]) -> None:
        self.queue_depth.set_function(depth)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def value(self, name: str, labels: dict[str, str] | None = None) -> float:
        """A sample's current value (0 when absent): for tests and the health report."""
        found = self.registry.get_sample_value(name, labels or {})
        return 0.0 if found is None else found


class OccupancyMetrics:
    """The occupancy service's (``hub.venues.service``)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.updates = Counter(
            "hub_occupancy_updates",
            "Ingest batches that updated venue occupancy",
            registry=registry,
        )
        self.failures = Counter(
            "hub_occupancy_failures",
            "Occupancy updates that failed unexpectedly (recomputed on the next tick)",
            registry=registry,
        )
        self.rollups = Counter(
            "hub_occupancy_rollups", "5-minute buckets recomputed", registry=registry
        )
        self.alerts = Counter(
            "hub_capacity_alert_transitions", "Capacity alerts raised or cleared", registry=registry
        )
        self.published = Counter(
            "hub_capacity_alerts_published", "Capacity alert messages published", registry=registry
        )


class InfluxMetrics:
    """The InfluxDB sink's (``hub.telemetry.influx``), registered only when it runs."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.written = Counter(
            "hub_influx_points_written", "Points InfluxDB accepted", registry=registry
        )
        self.dropped = Counter(
            "hub_influx_points_dropped",
            "Points given up: queue_full (oldest dropped) or write_failed (after the retries)",
            ["reason"],
            registry=registry,
        )
        self.errors = Counter(
            "hub_influx_write_errors",
            "Write requests that failed (each retry counts)",
            registry=registry,
        )
        self.queue_depth = Gauge(
            "hub_influx_queue_depth", "Entries waiting for InfluxDB", registry=registry
        )
        self.up = Gauge(
            "hub_influx_up", "1 while the last write to InfluxDB succeeded", registry=registry
        )


class CommandMetrics:
    """The command dispatcher's (``hub.commands.dispatcher``)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.published = Counter(
            "hub_commands_published",
            "Command requests the broker took (first sends and resends), by operation",
            ["op"],
            registry=registry,
        )
        self.replies = Counter(
            "hub_command_replies",
            "Replies from edges: recorded, or why ignored (malformed, oversized, wrong_site, "
            "unknown, late)",
            ["result"],
            registry=registry,
        )
        self.expired = Counter(
            "hub_commands_expired", "Commands with no answer by their deadline", registry=registry
        )


class RetentionMetrics:
    """The retention job's (``hub.retention``): what it removed, per kind, and its last run."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.rows = Counter(
            "hub_retention_rows_purged",
            "Rows deleted by retention, per kind (rows of dropped partitions are not counted)",
            ["kind"],
            registry=registry,
        )
        self.partitions = Counter(
            "hub_retention_partitions_dropped",
            "Partitions dropped by retention, per kind (PostgreSQL)",
            ["kind"],
            registry=registry,
        )
        self.failures = Counter(
            "hub_retention_failures",
            "Retention runs of a kind that failed (tried again at the next run)",
            ["kind"],
            registry=registry,
        )
        self.last_run = Gauge(
            "hub_retention_last_run_timestamp_seconds",
            "When the last retention run ended (Unix time)",
            registry=registry,
        )
        self.duration = Gauge(
            "hub_retention_last_run_duration_seconds",
            "How long the last retention run took",
            registry=registry,
        )
