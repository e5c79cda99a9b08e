"""Native declarative partitions of the raw event tables on PostgreSQL (migration 0011).

A partitioned table (``checkins`` by month, ``counter_readings`` and ``bay_readings`` by day, on
``device_time``) has one partition per city-local day or month in the schema ``partitions``
(out of the way of the hub's own tables and of schema comparisons) and a default partition, so
that an insert never fails for want of a partition: a reading from a far past or future lands in
the default one. Dropping what retention lets go is ``DROP TABLE`` of whole partitions.

Partitions are named after their first day (``counter_readings_p20261203``,
``checkins_p202612``): the name is the bound, so nothing has to parse ``pg_get_expr``. Making a
partition whose range the default partition already holds rows of moves those rows into it in the
same transaction (PostgreSQL would refuse to attach it otherwise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Connection

from mqtt_contract.city import CITY_TZ

SCHEMA = "partitions"
Unit = Literal["day", "month"]

PARTITIONED: dict[str, Unit] = {
    "checkins": "month",
    "counter_readings": "day",
    "bay_readings": "day",
}
"""The tables migration 0011 partitions on ``device_time``, and by what."""

AHEAD: dict[Unit, int] = {"day": 7, "month": 2}
"""Partitions made ahead of today by every maintenance pass (and by the migration)."""


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    start: datetime
    end: datetime


def floor(at: datetime, unit: Unit) -> datetime:
    """The start (city time, as an aware datetime) of the day or month ``at`` falls in."""
    local = at.astimezone(CITY_TZ)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "month":
        day = day.replace(day=1)
    return datetime(day.year, day.month, day.day, tzinfo=CITY_TZ)


def following(start: datetime, unit: Unit) -> datetime:
    """The start of the next day or month after the one starting at ``start``."""
    if unit == "day":
        nxt = (start + timedelta(days=1, hours=12)).date()
        return datetime(nxt.year, nxt.month, nxt.day, tzinfo=CITY_TZ)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return datetime(year, month, 1, tzinfo=CITY_TZ)


def partition_name(table: str, start: datetime, unit: Unit) -> str:
    return f"{table}_p{start.strftime('%Y%m%d' if unit == 'day' else '%Y%m')}"


def _parse(table: str, name: str, unit: Unit) -> Partition | None:
    digits = 8 if unit == "day" else 6
    found = re.fullmatch(rf"{re.escape(table)}_p(\d{{{digits}}})", name)
    if found is None:
        return None
    text = found.group(1)
    start = datetime(int(text[:4]), int(text[4:6]), int(text[6:8]) if unit == "day" else 1)
    start = start.replace(tzinfo=CITY_TZ)
    return Partition(name, start, following(start, unit))


def is_partitioned(conn: Connection, table: str) -> bool:
    kind = conn.exec_driver_sql(
        "SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname = %(t)s AND n.nspname = current_schema()",
        {"t": table},
    ).scalar()
    return kind == "p"


def partitions(conn: Connection, table: str, unit: Unit) -> list[Partition]:
    """The table's day or month partitions, oldest first (not the default one)."""
    names = conn.exec_driver_sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace "
        "WHERE p.relname = %(t)s AND n.nspname = current_schema()",
        {"t": table},
    ).scalars()
    found = [p for p in (_parse(table, name, unit) for name in names) if p is not None]
    return sorted(found, key=lambda p: p.start)


def _literal(at: datetime) -> str:
    return "'" + at.astimezone(UTC).isoformat() + "'"


def create_partition(conn: Connection, table: str, start: datetime, unit: Unit) -> str:
    """Make the partition starting at ``start``, moving into it any rows of its range that the
    default partition holds."""
    name = partition_name(table, start, unit)
    end = following(start, unit)
    qualified = f'"{SCHEMA}"."{name}"'
    default = f'"{SCHEMA}"."{table}_default"'
    bounds = f"device_time >= {_literal(start)} AND device_time < {_literal(end)}"
    # no insert may land in the default partition between the move and the attach
    conn.exec_driver_sql(f"LOCK TABLE {default} IN EXCLUSIVE MODE")
    conn.exec_driver_sql(
        f'CREATE TABLE {qualified} (LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)'
    )
    conn.exec_driver_sql(  # names and bounds are ours, not input
        f"WITH moved AS (DELETE FROM {default} WHERE {bounds} RETURNING *) "  # noqa: S608
        f"INSERT INTO {qualified} SELECT * FROM moved"
    )
    conn.exec_driver_sql(
        f'ALTER TABLE "{table}" ATTACH PARTITION {qualified} '
        f"FOR VALUES FROM ({_literal(start)}) TO ({_literal(end)})"
    )
    return name


def ensure_partitions(
    conn: Connection, table: str, unit: Unit, since: datetime, until: datetime
) -> list[str]:
    """Make the missing partitions from the one holding ``since`` to the one holding ``until``;
    their names."""
    have = {p.start for p in partitions(conn, table, unit)}
    made: list[str] = []
    start = floor(since, unit)
    while start <= until:
        if start not in have:
            made.append(create_partition(conn, table, start, unit))
        start = following(start, unit)
    return made


def drop_partitions_before(conn: Connection, table: str, unit: Unit, cutoff: datetime) -> int:
    """Drop every partition that ends at or before ``cutoff``; how many went."""
    gone = [p for p in partitions(conn, table, unit) if p.end <= cutoff]
    for p in gone:
        conn.exec_driver_sql(f'DROP TABLE "{SCHEMA}"."{p.name}"')
    return len(gone)
