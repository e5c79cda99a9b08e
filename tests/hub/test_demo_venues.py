"""The demo's venues: which venues it simulates, when their clock starts, the configs it writes."""

from __future__ import annotations

import sqlite3
from contextlib import ExitStack
from datetime import UTC, datetime, time
from pathlib import Path

from demo.venues import (
    registry_venues,
    start_venues,
    venue_clock_start,
    venue_device_list,
    venue_sites,
)
from edge.config import BaySensorSettings, PeopleCounterSettings, SignSettings, load_settings
from firmware_sim.venue import city_venues
from firmware_sim.venue_scenario import CITY_TZ
from hub.core.db import upgrade
from tests.hub.demo_sites import demo_sites


def test_without_a_registry_the_city_layout_is_used(tmp_path: Path) -> None:
    sites = venue_sites(52)
    assert registry_venues(f"sqlite:///{tmp_path / 'none.db'}", sites) == city_venues()


def test_venues_in_the_registry_are_simulated_as_registered(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as db:  # the registry's own rows, without their units
        db.execute("PRAGMA foreign_keys=OFF")
        db.execute(
            "INSERT INTO venues (id, name, kind, unit_id, community_id, address, capacity, "
            "opens_at, closes_at, alert_threshold_pct) VALUES "
            "('venue-02', '停车场', 'car_park', 1, 1, '原平市', 33, '06:00:00', '22:00:00', 90)"
        )
    specs = registry_venues(f"sqlite:///{path}", venue_sites(3))
    assert [s.site for s in specs] == ["venue-01", "venue-02", "venue-03"]
    assert (specs[1].kind, specs[1].capacity, specs[1].bays) == ("car_park", 33, 33)
    assert (specs[1].opens_at, specs[1].closes_at) == (time(6), time(22))
    assert specs[0] == city_venues(3)[0]


def test_a_demo_at_night_starts_the_venues_at_seven() -> None:
    evening = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # 22:00 in the city
    assert venue_clock_start(evening) == datetime(2026, 11, 28, 7, 0, tzinfo=CITY_TZ)
    early = datetime(2026, 11, 27, 21, 0, tzinfo=UTC)  # 05:00 next day in the city
    assert venue_clock_start(early) == datetime(2026, 11, 28, 7, 0, tzinfo=CITY_TZ)
    noon = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
    assert venue_clock_start(noon) == noon


def test_each_venue_gets_an_edge_config_that_loads(tmp_path: Path) -> None:
    specs = [s for s in city_venues() if s.kind == "car_park"][:1]
    with ExitStack() as cleanup:
        (sim,) = start_venues(specs, tmp_path, 60.0, cleanup)
        _, _, bundles = demo_sites(tmp_path, [], {sim.spec.site: venue_device_list(sim)})
        path = bundles[sim.spec.site]
        assert path.stat().st_mode & 0o777 == 0o600
        settings = load_settings(path)
        assert sim.link.is_symlink()
    assert settings.site == specs[0].site
    counter, bays, sign = settings.devices
    assert isinstance(counter, PeopleCounterSettings)
    assert isinstance(bays, BaySensorSettings)
    assert isinstance(sign, SignSettings)  # the venue's capacity alerts reach its sign
    assert counter.port == bays.port == sign.port == str(sim.link)
    assert bays.bays == specs[0].bays
    assert counter.keepalive_s == 30.0
    assert (sign.unit_id, sign.poll_interval_s) == (3, 5.0)
