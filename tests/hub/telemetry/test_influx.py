"""The InfluxDB sink against a real server that speaks the InfluxDB 2 write API (Debian's
victoria-metrics): points land with the documented tags and fields; with the server stopped or
hanging, ingest goes on, SQL is whole and the drops are counted."""

from __future__ import annotations

import re
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from hub.composition import build_app
from hub.core.settings import HubSettings
from hub.ingest.events import EventRecord, HealthRecord, Record
from hub.telemetry.influx import InfluxSink
from hub.telemetry.points import SCHEMA, occupancy_sample
from mqtt_contract.models import CheckinData, CheckinEvent, CounterEvent
from tests.hub.support import (
    ApiServer,
    Db,
    EdgeClient,
    StartWorker,
    bays,
    counter,
    event_topic,
    health,
    wait_until,
)
from tests.hub.telemetry.victoria import VictoriaMetrics, free_port

DOC = Path(__file__).resolve().parents[3] / "docs" / "telemetry.md"
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    server = VictoriaMetrics(tmp_path / "vm")
    server.start()
    yield server
    server.kill()


def sink_settings(url: str, **overrides: object) -> HubSettings:
    return HubSettings(
        mode="demo",
        influx_url=url,
        influx_flush_ms=50,
        influx_retries=1,
        influx_timeout_ms=500,
        **overrides,  # type: ignore[arg-type]
    )


def record(event: CounterEvent | CheckinEvent) -> EventRecord:
    return EventRecord(event, NOW, event_topic(event), event.to_bytes())


def sample_records() -> list[Record]:
    c = counter(7, count_in=120, count_out=101, site="venue-07", device="gate-1", device_boots=2)
    c = c.model_copy(update={"ts": NOW})
    b = bays(8, "0110", site="venue-07", device="bays-1").model_copy(
        update={"ts": NOW + timedelta(seconds=1)}
    )
    tap = CheckinEvent(
        id=uuid.uuid4(),
        site="centre-01",
        device="reader-1",
        boot=c.boot,
        seq=9,
        ts=NOW + timedelta(seconds=2),
        data=CheckinData(card_hash="a" * 64, decision="allowed"),
    )
    beat = health(
        site="venue-07", ts=NOW + timedelta(seconds=3), devices={"gate-1": "degraded"}
    ).model_copy(update={"oldest_pending_s": 4.5})
    return [
        record(c),
        EventRecord(b, NOW, event_topic(b), b.to_bytes()),
        record(tap),
        HealthRecord(beat, NOW),
    ]


