"""Import members, units or agreements from a roster file: all rows or none.

Every row is checked (each cell, then references to other records and duplicates) and every
problem is reported with its line, column and reason. Only a file with no problem at all is
written, in one transaction: rows are matched to existing records by ``code`` and updated, the
others created. Card numbers are hashed with the card key on the way in and never stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.audit import REDACTED, record_many
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
from hub.org.names import mask_name
from hub.org.roster import registry
from hub.org.roster.columns import AGREEMENT_COLUMNS, MEMBER_COLUMNS, UNIT_COLUMNS, Column
from hub.org.roster.registry_columns import (
    ALLIANCE_COLUMNS,
    COMMUNITY_COLUMNS,
    GRID_COLUMNS,
    PARTY_ORG_COLUMNS,
    SERVICE_CENTRE_COLUMNS,
    SUBDISTRICT_COLUMNS,
    VENUE_COLUMNS,
    VOLUNTEER_TEAM_COLUMNS,
)
from hub.org.roster.report import Checker, ImportReport, Parsed, RosterKind, RowError
from hub.org.roster.table import FileFormat, ReadLimits, Row, TableError, read_table
from mqtt_contract.credentials import card_hash

log = logging.getLogger(__name__)

__all__ = ["COLUMNS", "ImportReport", "RosterKind", "RowError", "import_roster"]

COLUMNS: dict[RosterKind, tuple[Column, ...]] = {
    "members": MEMBER_COLUMNS,
    "units": UNIT_COLUMNS,
    "agreements": AGREEMENT_COLUMNS,
    "subdistricts": SUBDISTRICT_COLUMNS,
    "communities": COMMUNITY_COLUMNS,
    "grids": GRID_COLUMNS,
    "party-orgs": PARTY_ORG_COLUMNS,
    "alliances": ALLIANCE_COLUMNS,
    "service-centres": SERVICE_CENTRE_COLUMNS,
    "venues": VENUE_COLUMNS,
    "volunteer-teams": VOLUNTEER_TEAM_COLUMNS,
}
REGISTRY: dict[RosterKind, type[registry.RegistryWriter]] = {
    "subdistricts": registry.Subdistricts,
    "communities": registry.Communities,
    "grids": registry.Grids,
    "party-orgs": registry.PartyOrgs,
    "alliances": registry.Alliances,
    "service-centres": registry.ServiceCentres,
    "venues": registry.Venues,
    "volunteer-teams": registry.VolunteerTeams,
}


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
    check = Checker(report)
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
    if kind in REGISTRY:
        return _import_registry(session, kind, rows, {c.key for c in mapping.values()}, check)
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


def _import_registry(
    session: Session, kind: RosterKind, rows: list[Parsed], present: set[str], check: Checker
) -> ImportReport:
    report = check.report
    writer = REGISTRY[kind](session, check, present)
    writer.check(rows)
    if report.errors:
        return report
    try:
        writer.write(rows)
        session.commit()
    except IntegrityError as exc:  # a check above missed something: still all or nothing
        session.rollback()
        log.warning("%s import refused by the database: %s", kind, exc)
        check.error(0, None, f"the records refused the file: {exc.orig}")
        report.created = report.updated = 0
        return report
    log.info("imported %s: %d created, %d updated", kind, report.created, report.updated)
    return report


class _Writer(Protocol):
    def __init__(self, session: Session, problems: Checker) -> None: ...
    def check(self, rows: list[Parsed], card_key: bytes | None) -> None: ...
    def write(self, rows: list[Parsed], card_key: bytes | None) -> None: ...


def _map_header(
    header: Sequence[str], columns: Sequence[Column], check: Checker
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
    row: Row, mapping: dict[str, Column], columns: Sequence[Column], check: Checker
) -> Parsed:
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
    return Parsed(row.line, values)


def _codes(session: Session, table: Any) -> dict[str, int]:
    return {code: ident for ident, code in session.execute(select(table.id, table.code))}


class _Members:
    def __init__(self, session: Session, problems: Checker) -> None:
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

    def check(self, rows: list[Parsed], card_key: bytes | None) -> None:
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

    def write(self, rows: list[Parsed], card_key: bytes | None) -> None:
        session, report = self.session, self.problems.report
        before = _snapshot(session, Member)  # before cards are freed: the log's "before"
        names = {code: row["name"] for code, row in before.items()}
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
            recorded = names.get(v["code"])
            values: dict[str, Any] = {
                "code": v["code"],
                # an export shows names masked: re-imported, the masked name keeps the record's
                "name": recorded
                if recorded is not None and v["name"] == mask_name(recorded)
                else v["name"],
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
            before=before,
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
    def __init__(self, session: Session, problems: Checker) -> None:
        self.session, self.problems = session, problems
        self.communities = _codes(session, Community)
        self.alliances = _codes(session, Alliance)
        self.existing = _codes(session, Unit)

    def check(self, rows: list[Parsed], _card_key: bytes | None) -> None:
        check = self.problems
        check.unique(rows, "code")
        for row in rows:
            check.lookup(row, "community_code", self.communities, "community")
            check.lookup(row, "alliance_code", self.alliances, "alliance")
            if "registered_on" in row.values and "community_code" not in row.values:
                check.error(
                    row.line, "registered_on", "a registration needs the unit's community_code"
                )

    def write(self, rows: list[Parsed], _card_key: bytes | None) -> None:
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
    def __init__(self, session: Session, problems: Checker) -> None:
        self.session, self.problems = session, problems
        self.communities = _codes(session, Community)
        self.units = _codes(session, Unit)
        self.existing = _codes(session, Agreement)

    def check(self, rows: list[Parsed], _card_key: bytes | None) -> None:
        check = self.problems
        check.unique(rows, "code")
        for row in rows:
            check.lookup(row, "community_code", self.communities, "community")
            check.lookup(row, "unit_code", self.units, "unit")
            ends, signed = row.values.get("ends_on"), row.values.get("signed_on")
            if ends is not None and signed is not None and ends < signed:
                check.error(row.line, "ends_on", "ends before it was signed")

    def write(self, rows: list[Parsed], _card_key: bytes | None) -> None:
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
            _replace_menus(
                session,
                {
                    ids[r.values["code"]]: [
                        (direction, title)
                        for direction, key in (("offer", "offers"), ("need", "needs"))
                        for title in r.values.get(key, [])
                    ]
                    for r in menus
                },
            )


Snapshot = dict[str, dict[str, Any]]
"""A table's rows by code: every column's value."""


def _snapshot(session: Session, model: Any) -> Snapshot:
    columns = model.__table__.columns
    return {row.code: dict(row._mapping) for row in session.execute(select(*columns))}


def _redacted(model: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    secret = getattr(model, "__audit_redact__", ())
    return {k: REDACTED if k in secret and v is not None else v for k, v in values.items()}


def _upsert(
    session: Session,
    model: Any,
    records: list[dict[str, Any]],
    existing: dict[str, int],
    report: ImportReport,
    *,
    new_defaults: dict[str, Any] | None = None,
    before: Snapshot | None = None,
) -> dict[str, int]:
    """Create the records whose code is new, update those that differ from what is recorded
    (a row equal to its record is left alone); log each in the audit log; return every code's
    id."""
    current = before if before is not None else _snapshot(session, model)
    new = [{**(new_defaults or {}), **r} for r in records if r["code"] not in existing]
    changed: list[dict[str, Any]] = []
    changes: list[tuple[str, object, Mapping[str, Any] | None, Mapping[str, Any] | None]] = []
    for r in records:
        if r["code"] not in existing:
            continue
        old = current[r["code"]]
        diff = {k for k, v in r.items() if old.get(k) != v}
        if diff:
            ident = existing[r["code"]]
            changed.append({"id": ident, **r})
            changes.append(
                (
                    "update",
                    ident,
                    _redacted(model, {k: old.get(k) for k in diff}),
                    _redacted(model, {k: r[k] for k in diff}),
                )
            )
    if new:
        session.execute(insert(model), new)
    if changed:
        session.execute(update(model), changed)
    ids = _codes(session, model)
    changes += [
        ("create", ids[r["code"]], None, _redacted(model, {"id": ids[r["code"]], **r})) for r in new
    ]
    record_many(session, model.__tablename__, changes)
    report.created, report.updated = len(new), len(changed)
    return ids


def _register(
    session: Session, who: Any, registrations: list[tuple[int, int, dict[str, Any]]]
) -> None:
    """Record (or re-date) the registration of each row that gives a date; log each change."""
    dated = [
        (ident, community, v["registered_on"])
        for ident, community, v in registrations
        if "registered_on" in v
    ]
    if not dated:
        return

    def recorded() -> dict[tuple[int, int], tuple[int, Any]]:
        return {
            (ident, community): (reg_id, on)
            for reg_id, ident, community, on in session.execute(
                select(
                    Registration.id, who, Registration.community_id, Registration.registered_on
                ).where(who.in_([d[0] for d in dated]))
            )
        }

    existing = recorded()
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    changes: list[tuple[str, object, Mapping[str, Any] | None, Mapping[str, Any] | None]] = []
    for ident, community, on in dated:
        found = existing.get((ident, community))
        if found is None:
            new.append({who.key: ident, "community_id": community, "registered_on": on})
        elif found[1] != on:
            changed.append({"id": found[0], "registered_on": on})
            changes.append(("update", found[0], {"registered_on": found[1]}, {"registered_on": on}))
    if new:
        session.execute(insert(Registration), new)
        ids = recorded()
        for values in new:
            reg_id = ids[(values[who.key], values["community_id"])][0]
            changes.append(("create", reg_id, None, {"id": reg_id, **values}))
    if changed:
        session.execute(update(Registration), changed)
    record_many(session, Registration.__tablename__, changes)


def _replace_menus(session: Session, menus: dict[int, list[tuple[str, str]]]) -> None:
    """Give each agreement the menu of its row; one that already has it is left alone."""
    current: dict[int, list[tuple[int, str, str]]] = {ident: [] for ident in menus}
    for item_id, agreement, direction, title in session.execute(
        select(
            ServiceMenuItem.id,
            ServiceMenuItem.agreement_id,
            ServiceMenuItem.direction,
            ServiceMenuItem.title,
        )
        .where(ServiceMenuItem.agreement_id.in_(list(menus)))
        .order_by(ServiceMenuItem.id)
    ):
        current[agreement].append((item_id, direction, title))
    replaced = [a for a, items in menus.items() if [i[1:] for i in current[a]] != items]
    if not replaced:
        return
    changes: list[tuple[str, object, Mapping[str, Any] | None, Mapping[str, Any] | None]] = [
        ("delete", item_id, {"id": item_id, "agreement_id": a, "direction": d, "title": t}, None)
        for a in replaced
        for item_id, d, t in current[a]
    ]
    session.execute(delete(ServiceMenuItem).where(ServiceMenuItem.agreement_id.in_(replaced)))
    items = [
        {"agreement_id": a, "direction": direction, "title": title}
        for a in replaced
        for direction, title in menus[a]
    ]
    if items:
        session.execute(insert(ServiceMenuItem), items)
        for item_id, a, d, t in session.execute(
            select(
                ServiceMenuItem.id,
                ServiceMenuItem.agreement_id,
                ServiceMenuItem.direction,
                ServiceMenuItem.title,
            ).where(ServiceMenuItem.agreement_id.in_(replaced))
        ):
            changes.append(
                (
                    "create",
                    item_id,
                    None,
                    {"id": item_id, "agreement_id": a, "direction": d, "title": t},
                )
            )
    record_many(session, ServiceMenuItem.__tablename__, changes)
