"""Import the registry kinds: sub-districts, communities, grids, party organisations, alliances,
service centres, venues (with their weekday hours) and volunteer teams.

These tables are small (a city has 3 sub-districts, 227 grids, 52 venues), so rows are written
through the ORM: the audit log's flush hook records every row created or changed, and a matched
row whose cells equal the record changes nothing. Rows are matched by ``code`` (service centres
and venues by ``id``). A grid's or party organisation's parent may be a row of the same file:
rows are written level by level, parents first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.org.models import (
    PARTY_ORG_KINDS,
    Agreement,
    Alliance,
    Community,
    Grid,
    PartyOrg,
    ServiceCentre,
    Subdistrict,
    Unit,
    VolunteerTeam,
)
from hub.org.roster.columns import WEEKDAY_KEYS
from hub.org.roster.report import Checker, Known, Parsed
from hub.venues.models import Venue, VenueHours


def known(session: Session, model: Any, key: str = "code") -> Known:
    """``key`` → (id, archived) of every row of ``model``."""
    column = getattr(model, key)
    return {
        k: (ident, archived is not None)
        for ident, k, archived in session.execute(select(model.id, column, model.archived_at))
    }


class RegistryWriter:
    """Checks a file's rows against the records, then writes them (only if all are good)."""

    model: Any
    key = "code"

    def __init__(self, session: Session, problems: Checker, present: set[str]) -> None:
        self.session, self.problems, self.present = session, problems, present
        self.touched: set[Any] = set()
        """Keys of the rows created or changed (counted once in the report)."""
        self.existing: dict[Any, Any] = {
            getattr(row, self.key): row for row in session.scalars(select(self.model))
        }

    def check(self, rows: list[Parsed]) -> None:
        self.problems.unique(rows, self.key)
        for row in rows:
            self.check_row(row)

    def check_row(self, row: Parsed) -> None:
        """Resolve the row's references into ``row.values`` (``*_id``), or name the problem."""

    def values(self, row: Parsed) -> dict[str, Any]:
        """The record's columns from a checked row."""
        raise NotImplementedError

    def write(self, rows: list[Parsed]) -> None:
        for row in rows:
            self.put(row)

    def put(self, row: Parsed) -> Any:
        """Create or update the row's record; count it in the report."""
        report = self.problems.report
        key = row.values[self.key]
        record = self.existing.get(key)
        values = self.values(row)
        if record is None:
            record = self.model(**{self.key: key}, **values)
            self.session.add(record)
            self.existing[key] = record
            self.touched.add(key)
            report.created += 1
            return record
        for column, value in values.items():
            setattr(record, column, value)
        if self.session.is_modified(record):
            self.touched.add(key)
            report.updated += 1
        return record

    def refer(self, row: Parsed, column: str, known: Known, what: str, into: str) -> Any:
        ident = self.problems.refer(row, column, known, what)
        row.values[into] = ident
        return ident


class Subdistricts(RegistryWriter):
    model = Subdistrict

    def values(self, row: Parsed) -> dict[str, Any]:
        return {"name": row.values["name"]}


class Alliances(RegistryWriter):
    model = Alliance

    def __init__(self, session: Session, problems: Checker, present: set[str]) -> None:
        super().__init__(session, problems, present)
        self.subdistricts = known(session, Subdistrict)

    def check_row(self, row: Parsed) -> None:
        self.refer(row, "subdistrict_code", self.subdistricts, "sub-district", "subdistrict_id")

    def values(self, row: Parsed) -> dict[str, Any]:
        return {"name": row.values["name"], "subdistrict_id": row.values["subdistrict_id"]}


class Communities(RegistryWriter):
    model = Community

    def __init__(self, session: Session, problems: Checker, present: set[str]) -> None:
        super().__init__(session, problems, present)
        self.subdistricts = known(session, Subdistrict)
        self.centres = known(session, ServiceCentre, "id")

    def check_row(self, row: Parsed) -> None:
        self.refer(row, "subdistrict_code", self.subdistricts, "sub-district", "subdistrict_id")
        self.refer(row, "centre_id", self.centres, "service centre", "centre")

    def values(self, row: Parsed) -> dict[str, Any]:
        v = row.values
        out = {"name": v["name"], "subdistrict_id": v["subdistrict_id"]}
        if "centre_id" in self.present:  # no column: the centre stays
            out["centre_id"] = v["centre"]
        return out


class ServiceCentres(RegistryWriter):
    model = ServiceCentre
    key = "id"

    def __init__(self, session: Session, problems: Checker, present: set[str]) -> None:
        super().__init__(session, problems, present)
        self.communities = known(session, Community)

    def check_row(self, row: Parsed) -> None:
        self.refer(row, "community_code", self.communities, "community", "community_id")

    def values(self, row: Parsed) -> dict[str, Any]:
        return {"name": row.values["name"], "community_id": row.values["community_id"]}


