"""``community audit``: the audit log at the console (docs/administration.md).

* ``list [--actor NAME] [--table TABLE] [--row-id ID] [--since TIME] [--limit N]``: newest first
* ``purge``: delete the rows older than ``HUB_AUDIT_RETENTION_DAYS`` (at least 180); with the
  setting unset nothing is deleted (the hub's own job does the same every few hours)
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hub.audit.models import AuditEntry
from hub.audit.query import AuditQuery, entries
from hub.audit.retention import purge
from hub.core.db import make_engine, upgrade
from hub.core.settings import HubSettings, settings_for_cli
from mqtt_contract.city import CITY_TZ as CITY

PROG = "community audit"
MAX_LIMIT = 1000
VALUE_CHARS = 60


def _time(text: str) -> datetime:
    """An ISO date or date and time; without an offset, in the city's time (as the dashboard
    shows times)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: an ISO date or time, e.g. 2026-11-27 or 2026-11-27T08:30+08:00"
        ) from None
    return (value if value.tzinfo else value.replace(tzinfo=CITY)).astimezone(UTC)


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"{text!r}: a number from 1 to {MAX_LIMIT}")
    return value


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", help="default: HUB_DATABASE_URL or sqlite:///data/hub.db")
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list", parents=[common], help="entries, newest first")
    listing.add_argument("--actor", help="a user's name, a login, or system")
    listing.add_argument("--table", help="a table (venues, members...) or an export")
    listing.add_argument("--row-id", help="the row's id")
    listing.add_argument("--since", type=_time, help="from this date or time (city time)")
    listing.add_argument("--limit", type=_limit, default=50, help=f"at most 1 to {MAX_LIMIT}")
    sub.add_parser(
        "purge", parents=[common], help="delete rows older than HUB_AUDIT_RETENTION_DAYS"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = settings_for_cli(args.database_url, PROG)
    if settings is None:
        return 2
    engine = make_engine(settings.database_url)
    try:
        upgrade(settings.database_url)
        if args.action == "purge":
            return _purge(settings, engine)
        with Session(engine) as session:
            return _list(session, args)
    except SQLAlchemyError as exc:
        print(f"{PROG} {args.action}: database error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def _purge(settings: HubSettings, engine: Engine) -> int:
    days = settings.audit_retention_days
    if days is None:
        print("HUB_AUDIT_RETENTION_DAYS is not set: the audit log is kept forever; none purged")
        return 0
    removed = purge(engine, days)
    print(f"audit log: {removed} rows older than {days} days purged")
    return 0


def _list(session: Session, args: argparse.Namespace) -> int:
    query = AuditQuery(actor=args.actor, table=args.table, row_id=args.row_id, since=args.since)
    count, rows = entries(session, query, limit=args.limit)
    if not rows:
        print("no audit entries match")
        return 0
    for row in rows:
        print(_line(row))
    if count > len(rows):
        print(f"({len(rows)} of {count}; --limit shows more)")
    return 0


def _line(row: AuditEntry) -> str:
    at = row.at.astimezone(CITY).strftime("%Y-%m-%d %H:%M:%S")
    what = f"{row.table_name}/{row.row_id}"
    head = f"{at}  {row.actor:<16} {row.source:<6} {row.action:<7} {what}"
    return f"{head}  {_changes(row)}".rstrip()


def _changes(row: AuditEntry) -> str:
    """``capacity: 120 -> 150``: each changed column, values cut short."""
    before, after = row.before or {}, row.after or {}
    if row.action == "export":
        return _short(after)
    if row.action in {"create", "delete"}:
        return ""
    parts = [f"{key}: {_short(before.get(key))} -> {_short(after.get(key))}" for key in after]
    return "; ".join(parts)


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"
