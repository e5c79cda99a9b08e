"""Status and heartbeats keep sites and devices current; the API says who is online."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.composition import HubIngest, build_app
from hub.core.settings import HubSettings
from mqtt_contract import topics
from tests.hub.support import (
    BOOT,
    ApiServer,
    Db,
    EdgeClient,
    StartWorker,
    checkin,
    health,
    status,
    wait_until,
)

MakeEdge = Callable[..., EdgeClient]


@pytest.fixture
def worker(start_worker: StartWorker) -> HubIngest:
    return start_worker()


@pytest.fixture
def api(hub_settings: HubSettings, worker: HubIngest) -> Iterator[ApiServer]:
    with ApiServer(build_app(hub_settings, ingest=worker)) as server:
        yield server


def devices(api: ApiServer) -> dict[str, dict[str, Any]]:
    response = api.get("/api/v1/devices", site="centre-01")
    assert response.status_code == 200, response.text
    return {d["id"]: d for d in response.json()["data"]}


def site(api: ApiServer, site_id: str = "centre-01") -> dict[str, Any]:
    found: dict[str, dict[str, Any]] = {s["id"]: s for s in api.get("/api/v1/sites").json()["data"]}
    return found.get(site_id, {})


def test_status_and_heartbeats_make_sites_and_devices_online(
    api: ApiServer, edge: MakeEdge
) -> None:
    centre = edge()
    centre.publish(topics.status("centre-01"), status("online").to_bytes(), retain=True)
    beat = health(devices={"reader-1": "ok", "reader-2": "disconnected"}, frame_errors=3)
    centre.publish(topics.health("centre-01"), beat.to_bytes(), qos=0)

    wait_until(lambda: len(devices(api)) == 2, what="devices from the heartbeat")
    found = devices(api)
    assert found["reader-1"]["online"] is True
    assert found["reader-1"]["kind"] == "card_reader"
    assert found["reader-1"]["frame_errors"] == 3
    assert found["reader-1"]["port_errors"] == 1
    assert found["reader-2"]["online"] is False
    assert found["reader-2"]["state"] == "disconnected"
    current = site(api)
    assert current["online"] is True
    assert current["state"] == "online"
    assert current["boot"] == str(BOOT)
    assert current["agent_version"] == "0.1.0"

    # The edge's will (same boot, same 'since' as its online status) takes it offline.
    will = status("offline", since=datetime.fromisoformat(current["last_seen"]))
    centre.publish(topics.status("centre-01"), will.to_bytes(), retain=True)
    wait_until(lambda: site(api)["state"] == "offline", what="the will to be applied")
    assert site(api)["online"] is False
    assert not any(d["online"] for d in devices(api).values())


def test_a_site_goes_offline_when_heartbeats_stop(
    hub_settings: HubSettings, worker: HubIngest, edge: MakeEdge
) -> None:
    # Long enough that a loaded machine still sees the site online first; the wait for offline
    # is bounded generously, since only the transition is asserted, not when it comes.
    settings = hub_settings.model_copy(update={"heartbeat_timeout_s": 3.0})
    centre = edge()
    with ApiServer(build_app(settings, ingest=worker)) as api:
        centre.publish(topics.status("centre-01"), status("online").to_bytes())
        centre.publish(topics.health("centre-01"), health().to_bytes(), qos=0)
        wait_until(lambda: site(api).get("online") is True, what="online")
        wait_until(lambda: site(api)["online"] is False, timeout=60, what="offline by timeout")
        assert site(api)["state"] == "online"  # what it last said; silence decides
        assert devices(api)["reader-1"]["online"] is False


def test_heartbeats_apply_in_order_within_a_boot_and_a_new_boot_wins(
    worker: HubIngest, edge: MakeEdge, db: Db
) -> None:
    centre = edge()
    now = datetime.now(UTC)

    def outbox_depth() -> object:
        rows = db.rows("SELECT outbox_depth FROM sites WHERE id = 'centre-01'")
        return rows[0].outbox_depth if rows else None

    centre.publish(topics.health("centre-01"), health(ts=now, outbox_depth=5).to_bytes())
    wait_until(lambda: outbox_depth() == 5, what="first heartbeat")
    late = health(ts=now - timedelta(seconds=10), outbox_depth=99)  # older, same boot
    centre.publish(topics.health("centre-01"), late.to_bytes())
    barrier = checkin(1)  # processed after the late heartbeat
    centre.publish_events([barrier])
    wait_until(lambda: centre.receipted() == {(BOOT, 1)}, what="the barrier event")
    assert outbox_depth() == 5
    newer = health(ts=now + timedelta(seconds=1), outbox_depth=6)
    centre.publish(topics.health("centre-01"), newer.to_bytes())
    wait_until(lambda: outbox_depth() == 6, what="the newer heartbeat")

    # The edge restarts with a clock behind the old one: its own heartbeats still count.
    reboot = uuid.uuid4()
    centre.publish(topics.status("centre-01"), status("online", boot=reboot).to_bytes())
    behind = health(boot=reboot, ts=now - timedelta(hours=1), outbox_depth=0)
    centre.publish(topics.health("centre-01"), behind.to_bytes())
    wait_until(lambda: outbox_depth() == 0, what="the new boot's heartbeat")


def test_a_retained_status_replayed_on_subscribe_says_nothing_about_now(
    start_worker: StartWorker, edge: MakeEdge, db: Db
) -> None:
    centre = edge()
    centre.publish(topics.status("centre-01"), status("online").to_bytes(), retain=True)
    start_worker()  # a new session: the broker replays the retained status on subscribe
    wait_until(lambda: db.count("sites") == 1, what="the retained status")
    (row,) = db.rows("SELECT state, last_seen FROM sites")
    assert row.state == "online"
    assert row.last_seen is None
