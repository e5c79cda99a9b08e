"""The demo's shared venues: Modbus sensors simulated in the demo process, read by edge agents.

Every venue gets its own RS-485 line (a pty pair behind a stable path), its own edge config,
outbox and broker account, exactly as a venue's own box would have. What is shared is the process:
the simulators of all venues run on one event loop thread, and all venue agents run in one
``community edge`` process (``--config`` repeated). One process per agent would cost about 41 MiB
each, 2.1 GiB for 52 venues; one process for all 52 measured 57 MiB (docs/devices.md).
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from firmware_sim.sim_loop import SimLoop
from firmware_sim.venue import VenueSim, city_venues, venue_spec
from firmware_sim.venue_scenario import (
    CITY_TZ,
    VENUE_KINDS,
    VenueScenario,
    VenueSpec,
    city_day_plan,
)

log = logging.getLogger(__name__)

POLL = {"poll_interval_s": 1.0, "keepalive_s": 30.0}
"""For the sensors; the sign keeps its own defaults (read back every 5 s, written at once)."""
OPENING, CLOSING = time(7), time(20)


def venue_sites(count: int) -> list[str]:
    return [f"venue-{n:02d}" for n in range(1, count + 1)]


def registry_venues(database_url: str, sites: list[str]) -> list[VenueSpec]:
    """The venues as the hub's registry has them (kind, capacity, hours), where it has them;
    the built-in city layout for the rest (an empty registry: nothing seeded yet)."""
    fallback = {spec.site: spec for spec in city_venues(len(sites))}
    found: dict[str, VenueSpec] = {}
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT id, kind, capacity, opens_at, closes_at FROM venues")
            ).all()
    except sa.exc.SQLAlchemyError as exc:
        log.info("no venue registry to follow (%s); using the built-in layout", exc)
        rows = []
    finally:
        engine.dispose()
    for site, kind, capacity, opens_at, closes_at in rows:
        if site in fallback and kind in VENUE_KINDS:
            try:
                found[site] = venue_spec(site, kind, capacity, _clock(opens_at), _clock(closes_at))
            except ValueError as exc:
                log.warning("venue %s: %s; using the built-in layout for it", site, exc)
    return [found.get(site, fallback[site]) for site in sites]


def start_venues(
    specs: list[VenueSpec],
    data_dir: Path,
    acceleration: float,
    cleanup: ExitStack,
    resume: dict[str, VenueScenario] | None = None,
) -> list[VenueSim]:
    """Start the simulators on one loop; ``cleanup`` closes them. ``resume``: scenarios that
    go on from the venues' recorded past (seeded history, or the last run's readings). On the
    wall clock (``acceleration`` 1) the venues follow today's real hour."""
    logging.getLogger("pymodbus").setLevel(logging.WARNING)  # not a line per server started
    start = None if acceleration == 1 else venue_clock_start(datetime.now(UTC))
    loop = SimLoop("venue-sims")
    cleanup.callback(loop.close)
    sims = []
    for n, spec in enumerate(specs):
        sim = VenueSim(
            loop,
            spec,
            data_dir / "venues",
            seed=n,
            near_wrap=near_wrap(n),
            day_plan=city_day_plan,
            resume=(resume or {}).get(spec.site),
        )
        cleanup.callback(sim.close)
        sim.start(acceleration=acceleration, start=start)
        sims.append(sim)
    return sims


def near_wrap(n: int) -> int | None:
    """A few counters have counted for years: they wrap (in the history, or live)."""
    return 500 if n % 10 == 9 else None


def venue_clock_start(now: datetime) -> datetime:
    """For a time-lapse: now, if the venues are in their busy hours; else the next 07:00, so a
    demo started at night shows movement at once rather than after hours of empty grounds."""
    local = now.astimezone(CITY_TZ)
    if OPENING.hour <= local.hour < CLOSING.hour:
        return local
    day = local.date() + timedelta(days=1 if local.hour >= CLOSING.hour else 0)
    return datetime.combine(day, OPENING, tzinfo=CITY_TZ)


def venue_device_list(sim: VenueSim) -> list[dict[str, Any]]:
    """The devices of the edge that reads this venue's line, as its site is provisioned with;
    the sign keeps its own poll defaults."""
    return [
        device if device["kind"] == "sign" else {**device, **POLL} for device in sim.edge_devices()
    ]


def _clock(value: object) -> time:
    if isinstance(value, time):
        return value
    return time.fromisoformat(str(value))
