"""``community seed`` and ``community import``: fill a database with a synthetic city, or load
members, units and agreements from roster files.

Both read the hub's settings (``HUB_DATABASE_URL``, ``HUB_CARD_KEY``); ``--database-url`` wins.
Both migrate the database first.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hub.core.db import make_engine, upgrade
from hub.core.settings import HubSettings
from hub.org.cards import CardKeyError, card_sealer
from hub.org.roster import TableError, format_of, import_roster
from hub.org.seed import SeedError, default_year, seed_city

log = logging.getLogger(__name__)


def _settings(database_url: str | None, prog: str) -> HubSettings | None:
    overrides: dict[str, Any] = {"mode": "demo"}  # no broker here: no broker secret needed
    if database_url:
        overrides["database_url"] = database_url
    try:
        return HubSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]) for e in exc.errors(include_url=False))
        print(f"{prog}: invalid settings: {problems}", file=sys.stderr)
        return None


def seed_main(argv: list[str] | None = None) -> int:
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
    settings = _settings(args.database_url, parser.prog)
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


def import_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="community import",
        description="Import members, units or agreements from a CSV or XLSX file. Every row is "
        "checked; if any row is bad, nothing is imported and every problem is listed. Cards "
        "need HUB_CARD_KEY. See docs/records.md for the columns.",
    )
    parser.add_argument("kind", choices=["members", "units", "agreements"])
    parser.add_argument("file", type=Path, help="a .csv or .xlsx file")
    parser.add_argument("--database-url", help="default: HUB_DATABASE_URL or sqlite:///data/hub.db")
    args = parser.parse_args(argv)
    settings = _settings(args.database_url, parser.prog)
    if settings is None:
        return 2
    try:
        file_format = format_of(args.file.name)
        data = args.file.read_bytes()
    except (TableError, OSError) as exc:
        print(f"{parser.prog}: {exc}", file=sys.stderr)
        return 2
    key = settings.card_key.get_secret_value().encode() if settings.card_key else None
    try:
        seal = card_sealer(settings)  # the members' card vault (HUB_CARD_PRIVATE_KEY_FILE)
    except CardKeyError as exc:
        print(f"{parser.prog}: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        upgrade(settings.database_url)
        with Session(engine) as session:
            report = import_roster(
                session, args.kind, data, file_format, card_key=key, card_seal=seal
            )
    except SQLAlchemyError as exc:
        print(f"{parser.prog}: database error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if not report.ok:
        print(
            f"{args.file}: {len(report.errors)} problem(s); nothing was imported:", file=sys.stderr
        )
        for error in report.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    print(
        f"{args.file}: {report.rows} {args.kind} rows imported "
        f"({report.created} new, {report.updated} updated)"
    )
    return 0
