"""``community retention``: what the hub keeps and for how long (docs/retention.md).

* ``status``: per kind of data, its setting, the oldest row, the cutoff and the rows beyond it
  (what the next run removes), and its partitions on PostgreSQL
* ``run``: purge every kind now, as the hub's job does every few hours
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from hub.core.db import make_engine, upgrade
from hub.core.retention import status
from hub.core.settings import settings_for_cli
from hub.retention import kinds
from hub.retention.job import run
from mqtt_contract.city import CITY_TZ

PROG = "community retention"


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", help="default: HUB_DATABASE_URL or sqlite:///data/hub.db")
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("status", parents=[common], help="per kind: oldest row, cutoff, rows beyond")
    sub.add_parser("run", parents=[common], help="purge every kind now")
    return parser


def _time(at: datetime | None) -> str:
    return at.astimezone(CITY_TZ).strftime("%Y-%m-%d %H:%M") if at is not None else "-"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = settings_for_cli(args.database_url, PROG)
    if settings is None:
        return 2
    engine = make_engine(settings.database_url)
    try:
        upgrade(settings.database_url)
        if args.action == "run":
            results = run(engine, kinds(settings))
            if not results:
                print(f"{PROG} run: another process is running it now; nothing done")
                return 1
            for name, result in results.items():
                print(
                    f"{name:<17} before {_time(result.cutoff)}: {result.rows} rows deleted, "
                    f"{result.partitions} partitions dropped, {len(result.made)} made"
                )
            return 0 if len(results) == len(kinds(settings)) else 1
        print(f"{'kind':<17} {'oldest':<16}  {'cutoff':<16}  {'beyond':>9}  {'parts':>5}  setting")
        for kind in kinds(settings):
            s = status(engine, kind)
            parts = "-" if s.partitions is None else str(s.partitions)
            print(
                f"{s.name:<17} {_time(s.oldest):<16}  {_time(s.cutoff):<16}  {s.beyond:>9}  "
                f"{parts:>5}  {s.setting}"
            )
        if settings.audit_retention_days is None:
            print("audit_log: HUB_AUDIT_RETENTION_DAYS is not set: kept forever")
        return 0
    except SQLAlchemyError as exc:
        print(f"{PROG} {args.action}: database error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
