"""A synthetic city at the scale of the report, for the demo, the benchmarks and trying things.

Everything is drawn from one ``random.Random(seed)``: the same seed and year give the same city,
row for row. Names are invented (``hub.org.names``); card numbers are derived from the seed
(:func:`member_card`) so that a simulator can tap a seeded member's card, and only their keyed
hashes are stored. Rows are written with bulk inserts, check-ins become attendance with one
set-based statement.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time as clock
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text, update

from demo.seed_words import (
    COMMUNITY_WORDS,
    KIND_LABEL,
    NEEDS,
    OFFERS,
    REQUEST_CATEGORIES,
    REQUEST_SUMMARIES,
    SUBDISTRICT_NAMES,
    THEMES,
    UNIT_SUFFIXES,
)
from hub.core.dialect import insert_for
from hub.ingest.models import Checkin, Device, Site
from hub.org.attendance import record_missing_attendance
from hub.org.calendar import CITY_TZ
from hub.org.models import (
    EIGHT_INTO,
    Activity,
    Agreement,
    Alliance,
    AllianceChair,
    Community,
    Grid,
    Member,
    PartyOrg,
    Registration,
    ServiceCentre,
    ServiceMenuItem,
    ServiceRequest,
    Subdistrict,
    Unit,
    VolunteerTeam,
)
from hub.org.names import synthetic_name
from hub.venues.models import Venue
from mqtt_contract.credentials import card_hash

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Scale:
    """The report's figures (DOMAIN.md); tests use a smaller city of the same shape."""

    subdistricts: int = 3
    communities: int = 16
    grids: int = 227
    grid_branches: int = 55
    party_groups: int = 128
    units: int = 230
    members: int = 4800
    centres: int = 8
    venues: int = 52
    volunteer_teams: int = 160
    activities: int = 1850
    service_requests: int = 3200


CITY = Scale()


def member_card(seed: int, number: int) -> str:
    """The card number of seeded member ``number`` (1-based): 10 hex digits."""
    return hashlib.sha256(f"yp-seed-card:{seed}:{number}".encode()).hexdigest()[:10].upper()


def default_year(now: datetime | None = None) -> int:
    """The last complete year in the city: a whole year of records to assess."""
    return (now or datetime.now(UTC)).astimezone(CITY_TZ).year - 1


class SeedError(Exception):
    """The database cannot be seeded (it already holds records)."""


@dataclass
class _Rows:
    """Rows per table, in insertion order."""

    tables: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: Any, row: dict[str, Any]) -> int:
        rows = self.tables.setdefault(table, [])
        rows.append(row)
        return len(rows)

    def of(self, table: Any) -> list[dict[str, Any]]:
        return self.tables.get(table, [])


@dataclass
class SeedReport:
    year: int
    counts: dict[str, int]
    seconds: float


