"""The party-building records (SQLAlchemy 2, typed ``Mapped[]``), named by the glossary.

The organisation (sub-districts, communities, grids, party organisations), resident units with
their alliances and co-building agreements, in-service members and their registrations, service
centres with their activities, the attendance made from check-ins, volunteer teams, service
requests. The venue registry is in ``hub.venues.models``.

Personal data is kept to what the rules need: a member has a name and, once a card is enrolled,
the card's keyed hash (``mqtt_contract.credentials.card_hash``); never a phone or ID number, never
the clear card number.

Integer ids are the records' own; ``code`` is the key people use in their spreadsheets and roster
files. A service centre's and a venue's id is the site id of its edge agent (``centre-01``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.audit.models import Audited
from hub.core.base import ID_LENGTH, NAME_LENGTH, Archivable, Base, name_column, one_of
from mqtt_contract.card_seal import SEALED_CARD_MAX_CHARS

CODE_LENGTH = 32

PARTY_ORG_KINDS = (
    "working_committee",
    "community_committee",
    "grid_branch",
    "building_group",
    "household_group",
)
"""The five levels (五级组织), top first: 街道党工委 → 社区党委 → 网格党支部 → 楼宇党小组 → 党员家庭联组."""

UNIT_KINDS = ("agency", "enterprise", "institution", "two_new", "other")
"""机关, 企业, 事业单位, 两新组织 (new economic and social organisations), other."""

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
"""The "eight into" (八进) programmes."""

MENU_DIRECTIONS = ("offer", "need")
TEAM_KINDS = ("station", "alliance", "group")
REQUEST_STATUSES = ("raised", "transferred", "accepted", "declined", "resolved", "confirmed")
"""raised (in the community's queue) → transferred (waiting for the unit) → accepted (the unit
works on it) → resolved (waiting for the community) → confirmed; a unit may decline (back in the
community's queue, with the reason) and the community may reopen a resolved request (accepted
again). ``hub.org.requests`` holds the moves."""
REQUEST_SOURCES = ("staff", "public")
REQUEST_EVENT_KINDS = (
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
SUMMARY_MAX_CHARS = 1000
PLACE_MAX_CHARS = 200
CONTACT_MAX_CHARS = 64
NOTE_MAX_CHARS = 1000
CATEGORY_MAX_CHARS = 64


def _code() -> Mapped[str]:
    return mapped_column(String(CODE_LENGTH), unique=True)


# --- the organisation ---------------------------------------------------------------------------


class Subdistrict(Archivable, Audited, Base):
    """街道: a sub-district office (3 in the city)."""

    __tablename__ = "subdistricts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = _code()
    name: Mapped[str] = name_column()


class Community(Archivable, Audited, Base):
    """社区: an urban community, also its level-1 grid; ``centre_id`` is the service centre that
    serves it (whose allowlist carries its members' cards)."""

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = _code()
    name: Mapped[str] = name_column()
    subdistrict_id: Mapped[int] = mapped_column(ForeignKey("subdistricts.id"), index=True)
    centre_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH),
        ForeignKey("service_centres.id", use_alter=True, ondelete="SET NULL"),
        index=True,
    )


class Grid(Archivable, Audited, Base):
    """网格: level 1 a community, level 2 a compound or street lane, level 3 a "ten households"
    building unit."""

    __tablename__ = "grids"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 3", name="level"),
        CheckConstraint("(level = 1) = (parent_id IS NULL)", name="parent_by_level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = _code()
    name: Mapped[str] = name_column()
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)


