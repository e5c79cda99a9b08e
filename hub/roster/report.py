"""What an import answers (every problem with its line and column) and the checks every kind
shares: references by code, duplicates within the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

RosterKind = Literal[
    "members",
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
]
ROSTER_KINDS: tuple[RosterKind, ...] = get_args(RosterKind)


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
    """Rows matched to a record and changed; a matched row that changes nothing is neither."""
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Parsed:
    line: int
    values: dict[str, Any]


Known = dict[str, tuple[Any, bool]]
"""A table's key (code or id) → (its id, whether it is archived)."""


class Checker:
    """Collects the errors of a file."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report

    def error(self, line: int, column: str | None, reason: str) -> None:
        self.report.errors.append(RowError(line, column, reason))

    def lookup(self, row: Parsed, column: str, known: dict[str, int], what: str) -> int | None:
        value = row.values.get(column)
        if value is None:
            return None
        found = known.get(value)
        if found is None:
            self.error(row.line, column, f"no {what} with code {value!r}")
        return found

    def refer(self, row: Parsed, column: str, known: Known, what: str) -> Any:
        """The id the cell refers to; an error for a code that is not there or archived."""
        value = row.values.get(column)
        if value is None:
            return None
        found = known.get(value)
        if found is None:
            self.error(row.line, column, f"no {what} {value!r}")
            return None
        ident, archived = found
        if archived:
            self.error(row.line, column, f"{what} {value!r} is archived")
            return None
        return ident

    def unique(self, rows: list[Parsed], column: str) -> None:
        first: dict[Any, int] = {}
        for row in rows:
            value = row.values.get(column)
            if value is None:
                continue
            if value in first:
                self.error(row.line, column, f"{value!r} already on line {first[value]}")
            else:
                first[value] = row.line
