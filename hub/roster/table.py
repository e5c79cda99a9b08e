"""Reading a roster file (CSV or XLSX) into rows of text cells, with their line numbers.

CSV comes as spreadsheets save it: UTF-8 with or without a byte-order mark, or GB18030 (what
Chinese Excel writes). XLSX is read from its first sheet; dates become ``YYYY-MM-DD`` and whole
numbers lose their ``.0``. Blank lines are skipped but keep their numbers, so a reported line is
the line a person sees in their spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from hub.roster import xlsx
from hub.roster.limits import ReadLimits, TableError

__all__ = ["FileFormat", "ReadLimits", "Row", "Table", "TableError", "format_of", "read_table"]

FileFormat = Literal["csv", "xlsx"]


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


def read_table(data: bytes, file_format: FileFormat, limits: ReadLimits | None = None) -> Table:
    """The file's rows, read as a stream that stops at the first row over ``limits.max_rows``."""
    limits = limits or ReadLimits()
    lines = _xlsx_lines(data, limits) if file_format == "xlsx" else _csv_lines(data, limits)
    header: list[str] | None = None
    rows: list[Row] = []
    for number, cells in lines:
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            continue
        if len(rows) >= limits.max_rows:
            raise TableError(f"more than {limits.max_rows} rows: split the file")
        padded = [*cells, *[""] * (len(header) - len(cells))]
        rows.append(Row(number, {h: v.strip() for h, v in zip(header, padded, strict=False) if h}))
    if header is None:
        raise TableError("the file is empty: the first line must name the columns")
    return Table(header, rows)


def _csv_lines(data: bytes, limits: ReadLimits) -> Iterator[tuple[int, list[str]]]:
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
    reader = csv.reader(_bounded_lines(io.StringIO(text, newline=""), limits.max_line_chars))
    try:
        for row in reader:
            if len(row) > limits.max_columns:  # empty cells past the last column are let go
                last = max(i for i, cell in enumerate(row, start=1) if cell.strip() or i == 1)
                if last > limits.max_columns:
                    raise TableError(
                        f"line {reader.line_num}: a value in column {last}; a roster has at "
                        f"most {limits.max_columns} columns"
                    )
            yield reader.line_num, row[: limits.max_columns]
    except csv.Error as exc:
        raise TableError(f"line {reader.line_num}: not valid CSV: {exc}") from None


def _bounded_lines(lines: Iterable[str], most: int) -> Iterator[str]:
    """The file's lines, refusing one longer than ``most`` characters before csv splits it."""
    for number, line in enumerate(lines, start=1):
        if len(line) > most:
            raise TableError(f"line {number}: longer than {most} characters")
        yield line


def _xlsx_lines(data: bytes, limits: ReadLimits) -> Iterator[tuple[int, list[str]]]:
    for number, values in xlsx.read_rows(data, limits):
        yield number, [_cell_text(value) for value in values]


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
