"""The city's venues in the registry of a benchmark's fresh database, so that the hub derives
occupancy, rollups and alerts from the load as it does in service (a reading of a site that is
not a registered venue is only recorded)."""

from __future__ import annotations

from datetime import time

from sqlalchemy.orm import Session

from hub.core.db import make_engine, upgrade
from hub.org.models import Community, Subdistrict, Unit
from hub.venues.models import Venue


def register_venues(database_url: str, sites: list[str], capacity: int = 200) -> None:
    """Migrate, then register each site as a venue open 06:00-22:00, owned by one of 8 units."""
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            subdistrict = Subdistrict(code="BSD", name="基准街道")
            session.add(subdistrict)
            session.flush()
            community = Community(code="BC", name="基准社区", subdistrict_id=subdistrict.id)
            session.add(community)
            units = [Unit(code=f"BU{n}", name=f"基准单位{n}", kind="institution") for n in range(8)]
            session.add_all(units)
            session.flush()
            for n, site in enumerate(sites):
                session.add(
                    Venue(
                        id=site,
                        name=f"共享场地 {site}",
                        kind="sports_ground" if n % 2 else "car_park",
                        unit_id=units[n % len(units)].id,
                        community_id=community.id,
                        address="原平市",
                        capacity=capacity,
                        opens_at=time(6, 0),
                        closes_at=time(22, 0),
                        alert_threshold_pct=90.0,
                    )
                )
            session.commit()
    finally:
        engine.dispose()
