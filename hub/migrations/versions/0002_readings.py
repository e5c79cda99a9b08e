"""Counter and bay readings; device timeouts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _envelope() -> list[sa.Column[object]]:
    return [
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.String(63), nullable=False),
        sa.Column("device_id", sa.String(63), nullable=False),
        sa.Column("boot", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("device_time", UTC_DATETIME, nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(
            sa.Column("timeouts", sa.BigInteger(), server_default="0", nullable=False)
        )
    op.create_table(
        "counter_readings",
        *_envelope(),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("device_boots", sa.BigInteger(), nullable=False),
        sa.Column("count_in", sa.BigInteger(), nullable=False),
        sa.Column("count_out", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id", "device_id"],
            ["devices.site_id", "devices.id"],
            name="fk_counter_readings_device_devices",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_counter_readings")),
    )
    op.create_index(
        "ix_counter_readings_site_device_time",
        "counter_readings",
        ["site_id", "device_id", "device_time"],
    )
    op.create_table(
        "bay_readings",
        *_envelope(),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("bays", sa.Text(), nullable=False),
        sa.Column("occupied", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id", "device_id"],
            ["devices.site_id", "devices.id"],
            name="fk_bay_readings_device_devices",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_bay_readings")),
    )
    op.create_index(
        "ix_bay_readings_site_device_time", "bay_readings", ["site_id", "device_id", "device_time"]
    )


def downgrade() -> None:
    op.drop_index("ix_bay_readings_site_device_time", table_name="bay_readings")
    op.drop_table("bay_readings")
    op.drop_index("ix_counter_readings_site_device_time", table_name="counter_readings")
    op.drop_table("counter_readings")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("timeouts")
