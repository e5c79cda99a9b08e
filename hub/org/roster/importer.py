"""Import members, units or agreements from a roster file: all rows or none.

Every row is checked (each cell, then references to other records and duplicates) and every
problem is reported with its line, column and reason. Only a file with no problem at all is
written, in one transaction: rows are matched to existing records by ``code`` and updated, the
others created. Card numbers are hashed with the card key on the way in and never stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.org.models import (
    Agreement,
    Alliance,
    Community,
    Grid,
    Member,
    PartyOrg,
    Registration,
    ServiceMenuItem,
    Unit,
)
from hub.org.roster.columns import AGREEMENT_COLUMNS, MEMBER_COLUMNS, UNIT_COLUMNS, Column
from hub.org.roster.table import FileFormat, ReadLimits, Row, TableError, read_table
from mqtt_contract.credentials import card_hash

log = logging.getLogger(__name__)

RosterKind = Literal["members", "units", "agreements"]
COLUMNS: dict[RosterKind, tuple[Column, ...]] = {
    "members": MEMBER_COLUMNS,
    "units": UNIT_COLUMNS,
    "agreements": AGREEMENT_COLUMNS,
}


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    """1 is the header line; ``0`` when the file as a whole cannot be read."""
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


@dataclass
class ImportReport:
    kind: RosterKind
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Parsed:
    line: int
    values: dict[str, Any]


class _Checker:
    """Collects the errors of a file."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report

    def error(self, line: int, column: str | None, reason: str) -> None:
        self.report.errors.append(RowError(line, column, reason))

    def lookup(self, row: _Parsed, column: str, known: dict[str, int], what: str) -> int | None:
        value = row.values.get(column)
        if value is None:
            return None
        found = known.get(value)
        if found is None:
            self.error(row.line, column, f"no {what} with code {value!r}")
        return found

    def unique(self, rows: list[_Parsed], column: str) -> None:
        first: dict[Any, int] = {}
        for row in rows:
            value = row.values.get(column)
            if value is None:
                continue
            if value in first:
                self.error(row.line, column, f"{value!r} already on line {first[value]}")
            else:
                first[value] = row.line


def import_roster(
    session: Session,
    kind: RosterKind,
    data: bytes,
    file_format: FileFormat,
    *,
    card_key: bytes | None,
    card_seal: Callable[[str], str] | None = None,
    limits: ReadLimits | None = None,
) -> ImportReport:
    """Check the file and, only if every row is good, write it and commit. ``limits``: how much
    of the file is read before it is refused (rows, columns, what an .xlsx unpacks to);
    ``card_seal``: makes an enrolled card's vault entry (``hub.org.cards``; none: left empty)."""
    report = ImportReport(kind)
    check = _Checker(report)
    try:
        table = read_table(data, file_format, limits)
    except TableError as exc:
        check.error(0, None, str(exc))
        return report
    report.rows = len(table.rows)
    columns = COLUMNS[kind]
    mapping = _map_header(table.header, columns, check)
    if report.errors:  # rows cannot be read without their columns
        return report
    rows = [_parse(row, mapping, columns, check) for row in table.rows]
    writers: dict[RosterKind, type[_Writer]] = {
        "members": _Members,
        "units": _Units,
        "agreements": _Agreements,
    }
    writer = writers[kind](session, check)
    if isinstance(writer, _Members):
        writer.seal = card_seal
    writer.check(rows, card_key)
    if report.errors:
        return report
    try:
        writer.write(rows, card_key)
        session.commit()
    except IntegrityError as exc:  # a check above missed something: still all or nothing
        session.rollback()
        log.warning("roster import refused by the database: %s", exc)
        check.error(0, None, f"the records refused the file: {exc.orig}")
        report.created = report.updated = 0
        return report
    log.info("imported %s: %d created, %d updated", kind, report.created, report.updated)
    return report


class _Writer(Protocol):
    def __init__(self, session: Session, problems: _Checker) -> None: ...
    def check(self, rows: list[_Parsed], card_key: bytes | None) -> None: ...
    def write(self, rows: list[_Parsed], card_key: bytes | None) -> None: ...


def _map_header(
    header: Sequence[str], columns: Sequence[Column], check: _Checker
) -> dict[str, Column]:
    mapping: dict[str, Column] = {}
    for title in header:
        if not title:
            continue
        column = next((c for c in columns if c.matches(title)), None)
        if column is None:
            expected = ", ".join(f"{c.key} ({c.label})" for c in columns)
            check.error(1, title, f"unknown column; the columns are {expected}")
        elif column.key in {c.key for c in mapping.values()}:
            check.error(1, title, f"column {column.key} appears twice")
        else:
            mapping[title] = column
    present = {c.key for c in mapping.values()}
    for column in columns:
        if column.required and column.key not in present:
            check.error(1, column.key, f"missing required column ({column.label})")
    return mapping


