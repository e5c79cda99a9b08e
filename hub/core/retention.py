"""Retention: each kind of data the hub keeps goes when it is older than its setting says.

A :class:`Kind` names a table, the column its age is read from, and how to work out the cutoff
(rows recorded before it go). A purge of a kind runs, in order: its ``before`` step (check-ins
are reduced to attendance first), on PostgreSQL the drop of every partition wholly before the
cutoff (a partitioned table's cutoff is rounded down to a partition's start, on both databases,
so the two agree), then deletes of what is left before the cutoff in bounded batches (all of it on
SQLite; on PostgreSQL only stragglers in a default partition). Then the partitions ahead are made.

The domain packages declare their kinds (``hub.org.retention``, ``hub.venues.retention``...);
``hub.retention`` gathers them from the settings and runs them in the hub.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, ColumnElement, Connection, Engine, Table, delete, func, select
from sqlalchemy import tuple_ as sql_tuple

from hub.core import partitions
from hub.core.partitions import AHEAD, Unit

PURGE_BATCH = 5_000
"""Rows deleted per transaction: a first purge of years of data holds no lock for long."""
LOCK_TIMEOUT = "5s"
"""Dropping a partition locks its table a moment; rather than queue behind a long reader (and
hold ingest up behind itself), it gives up and tries at the next run."""

Cutoff = Callable[[Connection, datetime], datetime | None]
"""Rows older than the returned time go; ``None``: nothing goes (kept forever)."""


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    table: Table
    time: Column[datetime]
    cutoff: Cutoff
    setting: str
    """The environment variable that decides it (for status and the docs)."""
    unit: Unit | None = None
    """The table's partitions on PostgreSQL (``hub.core.partitions.PARTITIONED``)."""
    before: Callable[[Connection, datetime], int] | None = None
    """Run before rows go (in its own transaction): what must survive them is saved."""
    also: Callable[[Engine], ColumnElement[bool]] | None = None
    """A further condition every deleted row meets (the audit log's own clock)."""


def older_than(age: timedelta) -> Cutoff:
    """The cutoff of a kind whose rows go at a fixed age."""

    def cutoff(conn: Connection, now: datetime) -> datetime:
        return now - age

    return cutoff


@dataclass(slots=True)
class PurgeResult:
    rows: int = 0
    partitions: int = 0
    cutoff: datetime | None = None
    made: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class KindStatus:
    name: str
    setting: str
    oldest: datetime | None
    cutoff: datetime | None
    beyond: int
    """Rows older than the cutoff: what the next purge will remove."""
    partitions: int | None
    """Its partitions on PostgreSQL; ``None``: not partitioned."""


def _partitioned(engine: Engine, kind: Kind) -> Unit | None:
    if kind.unit is None or engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        return kind.unit if partitions.is_partitioned(conn, kind.table.name) else None


def cutoff_of(conn: Connection, kind: Kind, now: datetime) -> datetime | None:
    """The kind's cutoff; a partitioned kind's rounded down to a partition's start (city time)."""
    cut = kind.cutoff(conn, now)
    if cut is None or kind.unit is None:
        return cut
    return partitions.floor(cut, kind.unit).astimezone(UTC)


def _older(engine: Engine, kind: Kind, cut: datetime) -> ColumnElement[bool]:
    condition = kind.time < cut
    return condition & kind.also(engine) if kind.also is not None else condition


def delete_in_batches(
    engine: Engine, table: Table, where: ColumnElement[bool], batch: int = PURGE_BATCH
) -> int:
    """Delete the rows of ``table`` that meet ``where``, ``batch`` rows a transaction, by primary
    key; how many went."""
    key: list[Column[object]] = list(table.primary_key.columns)
    removed = 0
    while True:
        with engine.begin() as conn:
            rows = conn.execute(select(*key).where(where).limit(batch)).all()
            if rows:
                if len(key) == 1:
                    target = key[0].in_([r[0] for r in rows])
                else:
                    target = sql_tuple(*key).in_([tuple(r) for r in rows])
                conn.execute(delete(table).where(target, where))  # prunes partitions
        removed += len(rows)
        if len(rows) < batch:
            return removed


def maintain(engine: Engine, kind: Kind, now: datetime, since: datetime | None) -> list[str]:
    """Make the kind's partitions from ``since`` (its cutoff; else today) to some ahead of
    today, so that in-range rows never fall to the default partition. PostgreSQL only."""
    unit = _partitioned(engine, kind)
    if unit is None:
        return []
    until = partitions.following(partitions.floor(now, unit), unit)
    for _ in range(AHEAD[unit] - 1):
        until = partitions.following(until, unit)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        return partitions.ensure_partitions(conn, kind.table.name, unit, since or now, until)


def purge(
    engine: Engine, kind: Kind, *, now: datetime | None = None, batch: int = PURGE_BATCH
) -> PurgeResult:
    """Remove the kind's rows older than its cutoff and make its partitions ahead."""
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        cut = cutoff_of(conn, kind, now)
    result = PurgeResult(cutoff=cut)
    if cut is not None:
        if kind.before is not None:
            with engine.begin() as conn:
                kind.before(conn, cut)
        unit = _partitioned(engine, kind)
        if unit is not None:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                result.partitions = partitions.drop_partitions_before(
                    conn, kind.table.name, unit, cut
                )
        result.rows = delete_in_batches(engine, kind.table, _older(engine, kind, cut), batch)
    result.made = maintain(engine, kind, now, cut)
    return result


def status(engine: Engine, kind: Kind, *, now: datetime | None = None) -> KindStatus:
    now = now or datetime.now(UTC)
    unit = _partitioned(engine, kind)
    with engine.connect() as conn:
        cut = cutoff_of(conn, kind, now)
        oldest = conn.execute(select(func.min(kind.time))).scalar()
        beyond = 0
        if cut is not None:
            count = select(func.count()).select_from(kind.table)
            beyond = conn.execute(count.where(_older(engine, kind, cut))).scalar() or 0
        count_partitions = (
            len(partitions.partitions(conn, kind.table.name, unit)) if unit is not None else None
        )
    return KindStatus(kind.name, kind.setting, oldest, cut, beyond, count_partitions)