class PartyOrg(Archivable, Audited, Base):
    """党组织 at one of the five levels; ``parent_id`` is the level above."""

    __tablename__ = "party_orgs"
    __table_args__ = (
        CheckConstraint(one_of("kind", PARTY_ORG_KINDS), name="kind"),
        CheckConstraint(
            "(kind = 'working_committee') = (parent_id IS NULL)", name="parent_by_kind"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = _code()
    name: Mapped[str] = name_column()
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("party_orgs.id"), index=True)
    subdistrict_id: Mapped[int | None] = mapped_column(ForeignKey("subdistricts.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))


# --- units, alliances, agreements ----------------------------------------------------------------


class Alliance(Archivable, Audited, Base):
    """党建联盟: units assessed together; the chair rotates per period."""

    __tablename__ = "alliances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = _code()
    name: Mapped[str] = name_column()
    subdistrict_id: Mapped[int | None] = mapped_column(ForeignKey("subdistricts.id"))


class Unit(Archivable, Audited, Base):
    """驻区单位: a resident unit (agency, enterprise, institution...) employing members."""

    __tablename__ = "units"
    __table_args__ = (CheckConstraint(one_of("kind", UNIT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = _code()
    name: Mapped[str] = name_column()
    kind: Mapped[str] = mapped_column(String(32))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id"), index=True, doc="where the unit is"
    )
    alliance_id: Mapped[int | None] = mapped_column(ForeignKey("alliances.id"), index=True)


class AllianceChair(Audited, Base):
    """轮值主席: the unit chairing an alliance from ``starts_on`` to ``ends_on`` (inclusive)."""

    __tablename__ = "alliance_chairs"
    __table_args__ = (
        UniqueConstraint("alliance_id", "starts_on", name="uq_alliance_chairs_period"),
        CheckConstraint("ends_on >= starts_on", name="period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Agreement(Archivable, Audited, Base):
    """共驻共建协议: a co-building agreement between a community and a unit."""

    __tablename__ = "agreements"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= signed_on", name="period"),
        Index("ix_agreements_community_unit", "community_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = _code()
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    signed_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)


class ServiceMenuItem(Audited, Base):
    """供需菜单: one line of an agreement's menu, a service the unit offers or the community needs."""

    __tablename__ = "service_menu_items"
    __table_args__ = (CheckConstraint(one_of("direction", MENU_DIRECTIONS), name="direction"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))


# --- members and registrations --------------------------------------------------------------------


class Member(Archivable, Audited, Base):
    """在职党员: an in-service party member; the card is kept only as its keyed hash."""

    __tablename__ = "members"
    __audit_redact__ = ("card_hash", "card_sealed")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = _code()
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id"), index=True, doc="the community the member lives in"
    )
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    party_org_id: Mapped[int | None] = mapped_column(ForeignKey("party_orgs.id"))
    card_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    card_sealed: Mapped[str | None] = mapped_column(
        String(SEALED_CARD_MAX_CHARS),
        doc="the card vault: the card sealed to the hub's own public key (hub.org.cards)",
    )
    in_service: Mapped[bool] = mapped_column(Boolean, default=True)


class Registration(Audited, Base):
    """报到: a member's, or a unit's, report to a residential community."""

    __tablename__ = "registrations"
    __table_args__ = (
        CheckConstraint("(member_id IS NULL) <> (unit_id IS NULL)", name="member_or_unit"),
        UniqueConstraint("member_id", "community_id", name="uq_registrations_member_community"),
        UniqueConstraint("unit_id", "community_id", name="uq_registrations_unit_community"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    registered_on: Mapped[date] = mapped_column(Date)


# --- centres, activities, attendance --------------------------------------------------------------


class ServiceCentre(Archivable, Audited, Base):
    """党群服务中心: a site with card readers; its readers are the ``Device`` rows of its site."""

    __tablename__ = "service_centres"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = name_column()
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)


class Activity(Audited, Base):
    """活动: a session at a centre that members check in to, open from ``starts_at`` to
    ``ends_at`` (exclusive); ``month`` is its month in the city's time zone."""

    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint(one_of("kind", ACTIVITY_KINDS), name="kind"),
        CheckConstraint(
            f"(kind = 'eight_into' AND {one_of('eight_into', EIGHT_INTO)}) "
            "OR (kind <> 'eight_into' AND eight_into IS NULL)",
            name="eight_into",
        ),
        CheckConstraint("ends_at > starts_at", name="window"),
        Index("ix_activities_centre_starts_at", "centre_id", "starts_at"),
        Index("ix_activities_community_month", "community_id", "month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("service_centres.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    title: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(NAME_LENGTH), doc="一月一主题, the month's theme")
    month: Mapped[str] = mapped_column(String(7), doc="YYYY-MM in Asia/Shanghai")
    kind: Mapped[str] = mapped_column(String(32))
    eight_into: Mapped[str | None] = mapped_column(String(32))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), doc="co-organising unit")
    volunteer_team_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_teams.id"))


class Attendance(Base):
    """One check-in at a centre, matched: to a member by card (``NULL``: an unknown card) and to
    the activity open at that centre then (``NULL``: a walk-in service).

    One row per check-in event id, so a replayed check-in cannot count twice. ``local_date`` and
    ``month`` are the tap's day and month in Asia/Shanghai, for year and month boundaries. It
    outlives the raw check-in (no foreign key to it): retention removes the raw row once its year's
    assessment is done (``hub.org.retention``), and the reports read this one.
    """

    __tablename__ = "attendance"
    __table_args__ = (
        Index("ix_attendance_member_local_date", "member_id", "local_date"),
        Index("ix_attendance_community_month", "community_id", "month"),
        Index("ix_attendance_centre_at", "centre_id", "at"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, doc="the check-in's")
    centre_id: Mapped[str] = mapped_column(ForeignKey("service_centres.id"))
    device_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    card_hash: Mapped[str | None] = mapped_column(
        String(64), doc="the tap's card; cleared when retention removes the raw check-in"
    )
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"), index=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id"), doc="the activity's community, else the centre's"
    )
    at: Mapped[datetime] = mapped_column(doc="device time of the tap")
    local_date: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))


# --- service --------------------------------------------------------------------------------------


class VolunteerTeam(Archivable, Audited, Base):
    """志愿服务队: a volunteer service station, alliance or group."""

    __tablename__ = "volunteer_teams"
    __table_args__ = (CheckConstraint(one_of("kind", TEAM_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = _code()
    name: Mapped[str] = name_column()
    kind: Mapped[str] = mapped_column(String(16))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))


class VolunteerTeamMember(Audited, Base):
    """A member serving in a volunteer team (志愿服务队队员)."""

    __tablename__ = "volunteer_team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_teams.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True, index=True)
    joined_on: Mapped[date | None] = mapped_column(Date)


class ServiceRequest(Audited, Base):
    """服务事项转办: a resident's request, transferred to the unit that can solve it, resolved.

    It records the matter and the place, not the resident: no name is kept. A resident who
    raises it on the public page may leave a phone or e-mail (``contact``); it is masked
    wherever it is shown, whole only to the contact of the unit working on it, and cleared when
    the community confirms the request (docs/service-requests.md).
    """

    __tablename__ = "service_requests"
    __audit_redact__ = ("contact",)
    __table_args__ = (
        CheckConstraint(one_of("status", REQUEST_STATUSES), name="status"),
        CheckConstraint(one_of("source", REQUEST_SOURCES), name="source"),
        CheckConstraint(
            "(status IN ('raised', 'declined')) OR "
            "(unit_id IS NOT NULL AND transferred_at IS NOT NULL)",
            name="transferred",
        ),
        CheckConstraint(
            "(status IN ('resolved', 'confirmed')) = (resolved_at IS NOT NULL)", name="resolved"
        ),
        Index("ix_service_requests_community_status", "community_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    category: Mapped[str] = mapped_column(String(CATEGORY_MAX_CHARS))
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="raised")
    raised_at: Mapped[datetime]
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    transferred_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(8), default="staff", server_default="staff")
    place: Mapped[str | None] = mapped_column(String(PLACE_MAX_CHARS), default=None)
    contact: Mapped[str | None] = mapped_column(String(CONTACT_MAX_CHARS), default=None)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    """When it should be resolved by: raised_at plus its category's deadline."""
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)
    """When the deadline job escalated it to the community (once per request)."""
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)


class ServiceRequestEvent(Base):
    """One step of a request: who did what, when (append-only; the request's history)."""

    __tablename__ = "service_request_events"
    __table_args__ = (CheckConstraint(one_of("kind", REQUEST_EVENT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(NAME_LENGTH))
    """A user's name, ``public`` (a resident's form) or ``system`` (the deadline job)."""
    kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)


# --- allowlists -----------------------------------------------------------------------------------


class AllowlistVersion(Base):
    """The newest allowlist published to a centre: its version goes up when its content
    (``digest`` of the sorted card hashes) changes."""

    __tablename__ = "allowlists"

    centre_id: Mapped[str] = mapped_column(
        ForeignKey("service_centres.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime]
