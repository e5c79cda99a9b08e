"""The members' card vault: each enrolled card sealed to the hub's own public key, so that the hub
can make per-site allowlists without keeping card numbers in the clear (issue 9 item 8).

Members enrolled before it have an empty vault until their card is enrolled again or tapped at a
reader that seals cards (docs/security.md).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("card_sealed", sa.String(256), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("card_sealed")
