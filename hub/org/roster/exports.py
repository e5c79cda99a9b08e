"""Exports of the lists, in the columns of the import templates, so that an export re-imports
(and, unchanged, changes nothing). Registrations and activities, which are not imported, have
columns of their own.

References are written as the codes people use (a unit's ``U012``, not its id); kinds, yes/no
and weekday hours as the templates write them (Chinese). Members' names are masked, as every
list shows them; the member import keeps a recorded name when a cell holds its masked form.
Card numbers are never exported (the records keep only their hash).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from hub.org.models import (
    Activity,
    Agreement,
    Alliance,
    Community,
    Grid,
    Member,
    PartyOrg,
    Registration,
    ServiceCentre,
    ServiceMenuItem,
    Subdistrict,
    Unit,
    VolunteerTeam,
)
from hub.org.names import mask_name
from hub.org.roster.columns import (
    CLOSED,
    PARTY_ORG_KIND_ALIASES,
    TEAM_KIND_ALIASES,
    UNIT_KIND_ALIASES,
    VENUE_KIND_ALIASES,
    WEEKDAY_KEYS,
)
from hub.org.roster.report import RosterKind
from hub.org.roster.sheets import Cell
from hub.org.roster.templates import header
from hub.venues.models import Venue, VenueHours

ExportKind = RosterKind | Literal["registrations", "activities"]
EXPORT_KINDS: tuple[ExportKind, ...] = (
    "members",
    "registrations",
    "activities",
    "units",
    "agreements",
    "subdistricts",
    "communities",
    "grids",
    "party-orgs",
    "alliances",
    "service-centres",
    "venues",
    "volunteer-teams",
)
PERSONAL: frozenset[ExportKind] = frozenset({"members", "registrations"})
"""Exports of personal data: each is recorded in the audit log."""

TABLES: dict[ExportKind, Any] = {
    "members": Member,
    "registrations": Registration,
    "activities": Activity,
    "units": Unit,
    "agreements": Agreement,
    "subdistricts": Subdistrict,
    "communities": Community,
    "grids": Grid,
    "party-orgs": PartyOrg,
    "alliances": Alliance,
    "service-centres": ServiceCentre,
    "venues": Venue,
    "volunteer-teams": VolunteerTeam,
}
ORDER: dict[ExportKind, Any] = {
    "registrations": Registration.id,
    "activities": Activity.starts_at,
    "service-centres": ServiceCentre.id,
    "venues": Venue.id,
}
REGISTRATION_HEADER = ["社区编号", "党员编号", "单位编号", "报到日期"]
ACTIVITY_HEADER = [
    "编号",
    "服务中心编号",
    "社区编号",
    "标题",
    "主题",
    "月份",
    "类型",
    "八进",
    "开始时间",
    "结束时间",
    "单位编号",
    "志愿服务队编号",
]

_KIND_NAMES = {
    "unit": {v: k for k, v in UNIT_KIND_ALIASES.items()},
    "party_org": {v: k for k, v in PARTY_ORG_KIND_ALIASES.items()},
    "team": {v: k for k, v in TEAM_KIND_ALIASES.items()},
    "venue": {v: k for k, v in VENUE_KIND_ALIASES.items()},
}


def export_header(kind: ExportKind) -> list[str]:
    if kind == "registrations":
        return REGISTRATION_HEADER
    if kind == "activities":
        return ACTIVITY_HEADER
    return header(kind)


def count(session: Session, kind: ExportKind, where: Sequence[ColumnElement[bool]]) -> int:
    table = TABLES[kind]
    return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def export_rows(
    session: Session, kind: ExportKind, where: Sequence[ColumnElement[bool]]
) -> Iterator[list[Cell]]:
    """The rows of ``kind`` that ``where`` lets through, as cells in the template's columns."""
    table = TABLES[kind]
    order = ORDER.get(kind, getattr(table, "code", None))
    codes = _Codes(session)
    rows = session.scalars(select(table).where(*where).order_by(order)).yield_per(1000)
    cells: Callable[[Any], list[Cell]] = getattr(_Cells(session, codes, kind), _METHOD[kind])
    for row in rows:
        yield cells(row)


_METHOD: dict[ExportKind, str] = {
    "members": "member",
    "registrations": "registration",
    "activities": "activity",
    "units": "unit",
    "agreements": "agreement",
    "subdistricts": "subdistrict",
    "communities": "community",
    "grids": "grid",
    "party-orgs": "party_org",
    "alliances": "alliance",
    "service-centres": "service_centre",
    "venues": "venue",
    "volunteer-teams": "volunteer_team",
}