def documented() -> dict[str, tuple[set[str], set[str]]]:
    table: dict[str, tuple[set[str], set[str]]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and (name := re.fullmatch(r"`([a-z_]+)`", cells[0])):
            tags = set(re.findall(r"`([a-z_]+)`", cells[1]))
            fields = set(re.findall(r"`([a-z_]+)`", cells[2]))
            table[name.group(1)] = (tags, fields)
    return table


def test_the_documented_schema_is_the_one_in_the_code() -> None:
    assert documented() == {name: (set(m.tags), set(m.fields)) for name, m in SCHEMA.items()}


def test_points_land_with_the_documented_tags_and_fields(victoria: VictoriaMetrics) -> None:
    sink = InfluxSink(sink_settings(victoria.url), CollectorRegistry())
    sink.start()
    try:
        sink.offer(sample_records())
        sink.offer(sample_records())  # a redelivered batch: the same points again
        occupancy = occupancy_sample(
            "venue-07", "sports_ground", occupancy=45, capacity=50, alert=True, at=NOW
        )
        sink.offer([occupancy])
        wait_until(lambda: sink.status().written == 2 * 5 + 1, what="points written")
    finally:
        sink.stop()
    assert sink.status().dropped == 0
    series = victoria.export()
    landed: dict[str, tuple[set[str], set[str]]] = {}
    for s in series:
        measurement = next(m for m in SCHEMA if s.name.startswith(m + "_"))
        field = s.name[len(measurement) + 1 :]
        tags, fields = landed.setdefault(measurement, (set(), set()))
        tags.update(s.labels)
        fields.add(field)
        assert len(s.values) == 1, f"{s.name} {s.labels}: a redelivered point counted twice"
    assert landed == documented()
    values = {(s.name, tuple(sorted(s.labels.items()))): s.values[0] for s in series}
    assert values[("people_counter_count_in", (("device", "gate-1"), ("site", "venue-07")))] == 120
    assert values[("bay_sensor_occupied", (("device", "bays-1"), ("site", "venue-07")))] == 2
    assert (
        values[
            (
                "checkin_count",
                (("decision", "allowed"), ("device", "reader-1"), ("site", "centre-01")),
            )
        ]
        == 1
    )
    degraded = (("device", "gate-1"), ("kind", "card_reader"), ("site", "venue-07"))
    assert values[("device_health_state_code", degraded)] == 1
    assert (
        values[("venue_occupancy_ratio_pct", (("kind", "sports_ground"), ("venue", "venue-07")))]
        == 90.0
    )
    stamp = next(s for s in series if s.name == "people_counter_count_in").timestamps[0]
    assert stamp == int(NOW.timestamp() * 1000)


def test_a_full_queue_drops_the_oldest_and_counts_them() -> None:
    registry = CollectorRegistry()
    port = free_port()  # nothing listens: every write fails at once
    sink = InfluxSink(sink_settings(f"http://127.0.0.1:{port}", influx_queue_max=5), registry)
    sink.offer(sample_records() + sample_records())  # 10 points into a queue of 5, not started
    assert sink.status().queue_depth == 5
    assert sink.status().dropped == 5
    assert (
        registry.get_sample_value("hub_influx_points_dropped_total", {"reason": "queue_full"}) == 5
    )
    sink.start()
    wait_until(lambda: sink.status().dropped == 10, what="the failed batch to be dropped")
    sink.stop(timeout=1)
    status = sink.status()
    assert (status.written, status.state) == (0, "stopped")
    assert status.errors == 2  # one try and one retry
    assert (
        registry.get_sample_value("hub_influx_points_dropped_total", {"reason": "write_failed"})
        == 5
    )


def test_with_the_server_stopped_ingest_goes_on_and_sql_is_whole(
    victoria: VictoriaMetrics,
    hub_settings: HubSettings,
    start_worker: StartWorker,
    edge: Callable[..., EdgeClient],
    db: Db,
) -> None:
    settings = hub_settings.model_copy(
        update={
            "influx_url": victoria.url,
            "influx_flush_ms": 50,
            "influx_retries": 1,
            "influx_timeout_ms": 500,
        }
    )
    worker = start_worker(settings)
    assert worker.telemetry is not None
    client = edge("centre-01")
    first = [
        counter(seq, count_in=seq, count_out=0, device="gate-1").model_copy(
            update={"ts": NOW + timedelta(seconds=seq)}
        )
        for seq in range(1, 51)
    ]
    client.publish_events(first)
    wait_until(lambda: worker.telemetry is not None and worker.telemetry.status().written == 50)

    victoria.kill()
    second = [
        counter(seq, count_in=seq, count_out=0, device="gate-1").model_copy(
            update={"ts": NOW + timedelta(seconds=seq)}
        )
        for seq in range(51, 251)
    ]
    client.publish_events(second)
    wait_until(lambda: db.count("counter_readings") == 250, what="every reading in SQL")
    wait_until(lambda: client.receipted() >= {(e.boot, e.seq) for e in first + second})
    sink = worker.telemetry
    wait_until(lambda: sink.status().dropped == 200, timeout=20, what="the drop to be counted")
    status = sink.status()
    assert (status.written, status.state) == (50, "failing")
    assert status.errors >= 2
    metrics = worker.metrics.render().decode()
    assert 'hub_influx_points_dropped_total{reason="write_failed"} 200.0' in metrics
    app = build_app(settings, ingest=worker)
    with ApiServer(app) as api:
        body = api.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["influx"]["state"] == "failing"
    assert body["influx"]["dropped"] == 200


def test_a_server_that_hangs_does_not_hold_ingest_up(
    hub_settings: HubSettings,
    start_worker: StartWorker,
    edge: Callable[..., EdgeClient],
    db: Db,
) -> None:
    """A server that accepts and never answers: writes time out, ingest does not wait."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        port = listener.getsockname()[1]
        settings = hub_settings.model_copy(
            update={
                "influx_url": f"http://127.0.0.1:{port}",
                "influx_flush_ms": 20,
                "influx_retries": 0,
                "influx_timeout_ms": 3_000,
            }
        )
        worker = start_worker(settings)
        client = edge("centre-01")
        events = [counter(seq, count_in=seq, count_out=0) for seq in range(1, 301)]
        client.publish_events(events)
        wait_until(lambda: db.count("counter_readings") == 300, timeout=10, what="all in SQL")
        assert worker.telemetry is not None
        assert worker.telemetry.status().written == 0
    finally:
        stop.set()
        thread.join(2)
        for conn in accepted:
            conn.close()
        listener.close()
