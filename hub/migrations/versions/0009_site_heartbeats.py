"""The sites' heartbeat history for the operations page: one row a step per site, bounded.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "site_heartbeats",
        sa.Column("site_id", sa.String(63), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("heartbeat_at", UTC_DATETIME, nullable=False),
        sa.Column("uptime_s", sa.Double(), nullable=False),
        sa.Column("outbox_depth", sa.Integer(), nullable=False),
        sa.Column("oldest_pending_s", sa.Double(), nullable=True),
        sa.Column("devices", sa.Integer(), nullable=False),
        sa.Column("devices_bad", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "at", name="pk_site_heartbeats"),
    )


def downgrade() -> None:
    op.drop_table("site_heartbeats")
