"""Party-building records: organisation, units, agreements, members, registrations, service
centres, activities, attendance, volunteer teams, service requests, venues, allowlists.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
ID = 63
CODE = 32
NAME = 120


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*(columns or ("id",)), name=f"pk_{table}")


def _fk(
    table: str, column: str, target: str, *, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    referred, _, key = target.partition(".")
    return sa.ForeignKeyConstraint(
        [column], [target], name=f"fk_{table}_{column}_{referred}", ondelete=ondelete
    )


def _ck(table: str, name: str, sql: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(sql, name=f"ck_{table}_{name}")


def _uq(table: str, *columns: str, name: str | None = None) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*columns, name=name or f"uq_{table}_{columns[0]}")


def _index(table: str, *columns: str, name: str | None = None) -> None:
    op.create_index(name or f"ix_{table}_{columns[0]}", table, list(columns))


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _code() -> sa.Column[str]:
    return sa.Column("code", sa.String(CODE), nullable=False)


def _name() -> sa.Column[str]:
    return sa.Column("name", sa.String(NAME), nullable=False)


PARTY_ORG_KINDS = (
    "working_committee",
    "community_committee",
    "grid_branch",
    "building_group",
    "household_group",
)
UNIT_KINDS = ("agency", "enterprise", "institution", "two_new", "other")
ACTIVITY_KINDS = ("themed_activity", "volunteer_service", "registration", "eight_into")
EIGHT_INTO = (
    "policy",
    "legal_aid",
    "democracy_rule_of_law",
    "science",
    "civility",
    "culture",
    "work_safety",
    "comprehensive_governance",
)
MENU_DIRECTIONS = ("offer", "need")
TEAM_KINDS = ("station", "alliance", "group")
REQUEST_STATUSES = ("raised", "transferred", "resolved")
VENUE_KINDS = ("sports_ground", "car_park", "other")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _organisation(postgres)
    _units()
    _members()
    _centres(postgres)
    _service()
    _venues()


def _organisation(postgres: bool) -> None:
    op.create_table(
        "subdistricts", _id(), _code(), _name(), _pk("subdistricts"), _uq("subdistricts", "code")
    )
    # communities.centre_id and service_centres.community_id refer to each other: on PostgreSQL
    # the first key is added once service_centres exists; SQLite checks keys only on writes.
    centre_fk = (
        []
        if postgres
        else [_fk("communities", "centre_id", "service_centres.id", ondelete="SET NULL")]
    )
    op.create_table(
        "communities",
        _id(),
        _code(),
        _name(),
        sa.Column("subdistrict_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.String(ID), nullable=True),
        _fk("communities", "subdistrict_id", "subdistricts.id"),
        *centre_fk,
        _pk("communities"),
        _uq("communities", "code"),
    )
    _index("communities", "subdistrict_id")
    _index("communities", "centre_id")
    op.create_table(
        "grids",
        _id(),
        _code(),
        _name(),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        _ck("grids", "level", "level BETWEEN 1 AND 3"),
        _ck("grids", "parent_by_level", "(level = 1) = (parent_id IS NULL)"),
        _fk("grids", "community_id", "communities.id"),
        _fk("grids", "parent_id", "grids.id"),
        _pk("grids"),
        _uq("grids", "code"),
    )
    _index("grids", "community_id")
    _index("grids", "parent_id")
    op.create_table(
        "party_orgs",
        _id(),
        _code(),
        _name(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("subdistrict_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        _ck("party_orgs", "kind", _one_of("kind", PARTY_ORG_KINDS)),
        _ck(
            "party_orgs",
            "parent_by_kind",
            "(kind = 'working_committee') = (parent_id IS NULL)",
        ),
        _fk("party_orgs", "parent_id", "party_orgs.id"),
        _fk("party_orgs", "subdistrict_id", "subdistricts.id"),
        _fk("party_orgs", "community_id", "communities.id"),
        _fk("party_orgs", "grid_id", "grids.id"),
        _pk("party_orgs"),
        _uq("party_orgs", "code"),
    )
    _index("party_orgs", "parent_id")
    _index("party_orgs", "community_id")


def _units() -> None:
    op.create_table(
        "alliances",
        _id(),
        _code(),
        _name(),
        sa.Column("subdistrict_id", sa.Integer(), nullable=True),
        _fk("alliances", "subdistrict_id", "subdistricts.id"),
        _pk("alliances"),
        _uq("alliances", "code"),
    )
    op.create_table(
        "units",
        _id(),
        _code(),
        _name(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("alliance_id", sa.Integer(), nullable=True),
        _ck("units", "kind", _one_of("kind", UNIT_KINDS)),
        _fk("units", "community_id", "communities.id"),
        _fk("units", "alliance_id", "alliances.id"),
        _pk("units"),
        _uq("units", "code"),
    )
    _index("units", "community_id")
    _index("units", "alliance_id")
    op.create_table(
        "alliance_chairs",
        _id(),
        sa.Column("alliance_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        _ck("alliance_chairs", "period", "ends_on >= starts_on"),
        _fk("alliance_chairs", "alliance_id", "alliances.id"),
        _fk("alliance_chairs", "unit_id", "units.id"),
        _pk("alliance_chairs"),
        _uq("alliance_chairs", "alliance_id", "starts_on", name="uq_alliance_chairs_period"),
    )
    _index("alliance_chairs", "unit_id")
    op.create_table(
        "agreements",
        _id(),
        _code(),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        _ck("agreements", "period", "ends_on IS NULL OR ends_on >= signed_on"),
        _fk("agreements", "community_id", "communities.id"),
        _fk("agreements", "unit_id", "units.id"),
        _pk("agreements"),
        _uq("agreements", "code"),
    )
    _index("agreements", "community_id", "unit_id", name="ix_agreements_community_unit")
    _index("agreements", "unit_id")
    op.create_table(
        "service_menu_items",
        _id(),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        _ck("service_menu_items", "direction", _one_of("direction", MENU_DIRECTIONS)),
        _fk("service_menu_items", "agreement_id", "agreements.id", ondelete="CASCADE"),
        _pk("service_menu_items"),
    )
    _index("service_menu_items", "agreement_id")


def _members() -> None:
    op.create_table(
        "members",
        _id(),
        _code(),
        sa.Column("name", sa.String(NAME), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("party_org_id", sa.Integer(), nullable=True),
        sa.Column("card_hash", sa.String(64), nullable=True),
        sa.Column("in_service", sa.Boolean(), nullable=False),
        _fk("members", "unit_id", "units.id"),
        _fk("members", "community_id", "communities.id"),
        _fk("members", "grid_id", "grids.id"),
        _fk("members", "party_org_id", "party_orgs.id"),
        _pk("members"),
        _uq("members", "code"),
        _uq("members", "card_hash"),
    )
    _index("members", "unit_id")
    _index("members", "community_id")
    op.create_table(
        "registrations",
        _id(),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=False),
        _ck("registrations", "member_or_unit", "(member_id IS NULL) <> (unit_id IS NULL)"),
        _fk("registrations", "community_id", "communities.id"),
        _fk("registrations", "member_id", "members.id"),
        _fk("registrations", "unit_id", "units.id"),
        _pk("registrations"),
        _uq(
            "registrations",
            "member_id",
            "community_id",
            name="uq_registrations_member_community",
        ),
        _uq("registrations", "unit_id", "community_id", name="uq_registrations_unit_community"),
    )
    _index("registrations", "community_id")


def _centres(postgres: bool) -> None:
    op.create_table(
        "service_centres",
        sa.Column("id", sa.String(ID), nullable=False),
        _name(),
        sa.Column("community_id", sa.Integer(), nullable=False),
        _fk("service_centres", "community_id", "communities.id"),
        _pk("service_centres"),
    )
    _index("service_centres", "community_id")
    if postgres:
        op.create_foreign_key(
            "fk_communities_centre_id_service_centres",
            "communities",
            "service_centres",
            ["centre_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "volunteer_teams",
        _id(),
        _code(),
        _name(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        _ck("volunteer_teams", "kind", _one_of("kind", TEAM_KINDS)),
        _fk("volunteer_teams", "community_id", "communities.id"),
        _fk("volunteer_teams", "unit_id", "units.id"),
        _pk("volunteer_teams"),
        _uq("volunteer_teams", "code"),
    )
    _index("volunteer_teams", "community_id")
    op.create_table(
        "activities",
        _id(),
        sa.Column("centre_id", sa.String(ID), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("theme", sa.String(NAME), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("eight_into", sa.String(32), nullable=True),
        sa.Column("starts_at", UTC_DATETIME, nullable=False),
        sa.Column("ends_at", UTC_DATETIME, nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("volunteer_team_id", sa.Integer(), nullable=True),
        _ck("activities", "kind", _one_of("kind", ACTIVITY_KINDS)),
        _ck(
            "activities",
            "eight_into",
            f"(kind = 'eight_into' AND {_one_of('eight_into', EIGHT_INTO)}) "
            "OR (kind <> 'eight_into' AND eight_into IS NULL)",
        ),
        _ck("activities", "window", "ends_at > starts_at"),
        _fk("activities", "centre_id", "service_centres.id"),
        _fk("activities", "community_id", "communities.id"),
        _fk("activities", "unit_id", "units.id"),
        _fk("activities", "volunteer_team_id", "volunteer_teams.id"),
        _pk("activities"),
    )
    _index("activities", "centre_id", "starts_at", name="ix_activities_centre_starts_at")
    _index("activities", "community_id", "month", name="ix_activities_community_month")
    op.create_table(
        "attendance",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("centre_id", sa.String(ID), nullable=False),
        sa.Column("device_id", sa.String(ID), nullable=False),
        sa.Column("card_hash", sa.String(64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        _fk("attendance", "event_id", "checkins.event_id", ondelete="CASCADE"),
        _fk("attendance", "centre_id", "service_centres.id"),
        _fk("attendance", "member_id", "members.id"),
        _fk("attendance", "activity_id", "activities.id"),
        _fk("attendance", "community_id", "communities.id"),
        _pk("attendance", "event_id"),
    )
    _index("attendance", "member_id", "local_date", name="ix_attendance_member_local_date")
    _index("attendance", "community_id", "month", name="ix_attendance_community_month")
    _index("attendance", "centre_id", "at", name="ix_attendance_centre_at")
    _index("attendance", "activity_id")
    op.create_table(
        "allowlists",
        sa.Column("centre_id", sa.String(ID), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("issued_at", UTC_DATETIME, nullable=False),
        _fk("allowlists", "centre_id", "service_centres.id", ondelete="CASCADE"),
        _pk("allowlists", "centre_id"),
    )


def _service() -> None:
    op.create_table(
        "service_requests",
        _id(),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("raised_at", UTC_DATETIME, nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("transferred_at", UTC_DATETIME, nullable=True),
        sa.Column("resolved_at", UTC_DATETIME, nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        _ck("service_requests", "status", _one_of("status", REQUEST_STATUSES)),
        _ck(
            "service_requests",
            "transferred",
            "(status = 'raised') OR (unit_id IS NOT NULL AND transferred_at IS NOT NULL)",
        ),
        _ck("service_requests", "resolved", "(status = 'resolved') = (resolved_at IS NOT NULL)"),
        _fk("service_requests", "community_id", "communities.id"),
        _fk("service_requests", "unit_id", "units.id"),
        _pk("service_requests"),
    )
    _index(
        "service_requests",
        "community_id",
        "status",
        name="ix_service_requests_community_status",
    )
    _index("service_requests", "unit_id")


def _venues() -> None:
    op.create_table(
        "venues",
        sa.Column("id", sa.String(ID), nullable=False),
        _name(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("opens_at", sa.Time(), nullable=False),
        sa.Column("closes_at", sa.Time(), nullable=False),
        sa.Column("alert_threshold_pct", sa.Float(), server_default="90", nullable=False),
        _ck("venues", "kind", _one_of("kind", VENUE_KINDS)),
        _ck("venues", "capacity", "capacity >= 1"),
        _ck("venues", "alert_threshold", "alert_threshold_pct > 0 AND alert_threshold_pct <= 100"),
        _fk("venues", "unit_id", "units.id"),
        _fk("venues", "community_id", "communities.id"),
        _pk("venues"),
    )
    _index("venues", "unit_id")
    _index("venues", "community_id")


def downgrade() -> None:
    for table in (
        "venues",
        "service_requests",
        "allowlists",
        "attendance",
        "activities",
        "volunteer_teams",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(
            "fk_communities_centre_id_service_centres", "communities", type_="foreignkey"
        )
    for table in (
        "service_centres",
        "registrations",
        "members",
        "service_menu_items",
        "agreements",
        "alliance_chairs",
        "units",
        "alliances",
        "party_orgs",
        "grids",
        "communities",
        "subdistricts",
    ):
        op.drop_table(table)
