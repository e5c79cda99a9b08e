"""Retention (issue 14): attendance outlives the raw check-ins; on PostgreSQL the raw event tables
are partitioned by ``device_time`` (check-ins by month, counter and bay readings by day).

Attendance no longer points at ``checkins`` by foreign key (its ``ON DELETE CASCADE`` would take
the attendance with the raw check-in that retention removes), and its card hash may be ``NULL``
(retention clears it with the raw check-in). On PostgreSQL each event table is
made again as a partitioned table with the same columns, indexes and device foreign key, its
partitions in the schema ``partitions`` with a default one (``hub.core.partitions``), and its rows
copied over: its primary key becomes ``(event_id, device_time)``, since a unique constraint of a
partitioned table must hold the partition key (a redelivered event carries its device time, so it
still lands once). Partitions are made from the oldest row (at most 400 days back, the oldest
event ingest accepts; older rows go to the default partition) to a few ahead of today.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from hub.core import partitions

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ATTENDANCE_FK = "fk_attendance_event_id_checkins"
LOOKBACK = timedelta(days=400)
OLD = "_unpartitioned"


def _indexes_and_fks(table: str) -> tuple[list[str], list[str]]:
    """The statements that make the table's indexes and foreign keys again (on the new table)."""
    conn = op.get_bind()
    indexes = conn.exec_driver_sql(
        "SELECT indexdef FROM pg_indexes WHERE tablename = %(t)s AND schemaname = current_schema()"
        " AND indexname NOT LIKE 'pk\\_%%'",
        {"t": table},
    ).scalars()
    fks = conn.exec_driver_sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %(t)s::regclass AND contype = 'f'",
        {"t": table},
    ).all()
    return list(indexes), [f'ALTER TABLE "{table}" ADD CONSTRAINT "{n}" {d}' for n, d in fks]


def _partition(table: str, unit: partitions.Unit) -> None:
    conn = op.get_bind()
    indexes, fks = _indexes_and_fks(table)
    index_names = conn.exec_driver_sql(
        "SELECT indexname FROM pg_indexes WHERE tablename = %(t)s "
        "AND schemaname = current_schema() AND indexname NOT LIKE 'pk\\_%%'",
        {"t": table},
    ).scalars()
    for name in list(index_names):
        op.execute(f'DROP INDEX "{name}"')
    for statement in fks:
        name = statement.split('"')[3]
        op.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    op.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "pk_{table}"')
    op.execute(f'ALTER TABLE "{table}" RENAME TO "{table}{OLD}"')
    op.execute(
        f'CREATE TABLE "{table}" (LIKE "{table}{OLD}" INCLUDING DEFAULTS) '
        "PARTITION BY RANGE (device_time)"
    )
    op.execute(
        f'ALTER TABLE "{table}" ADD CONSTRAINT "pk_{table}" PRIMARY KEY (event_id, device_time)'
    )
    for statement in [*fks, *indexes]:
        op.execute(statement)
    op.execute(
        f'CREATE TABLE "{partitions.SCHEMA}"."{table}_default" PARTITION OF "{table}" DEFAULT'
    )
    now = datetime.now(UTC)
    oldest = conn.exec_driver_sql(f'SELECT min(device_time) FROM "{table}{OLD}"').scalar()
    since = max(oldest, now - LOOKBACK) if oldest is not None else now
    until = now + timedelta(days=partitions.AHEAD["day"] if unit == "day" else 62)
    partitions.ensure_partitions(conn, table, unit, min(since, now), until)
    op.execute(f'INSERT INTO "{table}" SELECT * FROM "{table}{OLD}"')
    op.execute(f'DROP TABLE "{table}{OLD}"')


def _unpartition(table: str) -> None:
    conn = op.get_bind()
    indexes, fks = _indexes_and_fks(table)
    op.execute(f'CREATE TABLE "{table}{OLD}" (LIKE "{table}" INCLUDING DEFAULTS)')
    op.execute(f'INSERT INTO "{table}{OLD}" SELECT * FROM "{table}"')
    op.execute(f'DROP TABLE "{table}" CASCADE')  # and its partitions
    op.execute(f'ALTER TABLE "{table}{OLD}" RENAME TO "{table}"')
    op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "pk_{table}" PRIMARY KEY (event_id)')
    for statement in [*fks, *indexes]:
        op.execute(statement.replace(f" ONLY {conn.dialect.default_schema_name}.", " "))


def upgrade() -> None:
    with op.batch_alter_table("attendance") as batch:
        batch.drop_constraint(ATTENDANCE_FK, type_="foreignkey")
        batch.alter_column("card_hash", existing_type=sa.String(64), nullable=True)
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'CREATE SCHEMA IF NOT EXISTS "{partitions.SCHEMA}"')
    for table, unit in partitions.PARTITIONED.items():
        _partition(table, unit)


def downgrade() -> None:
    # a hash retention cleared is not known any more: '' stands for it
    op.execute("UPDATE attendance SET card_hash = '' WHERE card_hash IS NULL")
    with op.batch_alter_table("attendance") as batch:
        batch.alter_column("card_hash", existing_type=sa.String(64), nullable=False)
    if op.get_bind().dialect.name == "postgresql":
        for table in partitions.PARTITIONED:
            _unpartition(table)
        op.execute(f'DROP SCHEMA IF EXISTS "{partitions.SCHEMA}" CASCADE')
        # attendance may hold rows whose check-in retention removed: not checked
        op.execute(
            f'ALTER TABLE attendance ADD CONSTRAINT "{ATTENDANCE_FK}" FOREIGN KEY (event_id) '
            "REFERENCES checkins (event_id) ON DELETE CASCADE NOT VALID"
        )
        return
    with op.batch_alter_table("attendance") as batch:
        batch.create_foreign_key(
            ATTENDANCE_FK, "checkins", ["event_id"], ["event_id"], ondelete="CASCADE"
        )