def _parse(
    row: Row, mapping: dict[str, Column], columns: Sequence[Column], check: _Checker
) -> _Parsed:
    values: dict[str, Any] = {}
    for title, column in mapping.items():
        text = row.cells.get(title, "")
        if not text:
            continue
        try:
            values[column.key] = column.parse(text)
        except ValueError as exc:
            check.error(row.line, column.key, str(exc))
    for column in columns:
        if column.required and column.key in {c.key for c in mapping.values()}:
            title = next(t for t, c in mapping.items() if c is column)
            if not row.cells.get(title, ""):
                check.error(row.line, column.key, "required, but empty")
    return _Parsed(row.line, values)


def _codes(session: Session, table: Any) -> dict[str, int]:
    return {code: ident for ident, code in session.execute(select(table.id, table.code))}


class _Members:
    def __init__(self, session: Session, problems: _Checker) -> None:
        self.session, self.problems = session, problems
        self.units = _codes(session, Unit)
        self.communities = _codes(session, Community)
        self.party_orgs = _codes(session, PartyOrg)
        self.grids = {
            code: (ident, community)
            for ident, code, community in session.execute(
                select(Grid.id, Grid.code, Grid.community_id)
            )
        }
        self.seal: Callable[[str], str] | None = None
        self.existing = {
            code: (ident, card)
            for ident, code, card in session.execute(
                select(Member.id, Member.code, Member.card_hash)
            )
        }

    def check(self, rows: list[_Parsed], card_key: bytes | None) -> None:
        check = self.problems
        check.unique(rows, "code")
        check.unique(rows, "card")
        if card_key is None and any("card" in r.values for r in rows):
            check.error(1, "card", "cards cannot be enrolled without the card key (HUB_CARD_KEY)")
            return
        # members of this file who are given a card: their old card is freed before writing
        rehashed = {
            r.values.get("code") for r in rows if "card" in r.values and card_key is not None
        }
        owner = {card: code for code, (_id, card) in self.existing.items() if card}
        for row in rows:
            check.lookup(row, "unit_code", self.units, "unit")
            community = check.lookup(row, "community_code", self.communities, "community")
            check.lookup(row, "party_org_code", self.party_orgs, "party organisation")
            grid = row.values.get("grid_code")
            if grid is not None:
                found = self.grids.get(grid)
                if found is None:
                    check.error(row.line, "grid_code", f"no grid with code {grid!r}")
                elif community is not None and found[1] != community:
                    check.error(row.line, "grid_code", f"grid {grid!r} is in another community")
            if "card" in row.values and card_key is not None:
                hashed = card_hash(card_key, row.values["card"])
                row.values["card_hash"] = hashed
                if self.seal is not None:
                    row.values["card_sealed"] = self.seal(row.values["card"])
                holder = owner.get(hashed)
                if (
                    holder is not None
                    and holder != row.values.get("code")
                    and holder not in rehashed
                ):
                    check.error(row.line, "card", f"this card is enrolled for member {holder}")

    def write(self, rows: list[_Parsed], card_key: bytes | None) -> None:
        session, report = self.session, self.problems.report
        moving = [
            self.existing[r.values["code"]][0]
            for r in rows
            if r.values["code"] in self.existing and "card_hash" in r.values
        ]
        if moving:  # cards may pass between members of this file: free them first
            session.execute(
                update(Member).where(Member.id.in_(moving)).values(card_hash=None, card_sealed=None)
            )
        records = []
        for row in rows:
            v = row.values
            values: dict[str, Any] = {
                "code": v["code"],
                "name": v["name"],
                "unit_id": self.units[v["unit_code"]],
                "community_id": self.communities[v["community_code"]],
                "grid_id": self.grids[v["grid_code"]][0] if "grid_code" in v else None,
                "party_org_id": self.party_orgs.get(v.get("party_org_code", "")),
                "in_service": v.get("in_service", True),
            }
            if "card_hash" in v:  # no card column or cell: an enrolled card stays
                values["card_hash"] = v["card_hash"]
                values["card_sealed"] = v.get("card_sealed")
            records.append(values)
        existing = {code: ident for code, (ident, _card) in self.existing.items()}
        ids = _upsert(
            session,
            Member,
            records,
            existing,
            report,
            new_defaults={"card_hash": None, "card_sealed": None},
        )
        _register(
            session,
            Registration.member_id,
            [
                (ids[r.values["code"]], self.communities[r.values["community_code"]], r.values)
                for r in rows
            ],
        )


