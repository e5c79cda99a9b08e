"""Imports, templates and exports of every registry kind (members, units, agreements, the
organisation, service centres, venues, volunteer teams), from and to the CSV or XLSX files
people keep. Above the domain packages (``hub.org``, ``hub.venues``), whose tables it writes."""

from __future__ import annotations

from hub.roster.importer import COLUMNS, ImportReport, RosterKind, RowError, import_roster
from hub.roster.report import ROSTER_KINDS
from hub.roster.table import FileFormat, ReadLimits, TableError, format_of

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
