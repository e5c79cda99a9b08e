"""A hub seeded as the demo seeds it on first run (the city, then the venues' weeks of history
through the hub's own store and derivation) shows data on every page at first open, and the
history's rollups are the ones the hub's own recompute gives from the same readings."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser
from pydantic import SecretStr

from demo.broker.mosquitto import MosquittoBroker
from demo.history import seed_venues_on_first_run
from demo.seed import seed_city
from demo.venues import registry_venues, venue_sites
from hub.core.db import make_engine, upgrade
from hub.core.settings import HubSettings
from hub.org.calendar import CITY_TZ
from hub.venues import registry, rollups
from hub.venues.state import HOUR
from tests.dashboards.support import (
    CITY_SEED,
    SMALL_CITY,
    DashboardHub,
    open_page,
    screenshot,
    watched,
)
from tests.hub.support import CARD_KEY, shared_card_key_file
from tests.services import ACCOUNTS

VENUES = venue_sites(SMALL_CITY.venues)

# demo_hub (module scope) seeds a city: seeded once, on one worker
pytestmark = pytest.mark.xdist_group("demo-city")


@pytest.fixture(scope="module")
def demo_hub(
    tmp_path_factory: pytest.TempPathFactory, session_broker: MosquittoBroker
) -> Iterator[DashboardHub]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'hub.db'}"
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        seed_city(engine, seed=CITY_SEED, key=CARD_KEY, scale=SMALL_CITY)
    finally:
        engine.dispose()
    scenarios = seed_venues_on_first_run(
        database_url, registry_venues(database_url, VENUES), progress=lambda _: None
    )
    assert sorted(scenarios) == VENUES
    user, password = ACCOUNTS.hub
    settings = HubSettings(
        database_url=database_url,
        mqtt_url=session_broker.url,
        mqtt_username=user,
        mqtt_password=SecretStr(password),
        mqtt_client_id=f"hub-demo-{uuid.uuid4().hex[:8]}",
        card_key=SecretStr(CARD_KEY.decode()),
        card_private_key_file=shared_card_key_file(),
        mode="production",
        batch_wait_ms=10,
    )
    running = DashboardHub(settings)
    yield running
    running.close()


def test_history_rollups_are_the_hubs_own_recompute(demo_hub: DashboardHub) -> None:
    """Every 5-minute and hourly row of two venues' last two days, against what
    ``rollups.bucket`` / ``hour_from_buckets`` replay from the recorded readings."""
    engine = make_engine(demo_hub.settings.database_url)
    now = datetime.now(UTC)
    try:
        with engine.connect() as conn:
            venues = registry.load(conn)
            for venue_id in VENUES[:2]:
                venue = venues[venue_id]
                for step in ("5m", "1h"):
                    stored = rollups.series(conn, venue_id, step, now - timedelta(days=2), now)
                    assert len(stored) > 20, (venue_id, step)
                    for row in stored:
                        if step == "5m":
                            again = rollups.bucket(conn, venue, row.start)
                        else:
                            again = rollups.hour_from_buckets(conn, venue, row.start)
                        assert (again.readings, again.visits, again.peak, again.last) == (
                            row.readings,
                            row.visits,
                            row.peak,
                            row.last,
                        ), (venue_id, step, row.start)
                        assert again.mean == pytest.approx(row.mean), (venue_id, step, row.start)
    finally:
        engine.dispose()


def _local_month(at: datetime) -> str:
    return at.astimezone(CITY_TZ).strftime("%Y-%m")


def test_every_page_shows_the_seeded_city(browser: Browser, demo_hub: DashboardHub) -> None:
    now = datetime.now(UTC)
    previous = _local_month(now.astimezone(CITY_TZ).replace(day=1) - timedelta(days=1))
    this = _local_month(now)
    # what the seeded city holds, by the API: the pages must show it
    for month in (previous, this):
        report = demo_hub.get("/api/v1/reports/venue-sharing", month=month)
        assert sum(v["visits"] for v in report["venues"]) > 0, month
    venue = VENUES[0]
    midnight = now.astimezone(CITY_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    today = demo_hub.get(
        f"/api/v1/venues/{venue}/occupancy",
        **{"from": midnight.isoformat(), "to": now.isoformat(), "step": "5m"},
    )["data"]
    weeks = demo_hub.get(
        f"/api/v1/venues/{venue}/occupancy",
        **{"from": (midnight - 4 * 7 * 24 * HOUR).isoformat(), "to": now.isoformat(), "step": "1h"},
    )["data"]
    assert sum(b["visits"] for b in weeks) > 0

    with watched(browser, login=demo_hub) as w:
        open_page(w, demo_hub.url + f"/venue?id={venue}")
        # the usual day (mean of each hour over 28 days) and the last four weeks' bars
        usual = _series_paths(w, "#today-chart", "#2f6fdf")
        bars = _series_paths(w, "#weeks-chart", None)
        assert usual >= 1, "no usual day drawn"
        assert bars >= 20, f"only {bars} marks in the last four weeks"
        if today:  # a line of today where the readings have made one
            assert _series_paths(w, "#today-chart", "#c8161d") >= 1
        screenshot(w, "demo-city-venue")

        for month in (previous, this):
            open_page(w, demo_hub.url + f"/records?tab=sharing&month={month}")
            visits = w.page.locator("#stat-sharing-visits .figure").inner_text()
            assert int("".join(ch for ch in visits if ch.isdigit()) or 0) > 0, (month, visits)
            screenshot(w, f"demo-city-sharing-{month}")

        # the seeded centres' readers have never reported: not deployed, not offline
        open_page(w, demo_hub.url + "/checkins")
        readers = w.page.locator("#readers-table tbody").inner_text()
        assert "未部署" in readers, readers
        assert "离线" not in readers, readers

        open_page(w, demo_hub.url + "/")
        tile = w.page.locator("#tile-venues .figure strong").inner_text()
        assert int("".join(ch for ch in tile if ch.isdigit())) == len(VENUES)
        assert w.problems == []


def _series_paths(w: object, chart: str, colour: str | None) -> int:
    """How many drawn marks (SVG paths) of a colour (any series colour: bars) the chart has."""
    page = w.page  # type: ignore[attr-defined]
    script = """([sel, colour]) => [...document.querySelectorAll(`${sel} svg path`)]
      .filter((p) => colour ? (p.getAttribute('stroke') === colour || p.getAttribute('fill') === colour)
                            : (p.getAttribute('fill') || 'none') !== 'none' && (p.getAttribute('d') || '').length > 10)
      .length"""
    count: int = page.evaluate(script, [chart, colour])
    return count
