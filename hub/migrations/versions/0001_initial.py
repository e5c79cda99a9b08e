"""Sites, devices, check-ins and dead letters.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.String(63), nullable=False),
        sa.Column("first_seen", UTC_DATETIME, nullable=False),
        sa.Column("last_seen", UTC_DATETIME, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_at", UTC_DATETIME, nullable=True),
        sa.Column("boot", sa.Uuid(), nullable=True),
        sa.Column("agent_version", sa.Text(), nullable=True),
        sa.Column("heartbeat_at", UTC_DATETIME, nullable=True),
        sa.Column("outbox_depth", sa.Integer(), nullable=True),
        sa.Column("oldest_pending_s", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
    )
    op.create_table(
        "devices",
        sa.Column("site_id", sa.String(63), nullable=False),
        sa.Column("id", sa.String(63), nullable=False),
        sa.Column("first_seen", UTC_DATETIME, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("last_seen", UTC_DATETIME, nullable=True),
        sa.Column("last_frame_at", UTC_DATETIME, nullable=True),
        sa.Column("frames_ok", sa.BigInteger(), nullable=False),
        sa.Column("frame_errors", sa.BigInteger(), nullable=False),
        sa.Column("port_errors", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_devices_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", "id", name=op.f("pk_devices")),
    )
    op.create_table(
        "checkins",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.String(63), nullable=False),
        sa.Column("device_id", sa.String(63), nullable=False),
        sa.Column("boot", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("device_time", UTC_DATETIME, nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.Column("card_hash", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("allowlist_version", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id", "device_id"],
            ["devices.site_id", "devices.id"],
            name="fk_checkins_device_devices",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_checkins")),
    )
    op.create_index(
        "ix_checkins_site_id_device_time", "checkins", ["site_id", "device_time"], unique=False
    )
    op.create_index("ix_checkins_device_time", "checkins", ["device_time"], unique=False)
    op.create_table(
        "dead_letters",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("reason_kind", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    op.create_index(
        op.f("ix_dead_letters_received_at"), "dead_letters", ["received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_dead_letters_received_at"), table_name="dead_letters")
    op.drop_table("dead_letters")
    op.drop_index("ix_checkins_device_time", table_name="checkins")
    op.drop_index("ix_checkins_site_id_device_time", table_name="checkins")
    op.drop_table("checkins")
    op.drop_table("devices")
    op.drop_table("sites")
