"""The site registry (provisioned edges and their broker accounts) and commands to edges
(issue 12).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "site_accounts",
        sa.Column("site_id", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("centre_id", sa.String(63), nullable=True),
        sa.Column("venue_id", sa.String(63), nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("credentials_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("devices", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("credentials_at", UTC_DATETIME, nullable=False),
        sa.Column("revoked_at", UTC_DATETIME, nullable=True),
        sa.CheckConstraint(
            "(kind = 'centre' AND centre_id IS NOT NULL AND venue_id IS NULL)"
            " OR (kind = 'venue' AND venue_id IS NOT NULL AND centre_id IS NULL)",
            name="ck_site_accounts_tied",
        ),
        sa.CheckConstraint("kind IN ('centre', 'venue')", name="ck_site_accounts_kind"),
        sa.CheckConstraint("state IN ('active', 'revoked')", name="ck_site_accounts_state"),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["service_centres.id"],
            name="fk_site_accounts_centre_id_service_centres",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name="fk_site_accounts_venue_id_venues", ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("site_id", name="pk_site_accounts"),
        sa.UniqueConstraint("centre_id", name="uq_site_accounts_centre_id"),
        sa.UniqueConstraint("venue_id", name="uq_site_accounts_venue_id"),
    )
    op.create_table(
        "edge_commands",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.String(63), nullable=False),
        sa.Column("op", sa.String(32), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("requested_by", sa.String(120), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("deadline", UTC_DATETIME, nullable=False),
        sa.Column("sent_at", UTC_DATETIME, nullable=True),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'sent', 'done', 'failed', 'expired')",
            name="ck_edge_commands_state",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_edge_commands"),
    )
    op.create_index(
        "ix_edge_commands_site_created", "edge_commands", ["site_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_edge_commands_state_deadline", "edge_commands", ["state", "deadline"], unique=False
    )


def downgrade() -> None:
    op.drop_table("edge_commands")
    op.drop_table("site_accounts")
