"""The annual dual-reporting assessment (双报到 年度考核), built from the records.

The rules (DOMAIN.md):

- a member may be rated excellent only if registered (报到) with a community by the end of the year
  and took part in community service at least ``MEMBER_MIN_SERVICES`` (2) times in the year;
- a unit whose in-service members' reporting rate is below ``UNIT_MIN_REPORTING_PCT`` (80 %) may
  not be rated excellent; exactly 80 % is enough;
- units are assessed per party-building alliance;
- beside each unit's reporting rate, and for each community, the service requests (服务事项转办)
  received, resolved, the median time to resolve and the overdue ones: the report's "problems
  solved by units" (``hub.org.request_stats``).

A community service is one occasion: an activity attended (registration sessions do not count),
or a walk-in service at a centre on a day. Tapping twice at one activity is one service. The year
runs from 1 January 00:00 to 31 December 24:00 in Asia/Shanghai.

The report is a handful of grouped queries (no per-member query), assembled in Python.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, distinct, func, select
from sqlalchemy.orm import Session

from hub.org.calendar import months_of
from hub.org.models import (
    Activity,
    Alliance,
    AllianceChair,
    Attendance,
    Community,
    Member,
    Registration,
    Subdistrict,
    Unit,
)
from hub.org.names import mask_name
from hub.org.request_stats import EMPTY, RequestStats, by_community, by_unit

UNIT_MIN_REPORTING_PCT = 80
MEMBER_MIN_SERVICES = 2


@dataclass(slots=True)
class MemberResult:
    id: int
    code: str
    name: str
    """Masked (张*明)."""
    unit_id: int
    community_id: int
    registered: bool
    services: int
    excellent_open: bool


@dataclass(slots=True)
class UnitResult:
    id: int
    code: str
    name: str
    alliance_id: int | None
    in_service: int
    registered: int
    reporting_rate_pct: float | None
    """``None`` for a unit with no in-service members."""
    below_threshold: bool
    excellent_open: bool
    requests: RequestStats = EMPTY
    """Service requests transferred to it and how they went (``hub.org.request_stats``)."""


@dataclass(slots=True)
class ChairResult:
    unit_id: int
    unit_name: str
    starts_on: date
    ends_on: date


@dataclass(slots=True)
class AllianceResult:
    id: int | None
    """``None``: the units that belong to no alliance."""
    code: str | None
    name: str
    chairs: list[ChairResult] = field(default_factory=list)
    units: list[UnitResult] = field(default_factory=list)


@dataclass(slots=True)
class CountBy:
    key: str | None
    count: int


@dataclass(slots=True)
class CommunityResult:
    id: int
    code: str
    name: str
    subdistrict: str
    members_registered: int
    activities_held: int
    attendance: int
    unknown_card_taps: int
    attendance_by_month: list[CountBy]
    attendance_by_theme: list[CountBy]
    """``key`` ``None``: walk-in services, outside any activity."""
    members: list[MemberResult] = field(default_factory=list)
    requests: RequestStats = EMPTY
    """Service requests raised in it and how they went."""


@dataclass(slots=True)
class Totals:
    members: int
    registered: int
    excellent_open: int
    units: int
    units_below_threshold: int


@dataclass(slots=True)
class Assessment:
    year: int
    totals: Totals
    alliances: list[AllianceResult]
    communities: list[CommunityResult]


def below_threshold(registered: int, in_service: int) -> bool:
    """Integer arithmetic, so exactly 80 % is never taken for 79.999... %."""
    return in_service > 0 and registered * 100 < UNIT_MIN_REPORTING_PCT * in_service


def build_assessment(session: Session, year: int) -> Assessment:
    first, last = date(year, 1, 1), date(year, 12, 31)
    in_year = Attendance.local_date.between(first, last)
    registered_ids = set(
        session.scalars(
            select(Registration.member_id)
            .where(Registration.member_id.is_not(None), Registration.registered_on <= last)
            .distinct()
        )
    )
    services = _services(session, in_year)

    members_by_community: dict[int, list[MemberResult]] = defaultdict(list)
    unit_counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    excellent = 0
    rows = session.execute(
        select(Member.id, Member.code, Member.name, Member.unit_id, Member.community_id)
        .where(Member.in_service.is_(True))
        .order_by(Member.community_id, Member.code)
    )
    for member_id, code, name, unit_id, community_id in rows:
        registered = member_id in registered_ids
        count = services.get(member_id, 0)
        is_open = registered and count >= MEMBER_MIN_SERVICES
        excellent += is_open
        members_by_community[community_id].append(
            MemberResult(
                member_id, code, mask_name(name), unit_id, community_id, registered, count, is_open
            )
        )
        counts = unit_counts[unit_id]
        counts[0] += 1
        counts[1] += registered
    members = sum(len(m) for m in members_by_community.values())

    alliances = _alliances(session, first, last, unit_counts)
    units = [u for a in alliances for u in a.units]
    communities = _communities(session, year, last, in_year, members_by_community)
    unit_requests, community_requests = by_unit(session, year), by_community(session, year)
    for u in units:
        u.requests = unit_requests.get(u.id, EMPTY)
    for c in communities:
        c.requests = community_requests.get(c.id, EMPTY)
    totals = Totals(
        members=members,
        registered=sum(c[1] for c in unit_counts.values()),
        excellent_open=excellent,
        units=len(units),
        units_below_threshold=sum(u.below_threshold for u in units),
    )
    return Assessment(year, totals, alliances, communities)


def _services(session: Session, in_year: ColumnElement[bool]) -> dict[int, int]:
    """Community services per member: activities attended (not registration sessions) plus
    walk-in days per centre."""
    services: dict[int, int] = defaultdict(int)
    activities = session.execute(
        select(Attendance.member_id, func.count(distinct(Attendance.activity_id)))
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(Attendance.member_id.is_not(None), in_year, Activity.kind != "registration")
        .group_by(Attendance.member_id)
    )
    for member_id, count in activities:
        if member_id is not None:
            services[member_id] += count
    walk_in_days = (
        select(Attendance.member_id, Attendance.centre_id, Attendance.local_date)
        .where(Attendance.member_id.is_not(None), Attendance.activity_id.is_(None), in_year)
        .distinct()
        .subquery()
    )
    walk_ins = session.execute(
        select(walk_in_days.c.member_id, func.count()).group_by(walk_in_days.c.member_id)
    )
    for member_id, count in walk_ins:
        services[member_id] += count
    return services


def _alliances(
    session: Session, first: date, last: date, unit_counts: dict[int, list[int]]
) -> list[AllianceResult]:
    groups: dict[int | None, AllianceResult] = {
        a.id: AllianceResult(a.id, a.code, a.name)
        for a in session.scalars(select(Alliance).order_by(Alliance.code))
    }
    chairs = session.execute(
        select(AllianceChair, Unit.name)
        .join(Unit, Unit.id == AllianceChair.unit_id)
        .where(AllianceChair.starts_on <= last, AllianceChair.ends_on >= first)
        .order_by(AllianceChair.alliance_id, AllianceChair.starts_on)
    )
    for chair, unit_name in chairs:
        groups[chair.alliance_id].chairs.append(
            ChairResult(chair.unit_id, unit_name, chair.starts_on, chair.ends_on)
        )
    for unit_id, code, name, alliance_id in session.execute(
        select(Unit.id, Unit.code, Unit.name, Unit.alliance_id).order_by(Unit.code)
    ):
        in_service, registered = unit_counts.get(unit_id, (0, 0))
        below = below_threshold(registered, in_service)
        rate = round(100 * registered / in_service, 1) if in_service else None
        if alliance_id not in groups:
            groups[alliance_id] = AllianceResult(None, None, "未加入联盟 (no alliance)")
        groups[alliance_id].units.append(
            UnitResult(
                unit_id, code, name, alliance_id, in_service, registered, rate, below, not below
            )
        )
    return [g for g in groups.values() if g.id is not None or g.units]


def _communities(
    session: Session,
    year: int,
    last: date,
    in_year: ColumnElement[bool],
    members_by_community: dict[int, list[MemberResult]],
) -> list[CommunityResult]:
    registered: dict[int, int] = {
        community_id: count
        for community_id, count in session.execute(
            select(Registration.community_id, func.count())
            .where(Registration.member_id.is_not(None), Registration.registered_on <= last)
            .group_by(Registration.community_id)
        )
    }
    months = months_of(year)
    held: dict[int, int] = {
        community_id: count
        for community_id, count in session.execute(
            select(Activity.community_id, func.count())
            .where(Activity.month.between(months[0], months[-1]))
            .group_by(Activity.community_id)
        )
    }
    by_month: dict[int, dict[str, int]] = defaultdict(dict)
    unknown: dict[int, int] = defaultdict(int)
    for community_id, month, known, count in session.execute(
        select(
            Attendance.community_id,
            Attendance.month,
            Attendance.member_id.is_not(None),
            func.count(),
        )
        .where(in_year)
        .group_by(Attendance.community_id, Attendance.month, Attendance.member_id.is_not(None))
    ):
        by_month[community_id][month] = by_month[community_id].get(month, 0) + count
        if not known:
            unknown[community_id] += count
    by_theme: dict[int, list[CountBy]] = defaultdict(list)
    for community_id, theme, count in session.execute(
        select(Attendance.community_id, Activity.theme, func.count())
        .outerjoin(Activity, Activity.id == Attendance.activity_id)
        .where(in_year)
        .group_by(Attendance.community_id, Activity.theme)
        .order_by(Attendance.community_id, func.count().desc(), Activity.theme)
    ):
        by_theme[community_id].append(CountBy(theme, count))
    results = []
    for community, subdistrict in session.execute(
        select(Community, Subdistrict.name)
        .join(Subdistrict, Subdistrict.id == Community.subdistrict_id)
        .order_by(Community.code)
    ):
        monthly = by_month.get(community.id, {})
        results.append(
            CommunityResult(
                id=community.id,
                code=community.code,
                name=community.name,
                subdistrict=subdistrict,
                members_registered=registered.get(community.id, 0),
                activities_held=held.get(community.id, 0),
                attendance=sum(monthly.values()),
                unknown_card_taps=unknown.get(community.id, 0),
                attendance_by_month=[CountBy(m, monthly.get(m, 0)) for m in months],
                attendance_by_theme=by_theme.get(community.id, []),
                members=members_by_community.get(community.id, []),
            )
        )
    return results


__all__ = [
    "MEMBER_MIN_SERVICES",
    "UNIT_MIN_REPORTING_PCT",
    "Assessment",
    "below_threshold",
    "build_assessment",
]
