"""``community import``: load members, units and agreements from roster files.

Reads the hub's settings (``HUB_DATABASE_URL``, ``HUB_CARD_KEY``); ``--database-url`` wins.
Migrates the database first. ``community seed``, the synthetic city, is the demo's
(demo/seed_cli.py).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from hub.audit.console import console_session
from hub.core.card_keys import CardKeyError
from hub.core.db import make_engine, upgrade
from hub.core.settings import settings_for_cli
from hub.org.cards import card_sealer
from hub.org.roster import TableError, format_of, import_roster

log = logging.getLogger(__name__)


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
    settings = settings_for_cli(args.database_url, parser.prog)
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
        with console_session(engine, parser.prog, argv, source="import") as session:
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