class _Units:
    def __init__(self, session: Session, problems: _Checker) -> None:
        self.session, self.problems = session, problems
        self.communities = _codes(session, Community)
        self.alliances = _codes(session, Alliance)
        self.existing = _codes(session, Unit)

    def check(self, rows: list[_Parsed], _card_key: bytes | None) -> None:
        check = self.problems
        check.unique(rows, "code")
        for row in rows:
            check.lookup(row, "community_code", self.communities, "community")
            check.lookup(row, "alliance_code", self.alliances, "alliance")
            if "registered_on" in row.values and "community_code" not in row.values:
                check.error(
                    row.line, "registered_on", "a registration needs the unit's community_code"
                )

    def write(self, rows: list[_Parsed], _card_key: bytes | None) -> None:
        session = self.session
        records = [
            {
                "code": v["code"],
                "name": v["name"],
                "kind": v["kind"],
                "community_id": self.communities.get(v.get("community_code", "")),
                "alliance_id": self.alliances.get(v.get("alliance_code", "")),
            }
            for v in (row.values for row in rows)
        ]
        ids = _upsert(session, Unit, records, self.existing, self.problems.report)
        _register(
            session,
            Registration.unit_id,
            [
                (ids[r.values["code"]], self.communities[r.values["community_code"]], r.values)
                for r in rows
                if "community_code" in r.values
            ],
        )


class _Agreements:
    def __init__(self, session: Session, problems: _Checker) -> None:
        self.session, self.problems = session, problems
        self.communities = _codes(session, Community)
        self.units = _codes(session, Unit)
        self.existing = _codes(session, Agreement)

    def check(self, rows: list[_Parsed], _card_key: bytes | None) -> None:
        check = self.problems
        check.unique(rows, "code")
        for row in rows:
            check.lookup(row, "community_code", self.communities, "community")
            check.lookup(row, "unit_code", self.units, "unit")
            ends, signed = row.values.get("ends_on"), row.values.get("signed_on")
            if ends is not None and signed is not None and ends < signed:
                check.error(row.line, "ends_on", "ends before it was signed")

    def write(self, rows: list[_Parsed], _card_key: bytes | None) -> None:
        session = self.session
        records = [
            {
                "code": v["code"],
                "community_id": self.communities[v["community_code"]],
                "unit_id": self.units[v["unit_code"]],
                "signed_on": v["signed_on"],
                "ends_on": v.get("ends_on"),
            }
            for v in (row.values for row in rows)
        ]
        ids = _upsert(session, Agreement, records, self.existing, self.problems.report)
        menus = [r for r in rows if "offers" in r.values or "needs" in r.values]
        if menus:  # a menu given in the file replaces the agreement's menu
            session.execute(
                delete(ServiceMenuItem).where(
                    ServiceMenuItem.agreement_id.in_([ids[r.values["code"]] for r in menus])
                )
            )
            items = [
                {"agreement_id": ids[r.values["code"]], "direction": direction, "title": title}
                for r in menus
                for direction, key in (("offer", "offers"), ("need", "needs"))
                for title in r.values.get(key, [])
            ]
            if items:
                session.execute(insert(ServiceMenuItem), items)


def _upsert(
    session: Session,
    model: Any,
    records: list[dict[str, Any]],
    existing: dict[str, int],
    report: ImportReport,
    *,
    new_defaults: dict[str, Any] | None = None,
) -> dict[str, int]:
    """Create the records whose code is new, update the others; return every code's id."""
    new = [{**(new_defaults or {}), **r} for r in records if r["code"] not in existing]
    changed = [{"id": existing[r["code"]], **r} for r in records if r["code"] in existing]
    if new:
        session.execute(insert(model), new)
    if changed:
        session.execute(update(model), changed)
    report.created, report.updated = len(new), len(changed)
    return _codes(session, model)


def _register(
    session: Session, who: Any, registrations: list[tuple[int, int, dict[str, Any]]]
) -> None:
    """Record (or re-date) the registration of each row that gives a date."""
    dated = [
        (ident, community, v["registered_on"])
        for ident, community, v in registrations
        if "registered_on" in v
    ]
    if not dated:
        return
    existing = {
        (ident, community): reg_id
        for reg_id, ident, community in session.execute(
            select(Registration.id, who, Registration.community_id).where(
                who.in_([d[0] for d in dated])
            )
        )
    }
    new, changed = [], []
    for ident, community, on in dated:
        reg_id = existing.get((ident, community))
        if reg_id is None:
            new.append({who.key: ident, "community_id": community, "registered_on": on})
        else:
            changed.append({"id": reg_id, "registered_on": on})
    if new:
        session.execute(insert(Registration), new)
    if changed:
        session.execute(update(Registration), changed)
