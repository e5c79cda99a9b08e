"""Administration (issue 13): archived registry rows, venues as they really are (agreement,
opening day, coordinates, weekday hours, closures, public count), volunteer team members, and
the append-only audit log.

On PostgreSQL the audit log refuses UPDATE and TRUNCATE outright, and DELETE of any row younger
than 180 days, by trigger: the hub's own role cannot rewrite or shorten its history.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)

ARCHIVABLE = (
    "subdistricts",
    "communities",
    "grids",
    "party_orgs",
    "alliances",
    "units",
    "agreements",
    "members",
    "service_centres",
    "volunteer_teams",
    "venues",
)

APPEND_ONLY = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.at < now() - interval '180 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_rewrite BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
"""


def upgrade() -> None:
    for table in ARCHIVABLE:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("archived_at", UTC_DATETIME, nullable=True))
    with op.batch_alter_table("venues") as batch:
        batch.add_column(sa.Column("agreement_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("opened_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column("public_count", sa.Boolean(), server_default="0", nullable=False)
        )
        batch.create_foreign_key(
            "fk_venues_agreement_id_agreements", "agreements", ["agreement_id"], ["id"]
        )
        batch.create_check_constraint(
            "latitude", "latitude IS NULL OR (latitude BETWEEN -90 AND 90)"
        )
        batch.create_check_constraint(
            "longitude", "longitude IS NULL OR (longitude BETWEEN -180 AND 180)"
        )
    op.create_table(
        "venue_hours",
        sa.Column("venue_id", sa.String(63), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("opens_at", sa.Time(), nullable=True),
        sa.Column("closes_at", sa.Time(), nullable=True),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_venue_hours_weekday"),
        sa.CheckConstraint(
            "(opens_at IS NULL) = (closes_at IS NULL)", name="ck_venue_hours_both_or_neither"
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name="fk_venue_hours_venue_id_venues", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("venue_id", "weekday", name="pk_venue_hours"),
    )
    op.create_table(
        "venue_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.String(63), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name="ck_venue_closures_period"),
        sa.ForeignKeyConstraint(
            ["venue_id"],
            ["venues.id"],
            name="fk_venue_closures_venue_id_venues",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_venue_closures"),
    )
    op.create_index(
        "ix_venue_closures_venue_starts_on", "venue_closures", ["venue_id", "starts_on"]
    )
    op.create_table(
        "volunteer_team_members",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["volunteer_teams.id"],
            name="fk_volunteer_team_members_team_id_volunteer_teams",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name="fk_volunteer_team_members_member_id_members"
        ),
        sa.PrimaryKeyConstraint("team_id", "member_id", name="pk_volunteer_team_members"),
    )
    op.create_index(
        "ix_volunteer_team_members_member_id", "volunteer_team_members", ["member_id"]
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("request", sa.String(300), nullable=True),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("row_id", sa.String(200), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_table_row", "audit_log", ["table_name", "row_id"])
    op.create_index("ix_audit_log_actor_at", "audit_log", ["actor", "at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER audit_log_no_rewrite ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("audit_log")
    op.drop_table("volunteer_team_members")
    op.drop_index("ix_venue_closures_venue_starts_on", table_name="venue_closures")
    op.drop_table("venue_closures")
    op.drop_table("venue_hours")
    with op.batch_alter_table("venues") as batch:
        batch.drop_constraint("ck_venues_longitude", type_="check")
        batch.drop_constraint("ck_venues_latitude", type_="check")
        batch.drop_constraint("fk_venues_agreement_id_agreements", type_="foreignkey")
        for column in ("public_count", "longitude", "latitude", "opened_on", "agreement_id"):
            batch.drop_column(column)
    for table in ARCHIVABLE:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("archived_at")
