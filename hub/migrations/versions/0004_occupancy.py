"""Venue occupancy: gate days, bay sensors, live state, rollups, dirty buckets, capacity alerts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
ID = 63


def upgrade() -> None:
    op.create_table(
        "occupancy_gate_days",
        sa.Column("venue_id", sa.String(ID), nullable=False),
        sa.Column("device_id", sa.String(ID), nullable=False),
        sa.Column("device_boots", sa.BigInteger(), nullable=False),
        sa.Column("day_start", UTC_DATETIME, nullable=False),
        sa.Column("first_time", UTC_DATETIME, nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("first_in", sa.BigInteger(), nullable=False),
        sa.Column("first_out", sa.BigInteger(), nullable=False),
        sa.Column("last_time", UTC_DATETIME, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_in", sa.BigInteger(), nullable=False),
        sa.Column("last_out", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "venue_id", "device_id", "device_boots", "day_start", name="pk_occupancy_gate_days"
        ),
    )
    op.create_index(
        "ix_occupancy_gate_days_venue_day", "occupancy_gate_days", ["venue_id", "day_start"]
    )
    op.create_table(
        "occupancy_bay_sensors",
        sa.Column("venue_id", sa.String(ID), nullable=False),
        sa.Column("device_id", sa.String(ID), nullable=False),
        sa.Column("last_time", UTC_DATETIME, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("bays", sa.Text(), nullable=False),
        sa.Column("occupied", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("venue_id", "device_id", name="pk_occupancy_bay_sensors"),
    )
    op.create_table(
        "venue_occupancy",
        sa.Column("venue_id", sa.String(ID), nullable=False),
        sa.Column("occupancy", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("visits", sa.BigInteger(), nullable=False),
        sa.Column("day_start", UTC_DATETIME, nullable=False),
        sa.Column("as_of", UTC_DATETIME, nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["venue_id"],
            ["venues.id"],
            name="fk_venue_occupancy_venue_id_venues",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("venue_id", name="pk_venue_occupancy"),
    )
    op.create_table(
        "occupancy_rollups",
        sa.Column("venue_id", sa.String(ID), nullable=False),
        sa.Column("step", sa.String(4), nullable=False),
        sa.Column("bucket_start", UTC_DATETIME, nullable=False),
        sa.Column("readings", sa.Integer(), nullable=False),
        sa.Column("visits", sa.BigInteger(), nullable=False),
        sa.Column("peak", sa.Integer(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("computed_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("venue_id", "step", "bucket_start", name="pk_occupancy_rollups"),
    )
    op.create_table(
        "occupancy_dirty",
        sa.Column("venue_id", sa.String(ID), nullable=False),
        sa.Column("bucket_start", UTC_DATETIME, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("venue_id", "bucket_start", name="pk_occupancy_dirty"),
    )
    op.create_table(
        "capacity_alerts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("venue_id", sa.String(ID), nullable=False),
        sa.Column("raised_at", UTC_DATETIME, nullable=False),
        sa.Column("cleared_at", UTC_DATETIME, nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("threshold_pct", sa.Float(), nullable=False),
        sa.Column("clear_below_pct", sa.Float(), nullable=False),
        sa.Column("occupancy_at_raise", sa.Integer(), nullable=False),
        sa.Column("peak_occupancy", sa.Integer(), nullable=False),
        sa.Column("occupancy_at_clear", sa.Integer(), nullable=True),
        sa.Column("raised_published_at", UTC_DATETIME, nullable=True),
        sa.Column("cleared_published_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["venue_id"],
            ["venues.id"],
            name="fk_capacity_alerts_venue_id_venues",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_capacity_alerts"),
    )
    op.create_index("ix_capacity_alerts_venue_id", "capacity_alerts", ["venue_id"])
    op.create_index(
        "uq_capacity_alerts_open_venue",
        "capacity_alerts",
        ["venue_id"],
        unique=True,
        sqlite_where=sa.text("cleared_at IS NULL"),
        postgresql_where=sa.text("cleared_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_capacity_alerts_open_venue", table_name="capacity_alerts")
    op.drop_index("ix_capacity_alerts_venue_id", table_name="capacity_alerts")
    op.drop_table("capacity_alerts")
    op.drop_table("occupancy_dirty")
    op.drop_table("occupancy_rollups")
    op.drop_table("venue_occupancy")
    op.drop_table("occupancy_bay_sensors")
    op.drop_index("ix_occupancy_gate_days_venue_day", table_name="occupancy_gate_days")
    op.drop_table("occupancy_gate_days")
