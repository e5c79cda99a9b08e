"""The sites' heartbeat history: one heartbeat a step per site, redeliveries ignored, old rows
pruned; kept by the running hub from the heartbeats it ingests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from hub.composition import HubIngest, build_app
from hub.core.settings import HubSettings
from hub.ingest.events import HealthRecord
from hub.sites.history import HeartbeatHistory, prune, step_start
from hub.sites.models import SiteBeat
from mqtt_contract import topics
from tests.hub.support import ApiServer, EdgeClient, StartWorker, health, wait_until

STEP_S = 60.0


def _beat(at: datetime, site: str = "centre-01", **kwargs: object) -> HealthRecord:
    return HealthRecord(health(site=site, ts=at, **kwargs), received_at=at)  # type: ignore[arg-type]


def _rows(engine: Engine) -> list[tuple[str, datetime, int, int]]:
    with engine.connect() as conn:
        query = select(SiteBeat.site_id, SiteBeat.at, SiteBeat.outbox_depth, SiteBeat.devices_bad)
        return [tuple(r) for r in conn.execute(query.order_by(SiteBeat.site_id, SiteBeat.at))]  # type: ignore[misc]


def test_one_heartbeat_a_step_per_site_and_a_redelivery_changes_nothing(engine: Engine) -> None:
    history = HeartbeatHistory(engine, step_s=STEP_S, keep_h=24)
    start = step_start(datetime.now(UTC), STEP_S) - timedelta(minutes=10)
    first = _beat(start + timedelta(seconds=5), outbox_depth=3)
    later_same_step = _beat(start + timedelta(seconds=50), outbox_depth=99)
    next_step = _beat(start + timedelta(seconds=65), devices={"reader-1": "degraded"})
    other_site = _beat(start + timedelta(seconds=5), site="venue-01")
    history.after_commit([first, later_same_step, other_site])
    history.after_commit([next_step, first])  # a redelivered batch brings ``first`` again
    assert _rows(engine) == [
        ("centre-01", start, 3, 0),
        ("centre-01", start + timedelta(seconds=STEP_S), 0, 1),
        ("venue-01", start, 0, 0),
    ]


def test_history_older_than_kept_is_pruned(engine: Engine) -> None:
    now = datetime.now(UTC)
    history = HeartbeatHistory(engine, step_s=STEP_S, keep_h=1)
    history.after_commit([_beat(now - timedelta(hours=3)), _beat(now - timedelta(hours=2))])
    # each write prunes (at most once a step) what is older than kept, its own old rows too
    history.after_commit([_beat(now)])
    assert [at for _, at, _, _ in _rows(engine)] == [step_start(now, STEP_S)]
    with engine.begin() as conn:
        assert prune(conn, now + timedelta(minutes=5)) == 1
        assert conn.scalar(select(func.count()).select_from(SiteBeat)) == 0


def test_the_running_hub_keeps_the_history_it_ingests(
    hub_settings: HubSettings,
    start_worker: StartWorker,
    edge: Callable[..., EdgeClient],
) -> None:
    worker: HubIngest = start_worker()
    centre = edge()
    centre.publish(topics.health("centre-01"), health(outbox_depth=7).to_bytes())
    with ApiServer(build_app(hub_settings, ingest=worker)) as api:

        def history() -> list[dict[str, object]]:
            response = api.get("/api/v1/sites/centre-01")
            return response.json()["history"] if response.status_code == 200 else []

        wait_until(lambda: len(history()) == 1, what="the heartbeat in the history")
        (kept,) = history()
        assert kept["outbox_depth"] == 7
        assert kept["devices"] == 1
