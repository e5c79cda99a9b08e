"""The demo's sites on a small registry: the records they are tied to (a few centres and venues on
SQLite, not the whole seeded city) and the demo's own provisioning (``demo.sites``)."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

from demo.cli import demo_settings, load_credentials
from demo.sites import DemoSite, centre_site, provision
from hub.core.db import make_engine, upgrade
from hub.core.settings import HubSettings
from hub.venues.models import Venue
from tests.hub.org.support import City


def small_registry(database_url: str, centres: list[str], venues: list[str]) -> None:
    """Migrated, with these service centres and venues (``centre-01`` always)."""
    upgrade(database_url)
    engine = make_engine(database_url)
    city = City(engine)
    try:
        for n, site in enumerate(c for c in centres if c != "centre-01"):
            city.add_centre(site, city.add_community(f"C{n + 2:02d}", f"社区{n + 2}"))
        unit = city.add_unit("U01")
        for site in venues:
            city.add(
                Venue(
                    id=site,
                    name=f"{site}停车场",
                    kind="car_park",
                    unit_id=unit.id,
                    community_id=city.community.id,
                    address="原平市新原路1号",
                    capacity=40,
                    opens_at=time(7),
                    closes_at=time(21),
                )
            )
        city.commit()
    finally:
        city.close()
        engine.dispose()


def demo_sites(
    data_dir: Path,
    centres: list[str],
    venues: dict[str, list[dict[str, Any]]] | None = None,
    *,
    broker_url: str = "mqtt://127.0.0.1:1883",
    protocol: str = "5",
) -> tuple[dict[str, Any], HubSettings, dict[str, Path]]:
    """The demo's credentials, its settings and its sites' bundles, as ``community demo``
    makes them on a small registry in ``data_dir``."""
    database_url = f"sqlite:///{data_dir / 'hub.db'}"
    small_registry(database_url, centres, list(venues or {}))
    creds = load_credentials(data_dir)
    settings = demo_settings(data_dir, creds, database_url, broker_url, protocol)
    wanted = [centre_site(data_dir, site) for site in centres] + [
        DemoSite(site, "venue", devices) for site, devices in (venues or {}).items()
    ]
    return creds, settings, provision(settings, wanted, data_dir)