class _Codes:
    """Id → code of the tables rows refer to, read once (only the ones asked for)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.tables: dict[Any, dict[int, str]] = {}

    def __call__(self, table: Any, ident: int | None) -> str | None:
        if ident is None:
            return None
        known = self.tables.get(table)
        if known is None:
            rows = self.session.execute(select(table.id, table.code))
            known = self.tables[table] = {ident: code for ident, code in rows}
        return known.get(ident)


class _Cells:
    def __init__(self, session: Session, codes: _Codes, kind: ExportKind) -> None:
        self.session, self.codes = session, codes
        self.registered: dict[tuple[int | None, int], date] = {}
        if kind in {"members", "units"}:
            who = Registration.member_id if kind == "members" else Registration.unit_id
            self.registered = {
                (ident, community): on
                for ident, community, on in session.execute(
                    select(who, Registration.community_id, Registration.registered_on).where(
                        who.is_not(None)
                    )
                )
            }
        self.menus: dict[int, dict[str, list[str]]] = {}
        if kind == "agreements":
            for agreement, direction, title in session.execute(
                select(
                    ServiceMenuItem.agreement_id, ServiceMenuItem.direction, ServiceMenuItem.title
                ).order_by(ServiceMenuItem.id)
            ):
                self.menus.setdefault(agreement, {}).setdefault(direction, []).append(title)
        self.hours: dict[str, dict[int, VenueHours]] = {}
        if kind == "venues":
            for h in session.scalars(select(VenueHours)):
                self.hours.setdefault(h.venue_id, {})[h.weekday] = h

    def member(self, m: Member) -> list[Cell]:
        c = self.codes
        return [
            m.code,
            mask_name(m.name),
            c(Unit, m.unit_id),
            c(Community, m.community_id),
            c(Grid, m.grid_id),
            c(PartyOrg, m.party_org_id),
            None,  # the card: never exported
            _yes(m.in_service),
            _day(self.registered.get((m.id, m.community_id))),
        ]

    def registration(self, r: Registration) -> list[Cell]:
        c = self.codes
        return [
            c(Community, r.community_id),
            c(Member, r.member_id),
            c(Unit, r.unit_id),
            _day(r.registered_on),
        ]

    def activity(self, a: Activity) -> list[Cell]:
        c = self.codes
        return [
            a.id,
            a.centre_id,
            c(Community, a.community_id),
            a.title,
            a.theme,
            a.month,
            a.kind,
            a.eight_into,
            _instant(a.starts_at),
            _instant(a.ends_at),
            c(Unit, a.unit_id),
            c(VolunteerTeam, a.volunteer_team_id),
        ]

    def unit(self, u: Unit) -> list[Cell]:
        c = self.codes
        on = self.registered.get((u.id, u.community_id)) if u.community_id else None
        return [
            u.code,
            u.name,
            _KIND_NAMES["unit"].get(u.kind, u.kind),
            c(Community, u.community_id),
            c(Alliance, u.alliance_id),
            _day(on),
        ]

    def agreement(self, a: Agreement) -> list[Cell]:
        c = self.codes
        menu = self.menus.get(a.id, {})
        return [
            a.code,
            c(Community, a.community_id),
            c(Unit, a.unit_id),
            _day(a.signed_on),
            _day(a.ends_on),
            "；".join(menu.get("offer", [])) or None,
            "；".join(menu.get("need", [])) or None,
        ]

    def subdistrict(self, s: Subdistrict) -> list[Cell]:
        return [s.code, s.name]

    def community(self, m: Community) -> list[Cell]:
        return [m.code, m.name, self.codes(Subdistrict, m.subdistrict_id), m.centre_id]

    def grid(self, g: Grid) -> list[Cell]:
        c = self.codes
        return [g.code, g.name, c(Community, g.community_id), g.level, c(Grid, g.parent_id)]

    def party_org(self, p: PartyOrg) -> list[Cell]:
        c = self.codes
        return [
            p.code,
            p.name,
            _KIND_NAMES["party_org"].get(p.kind, p.kind),
            c(PartyOrg, p.parent_id),
            c(Subdistrict, p.subdistrict_id),
            c(Community, p.community_id),
            c(Grid, p.grid_id),
        ]

    def alliance(self, a: Alliance) -> list[Cell]:
        return [a.code, a.name, self.codes(Subdistrict, a.subdistrict_id)]

    def service_centre(self, s: ServiceCentre) -> list[Cell]:
        return [s.id, s.name, self.codes(Community, s.community_id)]

    def venue(self, v: Venue) -> list[Cell]:
        c = self.codes
        own = self.hours.get(v.id, {})
        return [
            v.id,
            v.name,
            _KIND_NAMES["venue"].get(v.kind, v.kind),
            c(Unit, v.unit_id),
            c(Community, v.community_id),
            v.address,
            v.capacity,
            _clock(v.opens_at),
            _clock(v.closes_at),
            v.alert_threshold_pct,
            c(Agreement, v.agreement_id),
            _day(v.opened_on),
            v.latitude,
            v.longitude,
            _yes(v.public_count),
            *(_hours(own.get(weekday)) for weekday in range(len(WEEKDAY_KEYS))),
        ]

    def volunteer_team(self, t: VolunteerTeam) -> list[Cell]:
        c = self.codes
        return [
            t.code,
            t.name,
            _KIND_NAMES["team"].get(t.kind, t.kind),
            c(Community, t.community_id),
            c(Unit, t.unit_id),
        ]


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _clock(value: time | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def _instant(value: datetime) -> str:
    return value.isoformat()


def _hours(own: VenueHours | None) -> str | None:
    if own is None:
        return None
    if own.opens_at is None or own.closes_at is None:
        return CLOSED
    return f"{_clock(own.opens_at)}-{_clock(own.closes_at)}"
