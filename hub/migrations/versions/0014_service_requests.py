"""Service requests as a workflow (issue 15): accepted, declined and confirmed requests, a
resident's public request (its place and an optional contact), deadlines and escalation, the
history of every step, and the ``unit_contact`` role scoped to one unit.

Existing rows stay valid: their statuses (raised, transferred, resolved) are still allowed, their
source is ``staff``, and they get no deadline (only requests raised or classified from now on
have one), so the escalation job leaves the past alone.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)

OLD_STATUSES = ("raised", "transferred", "resolved")
STATUSES = ("raised", "transferred", "accepted", "declined", "resolved", "confirmed")
EVENT_KINDS = (
    "raised",
    "classified",
    "transferred",
    "accepted",
    "declined",
    "resolved",
    "confirmed",
    "reopened",
    "escalated",
    "contact_viewed",
)
OLD_ROLES = ("operator", "records_staff", "centre_staff", "venue_manager", "viewer")
ROLES = ("operator", "records_staff", "centre_staff", "venue_manager", "unit_contact", "viewer")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("service_requests") as batch:
        batch.add_column(sa.Column("source", sa.String(8), server_default="staff", nullable=False))
        batch.add_column(sa.Column("place", sa.String(200), nullable=True))
        batch.add_column(sa.Column("contact", sa.String(64), nullable=True))
        batch.add_column(sa.Column("due_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("escalated_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("accepted_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("confirmed_at", UTC_DATETIME, nullable=True))
        batch.alter_column("category", type_=sa.String(64))
        batch.drop_constraint("ck_service_requests_status", type_="check")
        batch.drop_constraint("ck_service_requests_transferred", type_="check")
        batch.drop_constraint("ck_service_requests_resolved", type_="check")
        batch.create_check_constraint("status", _one_of("status", STATUSES))
        batch.create_check_constraint("source", _one_of("source", ("staff", "public")))
        batch.create_check_constraint(
            "transferred",
            "(status IN ('raised', 'declined')) OR "
            "(unit_id IS NOT NULL AND transferred_at IS NOT NULL)",
        )
        batch.create_check_constraint(
            "resolved", "(status IN ('resolved', 'confirmed')) = (resolved_at IS NOT NULL)"
        )
    op.create_table(
        "service_request_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(_one_of("kind", EVENT_KINDS), name="ck_service_request_events_kind"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name="fk_service_request_events_request_id_service_requests",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name="fk_service_request_events_unit_id_units"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_service_request_events"),
    )
    op.create_index(
        "ix_service_request_events_request_id", "service_request_events", ["request_id"]
    )
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("ck_users_role", type_="check")
        batch.drop_constraint("ck_users_unit_scope", type_="check")
        batch.create_check_constraint("role", _one_of("role", ROLES))
        batch.create_check_constraint(
            "unit_scope", "(role IN ('venue_manager', 'unit_contact')) = (unit_id IS NOT NULL)"
        )


def downgrade() -> None:
    op.execute("DELETE FROM users WHERE role = 'unit_contact'")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("ck_users_unit_scope", type_="check")
        batch.drop_constraint("ck_users_role", type_="check")
        batch.create_check_constraint("role", _one_of("role", OLD_ROLES))
        batch.create_check_constraint(
            "unit_scope", "(role = 'venue_manager') = (unit_id IS NOT NULL)"
        )
    op.drop_index("ix_service_request_events_request_id", "service_request_events")
    op.drop_table("service_request_events")
    # the new states fold back into the old ones: accepted is transferred, declined is raised,
    # confirmed is resolved
    op.execute("UPDATE service_requests SET status = 'transferred' WHERE status = 'accepted'")
    op.execute("UPDATE service_requests SET status = 'raised' WHERE status = 'declined'")
    op.execute("UPDATE service_requests SET status = 'resolved' WHERE status = 'confirmed'")
    with op.batch_alter_table("service_requests") as batch:
        batch.drop_constraint("ck_service_requests_resolved", type_="check")
        batch.drop_constraint("ck_service_requests_transferred", type_="check")
        batch.drop_constraint("ck_service_requests_source", type_="check")
        batch.drop_constraint("ck_service_requests_status", type_="check")
        batch.create_check_constraint("status", _one_of("status", OLD_STATUSES))
        batch.create_check_constraint(
            "transferred",
            "(status = 'raised') OR (unit_id IS NOT NULL AND transferred_at IS NOT NULL)",
        )
        batch.create_check_constraint(
            "resolved", "(status = 'resolved') = (resolved_at IS NOT NULL)"
        )
        for column in (
            "confirmed_at",
            "accepted_at",
            "escalated_at",
            "due_at",
            "contact",
            "place",
            "source",
        ):
            batch.drop_column(column)
