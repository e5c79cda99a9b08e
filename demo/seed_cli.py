"""``community seed``: fill a database with a synthetic city (demo/seed.py).

Reads the hub's settings (``HUB_DATABASE_URL``, ``HUB_CARD_KEY``); ``--database-url`` wins.
Migrates the database first.
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import SQLAlchemyError

from demo.seed import SeedError, default_year, seed_city
from hub.core.db import make_engine, upgrade
from hub.core.settings import settings_for_cli
from hub.org.cards import card_sealer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="community seed",
        description="Fill an empty database with a synthetic city at the report's scale "
        "(3 sub-districts, 16 communities, 4,800 members, a year of check-ins). The same "
        "--seed and --year give the same city. Needs HUB_CARD_KEY to hash the cards.",
    )
    parser.add_argument("--seed", type=int, required=True, help="random seed, e.g. 1")
    parser.add_argument(
        "--year", type=int, help=f"the year of activities and check-ins (default {default_year()})"
    )
    parser.add_argument("--database-url", help="default: HUB_DATABASE_URL or sqlite:///data/hub.db")
    args = parser.parse_args(argv)
    settings = settings_for_cli(args.database_url, parser.prog)
    if settings is None:
        return 2
    try:
        key = settings.card_key_bytes()
        seal = card_sealer(settings)  # the members' card vault (HUB_CARD_PRIVATE_KEY_FILE)
    except ValueError as exc:
        print(f"{parser.prog}: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        upgrade(settings.database_url)
        print(f"seeding {settings.database_url_for_display()} (seed {args.seed})", flush=True)
        report = seed_city(
            engine,
            seed=args.seed,
            key=key,
            year=args.year,
            progress=lambda line: print(f"  {line}", flush=True),
            seal=seal,
        )
    except SeedError as exc:
        print(f"{parser.prog}: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"{parser.prog}: database error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(
        f"seeded the city for {report.year}: assess it with /api/v1/reports/assessment?year={report.year}"
    )
    return 0
