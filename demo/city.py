"""The demo's records: the synthetic city, seeded once per data directory, and the cards its
simulated readers tap (enrolled cards of members the centre serves, and a few unknown ones)."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select

from demo.seed import default_year, is_seeded, member_card, seed_city
from hub.core.card_keys import HubCardKeys
from hub.core.db import make_engine, upgrade
from hub.org.calendar import CITY_TZ, month_of
from hub.org.models import Activity, Community, Member, ServiceCentre

log = logging.getLogger(__name__)

DEMO_SEED = 1
UNKNOWN_CARDS = 3


def seed_on_first_run(
    database_url: str,
    keys: HubCardKeys,
    progress: Callable[[str], None] = print,
    centres: Sequence[str] | None = None,
) -> int:
    """Migrate, seed the city if the database has none, and open an all-day activity today at
    each centre the demo runs (``centres``; default all), so that live taps count toward one.
    Returns the seeded year."""
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            seeded = is_seeded(conn)
        year = default_year()
        if not seeded:
            progress(f"first run: seeding a synthetic city for {year} (seed {DEMO_SEED}) ...")
            report = seed_city(engine, seed=DEMO_SEED, key=keys.city_key, year=year, seal=keys.seal)
            progress(
                f"seeded {report.counts['members']} members and {report.counts['checkins']} "
                f"check-ins in {report.seconds:.1f} s"
            )
        _open_today(engine, centres=centres)
    finally:
        engine.dispose()
    return year


def _open_today(
    engine: Engine, now: datetime | None = None, centres: Sequence[str] | None = None
) -> None:
    """Titled with the centre's name: on a page of all centres, eight rows of the same title
    could not be told apart."""
    local = (now or datetime.now(UTC)).astimezone(CITY_TZ)
    starts = local.replace(hour=0, minute=0, second=0, microsecond=0)
    ends = starts + timedelta(days=1)
    with engine.begin() as conn:
        query = select(ServiceCentre.id, ServiceCentre.community_id, ServiceCentre.name)
        if centres is not None:
            query = query.where(ServiceCentre.id.in_(list(centres)))
        running = conn.execute(query).all()
        have = set(
            conn.scalars(
                select(Activity.centre_id).where(
                    Activity.starts_at == starts.astimezone(UTC), Activity.title.like(f"{_TITLE}%")
                )
            )
        )
        rows = [
            {
                "centre_id": centre,
                "community_id": community,
                "title": f"{_TITLE} · {name}",
                "theme": "志愿服务日",
                "month": month_of(starts),
                "kind": "volunteer_service",
                "starts_at": starts.astimezone(UTC),
                "ends_at": ends.astimezone(UTC),
            }
            for centre, community, name in running
            if centre not in have
        ]
        if rows:
            conn.execute(insert(Activity), rows)


_TITLE = "演示: 全天志愿服务"


def demo_cards(database_url: str, site: str, count: int = 24) -> list[str]:
    """Cards for a simulated reader at ``site``: enrolled cards of members whose community the
    centre serves, and ``UNKNOWN_CARDS`` cards nobody enrolled."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            codes = conn.scalars(
                select(Member.code)
                .join(Community, Community.id == Member.community_id)
                .where(Community.centre_id == site, Member.card_hash.is_not(None))
                .order_by(Member.code)
                .limit(count)
            ).all()
    finally:
        engine.dispose()
    rng = random.Random(site)
    known = [member_card(DEMO_SEED, int(code[1:])) for code in codes if code[1:].isdigit()]
    unknown = [f"{rng.getrandbits(40):010X}" for _ in range(UNKNOWN_CARDS)]
    return known + unknown