class VolunteerTeams(RegistryWriter):
    model = VolunteerTeam

    def __init__(self, session: Session, problems: Checker, present: set[str]) -> None:
        super().__init__(session, problems, present)
        self.communities = known(session, Community)
        self.units = known(session, Unit)

    def check_row(self, row: Parsed) -> None:
        self.refer(row, "community_code", self.communities, "community", "community_id")
        self.refer(row, "unit_code", self.units, "unit", "unit_id")

    def values(self, row: Parsed) -> dict[str, Any]:
        v = row.values
        return {
            "name": v["name"],
            "kind": v["kind"],
            "community_id": v["community_id"],
            "unit_id": v["unit_id"],
        }


class _Tree(RegistryWriter):
    """Rows with a parent of the same table, one level up; the parent may be in the file."""

    def level(self, row: Parsed) -> int:
        raise NotImplementedError

    def level_of(self, record: Any) -> int:
        raise NotImplementedError

    def parent_problem(self, row: Parsed, parent: Parsed | Any) -> str | None:
        """Why ``parent`` (a row of the file, or a record) cannot be the row's parent."""
        return None

    def check(self, rows: list[Parsed]) -> None:
        super().check(rows)
        in_file = {row.values.get(self.key): row for row in rows}
        for row in rows:
            parent_code = row.values.get("parent_code")
            if self.level(row) == 1:
                if parent_code is not None:
                    self.problems.error(row.line, "parent_code", "the top level has no parent")
                continue
            if parent_code is None:
                self.problems.error(row.line, "parent_code", "required below the top level")
                continue
            parent: Parsed | Any = in_file.get(parent_code) or self.existing.get(parent_code)
            if parent is None:
                self.problems.error(row.line, "parent_code", f"no parent {parent_code!r}")
                continue
            if isinstance(parent, Parsed):
                parent_level = self.level(parent)
            else:
                parent_level = self.level_of(parent)
                if parent.archived_at is not None:
                    self.problems.error(row.line, "parent_code", f"{parent_code!r} is archived")
            if parent_level != self.level(row) - 1:
                self.problems.error(row.line, "parent_code", f"{parent_code!r} is not one level up")
            elif (problem := self.parent_problem(row, parent)) is not None:
                self.problems.error(row.line, "parent_code", problem)

    def write(self, rows: list[Parsed]) -> None:
        for level in sorted({self.level(row) for row in rows}):
            for row in rows:
                if self.level(row) == level:
                    parent = row.values.get("parent_code")
                    row.values["parent_id"] = None if parent is None else self.existing[parent].id
                    self.put(row)
            self.session.flush()  # the next level's parents have their ids


class Grids(_Tree):
    model = Grid

    def __init__(self, session: Session, problems: Checker, present: set[str]) -> None:
        super().__init__(session, problems, present)
        self.communities = known(session, Community)

    def level(self, row: Parsed) -> int:
        level: int = row.values.get("level", 1)
        return level

    def level_of(self, record: Any) -> int:
        level: int = record.level
        return level

    def check_row(self, row: Parsed) -> None:
        self.refer(row, "community_code", self.communities, "community", "community_id")

    def parent_problem(self, row: Parsed, parent: Parsed | Any) -> str | None:
        community = (
            parent.values.get("community_id") if isinstance(parent, Parsed) else parent.community_id
        )
        if community != row.values.get("community_id"):
            return "the parent grid is in another community"
        return None

    def values(self, row: Parsed) -> dict[str, Any]:
        v = row.values
        return {
            "name": v["name"],
            "community_id": v["community_id"],
            "level": v["level"],
            "parent_id": v["parent_id"],
        }


class PartyOrgs(_Tree):
    model = PartyOrg

    def __init__(self, session: Session, problems: Checker, present: set[str]) -> None:
        super().__init__(session, problems, present)
        self.subdistricts = known(session, Subdistrict)
        self.communities = known(session, Community)
        self.grids = known(session, Grid)

    def level(self, row: Parsed) -> int:
        kind = row.values.get("kind", PARTY_ORG_KINDS[0])
        return PARTY_ORG_KINDS.index(kind) + 1

    def level_of(self, record: Any) -> int:
        return PARTY_ORG_KINDS.index(record.kind) + 1

    def check_row(self, row: Parsed) -> None:
        self.refer(row, "subdistrict_code", self.subdistricts, "sub-district", "subdistrict_id")
        self.refer(row, "community_code", self.communities, "community", "community_id")
        self.refer(row, "grid_code", self.grids, "grid", "grid_id")

    def values(self, row: Parsed) -> dict[str, Any]:
        v = row.values
        return {
            "name": v["name"],
            "kind": v["kind"],
            "parent_id": v["parent_id"],
            "subdistrict_id": v["subdistrict_id"],
            "community_id": v["community_id"],
            "grid_id": v["grid_id"],
        }


