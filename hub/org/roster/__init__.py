"""Roster import: members, units and agreements from the CSV or XLSX files people keep."""

from __future__ import annotations

from hub.org.roster.importer import COLUMNS, ImportReport, RosterKind, RowError, import_roster
from hub.org.roster.report import ROSTER_KINDS
from hub.org.roster.table import FileFormat, ReadLimits, TableError, format_of

__all__ = [
    "COLUMNS",
    "ROSTER_KINDS",
    "FileFormat",
    "ImportReport",
    "ReadLimits",
    "RosterKind",
    "RowError",
    "TableError",
    "format_of",
    "import_roster",
]