class _City:
    """Draws the city; every id is assigned here so that rows can refer to each other."""

    def __init__(
        self, seed: int, year: int, key: bytes, scale: Scale, seal: Callable[[str], str] | None
    ) -> None:
        self.seed, self.year, self.key, self.scale = seed, year, key, scale
        self.seal = seal  # the members' card vault (hub.org.cards); none: left empty
        self.rng = random.Random(seed)
        self.rows = _Rows()
        self.community_ids: list[int] = []
        self.level3_by_community: dict[int, list[int]] = {}
        self.groups_by_community: dict[int, list[int]] = {}
        self.units_by_community: dict[int, list[int]] = {}
        self.centre_of: dict[int, str] = {}
        self.cards: list[tuple[int, int, str]] = []  # (id, community id, card)
        self.activities_by_community: dict[int, list[tuple[int, datetime, datetime, str]]] = {}
        self.start = datetime(year, 1, 1, tzinfo=CITY_TZ)

    # --- organisation --------------------------------------------------------------------------

    def organisation(self) -> None:
        s, rng = self.scale, self.rng
        committees = {}
        for n in range(1, s.subdistricts + 1):
            name = SUBDISTRICT_NAMES[(n - 1) % len(SUBDISTRICT_NAMES)]
            sid = self.rows.add(Subdistrict, {"id": n, "code": f"SD{n:02d}", "name": name})
            committees[sid] = self.rows.add(
                PartyOrg,
                _org(len(self.rows.of(PartyOrg)) + 1, "working_committee", f"{name}党工委")
                | {"subdistrict_id": sid},
            )
        words = rng.sample(COMMUNITY_WORDS, s.communities)
        for n in range(1, s.communities + 1):
            subdistrict = (n - 1) % s.subdistricts + 1
            name = f"{words[n - 1]}社区"
            cid = self.rows.add(
                Community,
                {
                    "id": n,
                    "code": f"C{n:02d}",
                    "name": name,
                    "subdistrict_id": subdistrict,
                    "centre_id": None,
                },
            )
            self.community_ids.append(cid)
            self.rows.add(
                Grid,
                {"id": n, "code": f"G{n:03d}", "name": name, "community_id": cid, "level": 1}
                | {"parent_id": None},
            )
            self.rows.add(
                PartyOrg,
                _org(len(self.rows.of(PartyOrg)) + 1, "community_committee", f"{name}党委")
                | {"parent_id": committees[subdistrict], "community_id": cid},
            )
        self._grids_and_branches()

    def _grids_and_branches(self) -> None:
        """Level-2 grids with a grid party branch each, level-3 grids below them; party groups
        in buildings and household groups under those."""
        s, rng = self.scale, self.rng
        level2 = s.grid_branches
        level3 = s.grids - s.communities - level2
        community_org = {
            row["community_id"]: row["id"]
            for row in self.rows.of(PartyOrg)
            if row["kind"] == "community_committee"
        }
        branches: list[tuple[int, int, int]] = []  # (org id, community id, level-2 grid id)
        for n in range(level2):
            community = self.community_ids[n % len(self.community_ids)]
            grid_id = len(self.rows.of(Grid)) + 1
            self.rows.add(
                Grid,
                {
                    "id": grid_id,
                    "code": f"G{grid_id:03d}",
                    "name": f"第{n // len(self.community_ids) + 1}网格",
                    "community_id": community,
                    "level": 2,
                    "parent_id": community,
                },
            )
            org = len(self.rows.of(PartyOrg)) + 1
            self.rows.add(
                PartyOrg,
                _org(org, "grid_branch", f"网格党支部{n + 1}")
                | {"parent_id": community_org[community], "community_id": community}
                | {"grid_id": grid_id},
            )
            branches.append((org, community, grid_id))
        for n in range(level3):
            org, community, parent = branches[n % len(branches)]
            grid_id = len(self.rows.of(Grid)) + 1
            self.rows.add(
                Grid,
                {
                    "id": grid_id,
                    "code": f"G{grid_id:03d}",
                    "name": f"{rng.randint(1, 30)}号楼",
                    "community_id": community,
                    "level": 3,
                    "parent_id": parent,
                },
            )
            self.level3_by_community.setdefault(community, []).append(grid_id)
        for n in range(s.party_groups):
            branch, community, _grid = branches[n % len(branches)]
            group = len(self.rows.of(PartyOrg)) + 1
            self.rows.add(
                PartyOrg,
                _org(group, "building_group", f"楼宇党小组{n + 1}")
                | {"parent_id": branch, "community_id": community},
            )
            self.groups_by_community.setdefault(community, []).append(group)
            household = len(self.rows.of(PartyOrg)) + 1
            self.rows.add(
                PartyOrg,
                _org(household, "household_group", f"党员家庭联组{n + 1}")
                | {"parent_id": group, "community_id": community},
            )

    # --- units, alliances, agreements ----------------------------------------------------------

    def units(self) -> None:
        s, rng = self.scale, self.rng
        for community in self.community_ids:
            name = self.rows.of(Community)[community - 1]["name"]
            self.rows.add(
                Alliance,
                {
                    "id": community,
                    "code": f"A{community:02d}",
                    "name": f"{name}党建联盟",
                    "subdistrict_id": self.rows.of(Community)[community - 1]["subdistrict_id"],
                },
            )
        for n in range(1, s.units + 1):
            community = self.community_ids[(n - 1) % len(self.community_ids)]
            kind, suffixes = rng.choice(UNIT_SUFFIXES)
            self.rows.add(
                Unit,
                {
                    "id": n,
                    "code": f"U{n:03d}",
                    "name": f"原平市{rng.choice(COMMUNITY_WORDS)}{rng.choice(suffixes)}",
                    "kind": kind,
                    "community_id": community,
                    "alliance_id": community,
                },
            )
            self.units_by_community.setdefault(community, []).append(n)
            agreement = self.rows.add(
                Agreement,
                {
                    "id": n,
                    "code": f"XY{n:03d}",
                    "community_id": community,
                    "unit_id": n,
                    "signed_on": date(self.year - 1, rng.randint(1, 12), rng.randint(1, 28)),
                    "ends_on": None,
                },
            )
            for direction, titles in (("offer", OFFERS), ("need", NEEDS)):
                for title in rng.sample(titles, rng.randint(1, 3)):
                    self.rows.add(
                        ServiceMenuItem,
                        {
                            "id": len(self.rows.of(ServiceMenuItem)) + 1,
                            "agreement_id": agreement,
                            "direction": direction,
                            "title": title,
                        },
                    )
            if rng.random() < 0.9:
                self.rows.add(
                    Registration,
                    {
                        "id": len(self.rows.of(Registration)) + 1,
                        "community_id": community,
                        "member_id": None,
                        "unit_id": n,
                        "registered_on": date(self.year - 1, rng.randint(1, 12), 1),
                    },
                )
        for alliance, units in self.units_by_community.items():
            for quarter in range(4):
                starts = date(self.year, 3 * quarter + 1, 1)
                ends = (
                    date(self.year, 3 * quarter + 4, 1)
                    if quarter < 3
                    else date(self.year + 1, 1, 1)
                ) - timedelta(days=1)
                self.rows.add(
                    AllianceChair,
                    {
                        "id": len(self.rows.of(AllianceChair)) + 1,
                        "alliance_id": alliance,
                        "unit_id": units[quarter % len(units)],
                        "starts_on": starts,
                        "ends_on": ends,
                    },
                )

    # --- members -------------------------------------------------------------------------------

    def members(self) -> None:
        s, rng = self.scale, self.rng
        units = [row["id"] for row in self.rows.of(Unit)]
        # Units differ in how well their members report: some fall below 80 %.
        diligence = {u: rng.choice((0.6, 0.75, 0.85, 0.9, 0.95, 1.0)) for u in units}
        for n in range(1, s.members + 1):
            unit = units[(n - 1) % len(units)] if n <= len(units) else rng.choice(units)
            community = rng.choice(self.community_ids)
            card = member_card(self.seed, n)
            self.rows.add(
                Member,
                {
                    "id": n,
                    "code": f"M{n:05d}",
                    "name": synthetic_name(rng),
                    "unit_id": unit,
                    "community_id": community,
                    "grid_id": rng.choice(self.level3_by_community.get(community, [community])),
                    "party_org_id": rng.choice(self.groups_by_community.get(community, [None])),
                    "card_hash": card_hash(self.key, card),
                    "card_sealed": self.seal(card) if self.seal else None,
                    "in_service": True,
                },
            )
            self.cards.append((n, community, card))
            if rng.random() < diligence[unit]:
                self.rows.add(
                    Registration,
                    {
                        "id": len(self.rows.of(Registration)) + 1,
                        "community_id": community,
                        "member_id": n,
                        "unit_id": None,
                        "registered_on": self._day(rng.randint(-200, 300)),
                    },
                )

    # --- centres, venues, teams, activities ----------------------------------------------------

    def centres(self) -> None:
        s, rng = self.scale, self.rng
        hosts = self.community_ids[:: max(1, len(self.community_ids) // s.centres)][: s.centres]
        for n, host in enumerate(hosts, start=1):
            site = f"centre-{n:02d}"
            name = self.rows.of(Community)[host - 1]["name"]
            self.rows.add(
                ServiceCentre, {"id": site, "name": f"{name}党群服务中心", "community_id": host}
            )
        for community in self.community_ids:
            centre = f"centre-{(community - 1) % len(hosts) + 1:02d}"
            self.rows.of(Community)[community - 1]["centre_id"] = centre
            self.centre_of[community] = centre
        for n in range(1, s.venues + 1):
            kind = rng.choices(("sports_ground", "car_park", "other"), (20, 28, 4))[0]
            community = rng.choice(self.community_ids)
            unit = rng.choice(self.units_by_community[community])
            unit_name = self.rows.of(Unit)[unit - 1]["name"]
            label = {"sports_ground": "运动场", "car_park": "停车场", "other": "活动室"}[kind]
            self.rows.add(
                Venue,
                {
                    "id": f"venue-{n:02d}",
                    "name": f"{unit_name}{label}",
                    "kind": kind,
                    "unit_id": unit,
                    "community_id": community,
                    "address": f"原平市{rng.choice(COMMUNITY_WORDS)}路{rng.randint(1, 300)}号",
                    "capacity": rng.randint(40, 400)
                    if kind != "car_park"
                    else rng.randint(20, 200),
                    "opens_at": time(rng.choice((6, 7, 8)), 0),
                    "closes_at": time(rng.choice((20, 21, 22)), 0),
                    "alert_threshold_pct": 90.0,
                    # spread over Yuanping's centre, from n alone (the generator's sequence,
                    # and so the rest of the city, stays as it was)
                    "latitude": round(38.700 + (n * 37 % 61) / 1000, 4),
                    "longitude": round(112.680 + (n * 53 % 83) / 1000, 4),
                    "public_count": n % 3 == 0,
                },
            )
        kinds = ["station"] * len(self.community_ids) + ["alliance"] * len(self.community_ids)
        kinds += ["group"] * (s.volunteer_teams - len(kinds))
        for n, kind in enumerate(kinds[: s.volunteer_teams], start=1):
            community = self.community_ids[(n - 1) % len(self.community_ids)]
            team_label = {
                "station": "志愿服务站",
                "alliance": "志愿服务联盟",
                "group": "志愿服务队",
            }
            self.rows.add(
                VolunteerTeam,
                {
                    "id": n,
                    "code": f"V{n:03d}",
                    "name": f"{self.rows.of(Community)[community - 1]['name']}{team_label[kind]}{n}",
                    "kind": kind,
                    "community_id": community,
                    "unit_id": rng.choice(self.units_by_community[community] + [None]),
                },
            )

    def activities(self) -> None:
        s, rng = self.scale, self.rng
        teams: dict[int, list[int]] = {}
        for row in self.rows.of(VolunteerTeam):
            teams.setdefault(row["community_id"], []).append(row["id"])
        slots = 12 * len(self.community_ids)  # one theme a month per community
        per_slot, extra = divmod(s.activities, slots)
        for c, community in enumerate(self.community_ids):
            themes = rng.sample(THEMES, 12)
            for month in range(1, 13):
                for _ in range(per_slot + ((c * 12 + month - 1) < extra)):
                    kind = rng.choices(
                        ("themed_activity", "volunteer_service", "eight_into", "registration"),
                        (40, 35, 20, 5),
                    )[0]
                    day = rng.randint(1, 28)
                    starts = datetime(
                        self.year, month, day, rng.choice((9, 14, 19)), tzinfo=CITY_TZ
                    )
                    ends = starts + timedelta(hours=2)
                    activity = self.rows.add(
                        Activity,
                        {
                            "id": len(self.rows.of(Activity)) + 1,
                            "centre_id": self.centre_of[community],
                            "community_id": community,
                            "title": f"{themes[month - 1]}·{KIND_LABEL[kind]}",
                            "theme": themes[month - 1],
                            "month": f"{self.year:04d}-{month:02d}",
                            "kind": kind,
                            "eight_into": rng.choice(EIGHT_INTO) if kind == "eight_into" else None,
                            "starts_at": starts.astimezone(UTC),
                            "ends_at": ends.astimezone(UTC),
                            "unit_id": rng.choice(self.units_by_community[community] + [None]),
                            "volunteer_team_id": (
                                rng.choice(teams[community])
                                if kind == "volunteer_service" and community in teams
                                else None
                            ),
                        },
                    )
                    self.activities_by_community.setdefault(community, []).append(
                        (activity, starts, ends, kind)
                    )

    def service_requests(self) -> None:
        """Requests in every state of the workflow (``hub.org.requests``): most confirmed, a few
        waiting at each step; the seed keeps no history steps and no contacts."""
        rng = self.rng
        states = ("raised", "declined", "transferred", "accepted", "resolved", "confirmed")
        for n in range(1, self.scale.service_requests + 1):
            community = rng.choice(self.community_ids)
            raised = self._instant(rng.randint(0, 360), rng.randint(8, 19))
            status = rng.choices(states, (4, 2, 5, 5, 9, 75))[0]
            held = status not in {"raised", "declined"}
            unit = rng.choice(self.units_by_community[community]) if held else None
            transferred = raised + timedelta(hours=rng.randint(1, 48)) if unit else None
            accepted = (
                transferred + timedelta(hours=rng.randint(1, 24))
                if transferred and status != "transferred"
                else None
            )
            resolved = (
                accepted + timedelta(days=rng.randint(1, 10))
                if accepted and status in {"resolved", "confirmed"}
                else None
            )
            confirmed = (
                resolved + timedelta(hours=rng.randint(1, 72))
                if resolved and status == "confirmed"
                else None
            )
            self.rows.add(
                ServiceRequest,
                {
                    "id": n,
                    "community_id": community,
                    "category": rng.choice(REQUEST_CATEGORIES),
                    "summary": rng.choice(REQUEST_SUMMARIES),
                    "status": status,
                    "raised_at": raised,
                    "unit_id": unit,
                    "transferred_at": transferred,
                    "accepted_at": accepted,
                    "resolved_at": resolved,
                    "confirmed_at": confirmed,
                    "resolution": "已办结" if resolved else None,
                    "source": "staff",
                },
            )

    # --- check-ins -----------------------------------------------------------------------------

    def checkins(self) -> Iterator[dict[str, Any]]:
        """A year of taps: members at their community's activities and as walk-ins, some
        unknown cards; ordered per centre by time, with the centre's sequence numbers."""
        rng = self.rng
        taps: list[tuple[str, datetime, str]] = []  # (centre, at, card)
        # how many services a member does in the year: 0 to 12, about 4.6 on average
        weights = (8, 10, 12, 13, 13, 12, 10, 8, 6, 4, 2, 1, 1)
        for _member, community, card in self.cards:
            activities = self.activities_by_community.get(community, [])
            centre = self.centre_of[community]
            for _ in range(rng.choices(range(len(weights)), weights)[0]):
                if activities and rng.random() < 0.8:
                    _id, starts, ends, _kind = rng.choice(activities)
                    span = int((ends - starts).total_seconds())
                    taps.append((centre, starts + timedelta(seconds=rng.randrange(span)), card))
                    if rng.random() < 0.1:  # and again on leaving: still one service
                        taps.append((centre, ends - timedelta(seconds=rng.randint(1, 600)), card))
                else:
                    taps.append(
                        (centre, self._instant(rng.randint(0, 364), rng.randint(8, 17)), card)
                    )
        for _ in range(len(taps) // 30):
            community = rng.choice(self.community_ids)
            unknown = f"{rng.getrandbits(40):010X}"
            taps.append(
                (self.centre_of[community], self._instant(rng.randint(0, 364), 10), unknown)
            )
        taps.sort(key=lambda t: (t[0], t[1]))
        boots = {centre: _uuid(rng) for centre in self.centre_of.values()}
        seqs: dict[str, int] = {}
        known = {card for _m, _c, card in self.cards}
        for centre, at, card in taps:
            seqs[centre] = seqs.get(centre, 0) + 1
            yield {
                "event_id": _uuid(rng),
                "site_id": centre,
                "device_id": "reader-1",
                "boot": boots[centre],
                "seq": seqs[centre],
                "device_time": at.astimezone(UTC),
                "received_at": (at + timedelta(milliseconds=rng.randint(20, 900))).astimezone(UTC),
                "card_hash": card_hash(self.key, card),
                "decision": "allowed" if card in known else "unknown",
                "allowlist_version": 1,
            }

    def _day(self, offset: int) -> date:
        return (self.start + timedelta(days=offset)).date()

    def _instant(self, day: int, hour: int) -> datetime:
        local = self.start + timedelta(
            days=min(day, 364), hours=hour, minutes=self.rng.randint(0, 59)
        )
        return local.astimezone(UTC)


def _org(org_id: int, kind: str, name: str) -> dict[str, Any]:
    return {
        "id": org_id,
        "code": f"P{org_id:03d}",
        "name": name,
        "kind": kind,
        "parent_id": None,
        "subdistrict_id": None,
        "community_id": None,
        "grid_id": None,
    }


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


_ORDER = (
    Subdistrict,
    Community,
    Grid,
    PartyOrg,
    Alliance,
    Unit,
    AllianceChair,
    Agreement,
    ServiceMenuItem,
    Member,
    Registration,
    ServiceCentre,
    Venue,
    VolunteerTeam,
    Activity,
    ServiceRequest,
)
_CHUNK = 5000


def is_seeded(conn: Connection) -> bool:
    return bool(conn.execute(select(func.count()).select_from(Subdistrict)).scalar())


def seed_city(
    engine: Engine,
    *,
    seed: int,
    key: bytes,
    year: int | None = None,
    scale: Scale = CITY,
    progress: Callable[[str], None] = lambda _line: None,
    seal: Callable[[str], str] | None = None,
) -> SeedReport:
    """Fill an empty, migrated database with a synthetic city; raise ``SeedError`` if it holds
    records already. ``seal`` makes the members' card vault entries (``hub.org.cards``)."""
    year = year or default_year()
    started = clock.monotonic()
    with engine.connect() as conn:
        if is_seeded(conn):
            raise SeedError("the database already holds records; seed a fresh one")
    city = _City(seed, year, key, scale, seal)
    city.organisation()
    city.units()
    city.members()
    city.centres()
    city.activities()
    city.service_requests()
    checkins = list(city.checkins())
    progress(f"drew the city for {year} in {clock.monotonic() - started:.1f} s")
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        if is_seeded(conn):
            raise SeedError("the database already holds records; seed a fresh one")
        centres = city.rows.of(ServiceCentre)
        communities = city.rows.of(Community)
        centre_of = {row["id"]: row.pop("centre_id") for row in communities}
        for table in _ORDER:
            rows = city.rows.of(table)
            _bulk(conn, table, rows)
            counts[table.__tablename__] = len(rows)
            progress(f"{table.__tablename__}: {len(rows)}")
        for community, centre in centre_of.items():
            conn.execute(
                update(Community).where(Community.id == community).values(centre_id=centre)
            )
        _sites(conn, [row["id"] for row in centres], checkins)
        _bulk(conn, Checkin, checkins)
        counts["checkins"] = len(checkins)
        progress(f"checkins: {len(checkins)}")
        counts["attendance"] = record_missing_attendance(conn)
        progress(f"attendance: {counts['attendance']}")
        _reset_sequences(conn)
    seconds = clock.monotonic() - started
    progress(f"seeded in {seconds:.1f} s")
    return SeedReport(year, counts, seconds)


def _bulk(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _CHUNK):
        conn.execute(insert(table), rows[start : start + _CHUNK])


def _sites(conn: Connection, centres: list[str], checkins: list[dict[str, Any]]) -> None:
    """The centres' sites and readers, as the hub registers them when their edges first report
    (an edge may have reported already)."""
    first = min((c["received_at"] for c in checkins), default=datetime.now(UTC))
    insert_new = insert_for(conn)
    conn.execute(
        insert_new(Site).on_conflict_do_nothing(),
        [{"id": c, "first_seen": first, "state": "unknown"} for c in centres],
    )
    conn.execute(
        insert_new(Device).on_conflict_do_nothing(),
        [
            {
                "site_id": c,
                "id": "reader-1",
                "first_seen": first,
                "kind": "card_reader",
                "state": "unknown",
                "frames_ok": 0,
                "frame_errors": 0,
                "port_errors": 0,
                "timeouts": 0,
            }
            for c in centres
        ],
    )


def _reset_sequences(conn: Connection) -> None:
    """Ids were given explicitly; PostgreSQL's sequences must move past them."""
    if conn.dialect.name != "postgresql":
        return  # SQLite's integer primary keys continue from the largest id
    for table in _ORDER:
        if table in {ServiceCentre, Venue}:
            continue  # their ids are site ids, not numbers
        name = table.__tablename__
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608 - our names
                f"(SELECT coalesce(max(id), 0) + 1 FROM {name}), false)"
            )
        )