class Venues(RegistryWriter):
    model = Venue
    key = "id"

    def __init__(self, session: Session, problems: Checker, present: set[str]) -> None:
        super().__init__(session, problems, present)
        self.units = known(session, Unit)
        self.communities = known(session, Community)
        self.agreements = {
            code: (ident, archived is not None, unit)
            for ident, code, archived, unit in session.execute(
                select(Agreement.id, Agreement.code, Agreement.archived_at, Agreement.unit_id)
            )
        }

    def check_row(self, row: Parsed) -> None:
        v = row.values
        unit = self.refer(row, "unit_code", self.units, "unit", "unit_id")
        self.refer(row, "community_code", self.communities, "community", "community_id")
        agreements = {code: (i, a) for code, (i, a, _u) in self.agreements.items()}
        agreement = self.refer(row, "agreement_code", agreements, "agreement", "agreement_id")
        if (
            agreement is not None
            and unit is not None
            and self.agreements[v["agreement_code"]][2] != unit
        ):
            self.problems.error(
                row.line, "agreement_code", "the agreement is another unit's, not the owner's"
            )
        if ("latitude" in v) != ("longitude" in v):
            missing = "longitude" if "latitude" in v else "latitude"
            self.problems.error(row.line, missing, "give both coordinates, or neither")
        if "opens_at" in v and v.get("opens_at") == v.get("closes_at"):
            self.problems.error(row.line, "closes_at", "opening and closing at the same time")

    def values(self, row: Parsed) -> dict[str, Any]:
        v = row.values
        out = {
            "name": v["name"],
            "kind": v["kind"],
            "unit_id": v["unit_id"],
            "community_id": v["community_id"],
            "address": v["address"],
            "capacity": v["capacity"],
            "opens_at": v["opens_at"],
            "closes_at": v["closes_at"],
            "alert_threshold_pct": v.get("alert_threshold_pct", 90.0),
            "agreement_id": v["agreement_id"],
            "opened_on": v.get("opened_on"),
            "latitude": v.get("latitude"),
            "longitude": v.get("longitude"),
            "public_count": v.get("public_count", False),
        }
        return {k: value for k, value in out.items() if k in _ALWAYS or _column(k) in self.present}

    def write(self, rows: list[Parsed]) -> None:
        super().write(rows)
        self.session.flush()  # new venues exist before their hours
        weekdays = [(day, key) for day, key in enumerate(WEEKDAY_KEYS) if key in self.present]
        if not weekdays:
            return
        ids = [row.values["id"] for row in rows]
        hours = {
            (h.venue_id, h.weekday): h
            for h in self.session.scalars(select(VenueHours).where(VenueHours.venue_id.in_(ids)))
        }
        for row in rows:
            venue = row.values["id"]
            changed = False
            for weekday, key in weekdays:
                changed |= _set_hours(self.session, hours, venue, weekday, row.values, key)
            if changed and venue not in self.touched:  # only its hours changed
                self.touched.add(venue)
                self.problems.report.updated += 1


_ALWAYS = {"name", "kind", "unit_id", "community_id", "address", "capacity", "opens_at"}
_ALWAYS |= {"closes_at"}


def _column(key: str) -> str:
    """The file's column a venue's attribute comes from."""
    return {"agreement_id": "agreement_code"}.get(key, key)


def _set_hours(  # noqa: PLR0917 - one call site, every argument named by its role
    session: Session,
    hours: dict[tuple[str, int], VenueHours],
    venue: str,
    weekday: int,
    values: dict[str, Any],
    key: str,
) -> bool:
    """Make the venue's own hours of ``weekday`` what the cell says: an empty cell removes
    them (the venue's every-day hours apply), ``休息`` closes the day. True if they changed."""
    current = hours.get((venue, weekday))
    if key not in values:
        if current is None:
            return False
        session.delete(current)
        return True
    wanted = values[key]
    opens, closes = (None, None) if wanted is None else wanted
    if current is None:
        session.add(VenueHours(venue_id=venue, weekday=weekday, opens_at=opens, closes_at=closes))
        return True
    if (current.opens_at, current.closes_at) == (opens, closes):
        return False
    current.opens_at, current.closes_at = opens, closes
    return True
