"""The HTTP API over records written by the real store: filters, paging, errors, health, metrics."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.api import create_app
from hub.composition import build_app, build_store
from hub.core.db import make_engine
from hub.core.settings import HubSettings
from hub.ingest.decode import decode
from hub.ingest.events import AnyEvent, InboundMessage
from mqtt_contract import topics
from tests.hub.support import (
    CARDS,
    T0,
    ApiServer,
    EdgeClient,
    Outage,
    StartWorker,
    bays,
    checkin,
    counter,
    event_topic,
    wait_until,
)

MakeEdge = Callable[..., EdgeClient]


def inbound(topic: str, payload: bytes, at: datetime | None = None) -> InboundMessage:
    return InboundMessage(
        topic=topic,
        payload=payload,
        mid=1,
        qos=1,
        retained=False,
        received_at=at or datetime.now(UTC),
        generation=1,
    )


@pytest.fixture
def seeded(db_settings: HubSettings) -> HubSettings:
    """20 check-ins at centre-01 (one a minute from T0), 10 at centre-02, 3 counter and 2 bay
    readings, 3 dead letters."""
    events = [checkin(seq, ts=T0 + timedelta(minutes=seq)) for seq in range(1, 21)]
    events += [
        checkin(
            seq, site="centre-02", device="reader-2", ts=T0 + timedelta(minutes=seq, seconds=30)
        )
        for seq in range(1, 11)
    ]
    readings: list[AnyEvent] = [
        counter(seq, count_in=seq * 10, count_out=seq) for seq in range(21, 24)
    ]
    readings += [bays(24, "1100"), bays(25, "1110")]
    messages = [inbound(event_topic(e), e.to_bytes()) for e in [*events, *readings]]
    topic = topics.event("centre-01", "reader-1", topics.EventKind.CHECKIN)
    messages += [
        inbound(topic, b"not json :("),
        inbound(topic, ("签到 " * 300 + "}").encode()),
        inbound(topic, b"x" * 100_000),
    ]
    engine = make_engine(db_settings.database_url)
    try:
        build_store(engine).write([decode(m, cards=CARDS) for m in messages])
    finally:
        engine.dispose()
    return db_settings


@pytest.fixture
def api(seeded: HubSettings) -> Iterator[ApiServer]:
    with ApiServer(create_app(seeded)) as server:
        yield server


def test_checkins_newest_first_with_total_count_and_paging(api: ApiServer) -> None:
    first = api.get("/api/v1/checkins", limit=7).json()
    assert first["count"] == 30
    assert len(first["data"]) == 7
    seen: list[dict[str, object]] = []
    while len(seen) < 30:
        page = api.get("/api/v1/checkins", offset=len(seen), limit=7).json()
        assert page["count"] == 30
        seen += page["data"]
    assert len({row["event_id"] for row in seen}) == 30
    times = [datetime.fromisoformat(str(row["device_time"])) for row in seen]
    assert times == sorted(times, reverse=True)
    assert all(t.utcoffset() == timedelta(0) for t in times)
    assert seen[0]["site_id"] == "centre-01"
    assert seen[0]["seq"] == 20
    assert api.get("/api/v1/checkins", offset=30).json() == {"data": [], "count": 30}


def test_checkin_filters(api: ApiServer) -> None:
    def count(**params: object) -> int:
        response = api.get("/api/v1/checkins", **params)
        assert response.status_code == 200, response.text
        return int(response.json()["count"])

    assert count(site="centre-01") == 20
    assert count(site="centre-02", device="reader-2") == 10
    assert count(device="reader-1", site="centre-02") == 0
    # T0 is 08:00Z = 16:00+08:00; minutes 5..9 inclusive-exclusive at centre-01 (plus 5 at 02).
    assert (
        count(site="centre-01", since="2026-11-27T16:05:00+08:00", until="2026-11-27T08:10:00Z")
        == 5
    )
    assert count(since="2026-11-27T08:05:00Z", until="2026-11-27T08:10:00Z") == 10
    # '+' left unencoded in a URL arrives as a space; the offset is still understood.
    raw = api.http.get("/api/v1/checkins?site=centre-01&since=2026-11-27T16:15:00+08:00")
    assert raw.status_code == 200, raw.text
    assert raw.json()["count"] == 6


BAD_QUERIES: list[tuple[dict[str, object], str]] = [
    ({"limit": 1001}, "limit"),
    ({"limit": 0}, "limit"),
    ({"offset": -1}, "offset"),
    ({"since": "2026-11-27T08:00:00"}, "since"),  # no offset: ambiguous
    ({"until": "yesterday"}, "until"),
    ({"site": "Bad Site"}, "site"),
]


def test_bad_query_parameters_get_422_naming_them(api: ApiServer) -> None:
    for params, field in BAD_QUERIES:
        response = api.get("/api/v1/checkins", **params)
        assert response.status_code == 422, params
        assert [err["loc"] for err in response.json()["detail"]] == [["query", field]]


def test_since_after_until_is_refused(api: ApiServer) -> None:
    response = api.get(
        "/api/v1/checkins", since="2026-11-28T00:00:00Z", until="2026-11-27T00:00:00Z"
    )
    assert response.status_code == 422
    assert "since" in response.json()["detail"]


def test_counter_and_bay_readings(api: ApiServer) -> None:
    counters = api.get("/api/v1/counter-readings", site="centre-01").json()
    assert counters["count"] == 3
    assert [(r["seq"], r["count_in"], r["count_out"]) for r in counters["data"]] == [
        (23, 230, 23),
        (22, 220, 22),
        (21, 210, 21),
    ]
    bay_page = api.get("/api/v1/bay-readings", device="bays-1", limit=1).json()
    assert bay_page["count"] == 2
    assert [(r["bays"], r["occupied"], r["total"]) for r in bay_page["data"]] == [("1110", 3, 4)]
    since = (T0 + timedelta(seconds=24)).isoformat()
    assert api.get("/api/v1/bay-readings", since=since).json()["count"] == 2
    assert api.get("/api/v1/counter-readings", since=since).json()["count"] == 0
    assert api.get("/api/v1/bay-readings", limit=5000).status_code == 422


def test_sites_and_devices_registered_by_events(api: ApiServer) -> None:
    sites = api.get("/api/v1/sites").json()
    assert sites["count"] == 2
    assert [(s["id"], s["state"], s["online"]) for s in sites["data"]] == [
        ("centre-01", "unknown", False),
        ("centre-02", "unknown", False),
    ]
    devices = api.get("/api/v1/devices").json()
    assert [(d["site_id"], d["id"], d["timeouts"]) for d in devices["data"]] == [
        ("centre-01", "bays-1", 0),
        ("centre-01", "gate-1", 0),
        ("centre-01", "reader-1", 0),
        ("centre-02", "reader-2", 0),
    ]
    assert api.get("/api/v1/devices", site="centre-02").json()["count"] == 1


def test_dead_letters_with_raw_bytes_and_a_preview(api: ApiServer) -> None:
    page = api.get("/api/v1/dead-letters").json()
    assert page["count"] == 3
    large, long_text, not_json = page["data"]  # newest first
    assert not_json["reason_kind"] == "not_json"
    assert base64.b64decode(not_json["payload_base64"]) == b"not json :("
    assert not_json["preview"] == "not json :("
    assert not_json["truncated"] is False
    assert long_text["preview"].startswith("签到 签到")
    assert len(long_text["preview"]) == 200
    assert large["reason_kind"] == "too_large"
    assert large["size"] == 100_000
    assert large["truncated"] is True
    assert len(base64.b64decode(large["payload_base64"])) == 64 * 1024
    second = api.get("/api/v1/dead-letters", offset=1, limit=1).json()
    assert [d["id"] for d in second["data"]] == [long_text["id"]]


def test_openapi_documents_the_routes_with_examples(api: ApiServer) -> None:
    schema = api.get("/openapi.json").json()
    assert {
        "/healthz",
        "/metrics",
        "/api/v1/checkins",
        "/api/v1/sites",
        "/api/v1/devices",
        "/api/v1/dead-letters",
        "/api/v1/counter-readings",
        "/api/v1/bay-readings",
    } <= set(schema["paths"])
    checkin_schema = schema["components"]["schemas"]["CheckinOut"]
    assert checkin_schema["properties"]["site_id"]["examples"] == ["centre-01"]


def test_healthz_without_ingest(api: ApiServer) -> None:
    response = api.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["broker"] == "not running"
    assert response.json()["status"] == "ok"


def test_healthz_is_503_when_the_database_is_down(
    db_settings: HubSettings, outage: Outage, tmp_path: Path
) -> None:
    settings = db_settings
    if outage.url.get_backend_name() == "sqlite":
        # A lock does not stop SQLite reads; a database that cannot be opened does.
        settings = db_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}"})
    else:
        outage.down()
    with ApiServer(create_app(settings), anonymous=True) as server:
        response = server.get("/healthz")
        assert response.status_code == 503
        assert response.json() == {"status": "degraded"}
        outage.up()
        if settings is db_settings:
            wait_until(lambda: server.get("/healthz").status_code == 200, what="recovery")


def test_metrics_and_health_report_what_the_worker_did(
    hub_settings: HubSettings, start_worker: StartWorker, edge: MakeEdge
) -> None:
    worker = start_worker()
    centre = edge()
    events = [checkin(seq) for seq in range(1, 4)]
    centre.publish_events(events)
    centre.publish(topics.event("centre-01", "reader-1", topics.EventKind.CHECKIN), b"{}")
    centre.publish_events(events[:1])  # a duplicate
    wait_until(
        lambda: worker.metrics.value("hub_events_duplicate_total") == 1, what="the duplicate"
    )
    with ApiServer(build_app(hub_settings, ingest=worker)) as server:
        health = server.get("/healthz").json()
        assert health["broker"] == "connected"
        assert health["ingest"]["running"] is True
        response = server.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        text = response.text
    assert "hub_events_committed_total 3.0" in text
    assert "hub_events_duplicate_total 1.0" in text
    assert 'hub_dead_letters_total{reason="schema"} 1.0' in text
    assert 'hub_messages_received_total{kind="event"} 5.0' in text
    assert "hub_broker_connected 1.0" in text
    assert "hub_ingest_queue_depth 0.0" in text
    assert "hub_batch_size_count" in text
    assert "hub_commit_seconds_bucket" in text
