"""Reading a roster file (CSV or XLSX) into rows of text cells, with their line numbers.

CSV comes as spreadsheets save it: UTF-8 with or without a byte-order mark, or GB18030 (what
Chinese Excel writes). XLSX is read from its first sheet; dates become ``YYYY-MM-DD`` and whole
numbers lose their ``.0``. Blank lines are skipped but keep their numbers, so a reported line is
the line a person sees in their spreadsheet.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from openpyxl import load_workbook

FileFormat = Literal["csv", "xlsx"]

MAX_ROWS = 50_000


class TableError(ValueError):
    """The file as a whole cannot be read (not CSV/XLSX, no header, too large)."""


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    cells: dict[str, str]
    """Header → stripped text; a missing cell is ``""``."""


@dataclass(frozen=True, slots=True)
class Table:
    header: list[str]
    rows: list[Row]


def format_of(filename: str) -> FileFormat:
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        return "xlsx"
    if lower.endswith(".csv"):
        return "csv"
    raise TableError(f"{filename}: give a .csv or .xlsx file")


def read_table(data: bytes, file_format: FileFormat) -> Table:
    lines = _xlsx_lines(data) if file_format == "xlsx" else _csv_lines(data)
    header: list[str] | None = None
    rows: list[Row] = []
    for number, cells in lines:
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            continue
        if len(rows) >= MAX_ROWS:
            raise TableError(f"more than {MAX_ROWS} rows: split the file")
        padded = [*cells, *[""] * (len(header) - len(cells))]
        rows.append(Row(number, {h: v.strip() for h, v in zip(header, padded, strict=False) if h}))
    if header is None:
        raise TableError("the file is empty: the first line must name the columns")
    return Table(header, rows)


def _csv_lines(data: bytes) -> list[tuple[int, list[str]]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise TableError("the CSV file is neither UTF-8 nor GB18030 text")
    if "\x00" in text:
        raise TableError("this is not a CSV text file (is it an .xlsx file named .csv?)")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise TableError(f"line {reader.line_num}: not valid CSV: {exc}") from None


def _xlsx_lines(data: bytes) -> list[tuple[int, list[str]]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TableError(f"not an .xlsx workbook: {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        return [
            (number, [_cell_text(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
