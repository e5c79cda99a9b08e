"""The first sheet of an .xlsx workbook, read as a stream of rows within bounds.

An .xlsx is a zip of XML parts, and a few megabytes can unpack to gigabytes. So, before anything
is unpacked, the archive's directory is checked (how many parts, what they declare to unpack to,
how hard each is compressed); then every byte unpacked is counted against the same bound while
it is read, in small chunks, so a part whose header lies stops at its declared size (where
zipfile's CRC check fails it). The XML is parsed incrementally and each record (a row, a shared
string, a style) is dropped once read, so memory does not grow with the file, and the elements
parsed are counted, since each costs time whatever its size. The caller stops at its row limit.

openpyxl's own reader keeps every element it has parsed and spends about 25 µs per shared string:
a 76 kB upload of 50 MB of ``<si/>`` held it for 254 s at 1 GB (measured). Its helpers (number
formats, Excel dates) are used here; its reader is not.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO
from xml.etree.ElementTree import Element, ParseError, iterparse

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import (
    CALENDAR_MAC_1904,
    CALENDAR_WINDOWS_1900,
    from_excel,
)

from hub.roster.limits import ReadLimits, TableError

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_ROW, _C, _V, _IS, _T, _R = (_MAIN + tag for tag in ("row", "c", "v", "is", "t", "r"))

_CHUNK = 64 * 1024
_HELD_MAX = 100_000
"""Elements held at once, within one record (a row's cells: Excel allows 16,384)."""
_RATIO_FLOOR = 1024 * 1024
"""Parts smaller than this unpack to too little to matter, whatever their ratio."""
_EOCD = struct.Struct("<4s4H2LH")
_DIRECTORY_ENTRY_MAX = 1024
"""Bytes of the zip directory per part (46 and the part's name)."""

Value = object
"""``None``, text, a number, a bool, a datetime (a date-formatted number) or a timedelta."""


class _Budget:
    """What the whole workbook may still unpack to, and how many tags it may still hold."""

    def __init__(self, limits: ReadLimits) -> None:
        self.limits = limits
        self.unpacked = 0
        self.tags = 0

    def unpack(self, data: bytes) -> None:
        self.unpacked += len(data)
        if self.unpacked > self.limits.max_unpacked_bytes:
            raise TableError(
                f"the workbook unpacks to more than {self.limits.max_unpacked_bytes:,} bytes, "
                f"the most a roster of {self.limits.max_rows:,} rows may"
            )
        self.tags += data.count(b"<")  # in C: far cheaper than counting parsed elements
        if self.tags > self.limits.max_tags:
            raise TableError(
                f"the workbook holds more than {self.limits.max_tags:,} XML tags, "
                "far more than a roster needs"
            )


class _Counted:
    """A part being unpacked, in chunks, each counted against its declared size and the budget."""

    def __init__(self, member: IO[bytes], info: zipfile.ZipInfo, budget: _Budget) -> None:
        self.member, self.info, self.budget = member, info, budget
        self.seen = 0
        self.tail = b""

    def read(self, size: int = -1) -> bytes:
        try:
            data = self.member.read(_CHUNK if size < 0 or size > _CHUNK else size)
        except zipfile.BadZipFile as exc:  # zipfile's CRC check, at the size the header gave
            raise TableError(
                f"{self.info.filename} does not match its header, which says it unpacks to "
                f"{self.info.file_size:,} bytes: {exc}"
            ) from None
        self.seen += len(data)
        if self.seen > self.info.file_size:  # zipfile stops there; this says why if it did not
            raise TableError(f"{self.info.filename} unpacks to more than its header says")
        self.budget.unpack(data)
        window = self.tail + data[:16]
        if b"<!DOCTYPE" in window or b"<!DOCTYPE" in data:
            raise TableError(f"{self.info.filename} declares a DTD, which no workbook has")
        self.tail = data[-16:]
        return data


def _open_checked(data: bytes, limits: ReadLimits) -> zipfile.ZipFile:
    """The archive, once its directory is within bounds; nothing is unpacked yet."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 0xFFFF - _EOCD.size))
    if not data.startswith(b"PK") or end < 0 or len(data) - end < _EOCD.size:
        raise TableError("not an .xlsx workbook (not a zip archive)")
    entries, directory = _EOCD.unpack_from(data, end)[4:6]
    if entries > limits.max_members or directory > limits.max_members * _DIRECTORY_ENTRY_MAX:
        raise TableError(
            f"the workbook holds more than {limits.max_members} parts; a spreadsheet has about ten"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise TableError(f"not an .xlsx workbook: {exc}") from None
    infos = archive.infolist()
    declared = sum(info.file_size for info in infos)
    if len(infos) > limits.max_members:
        raise TableError(
            f"the workbook holds {len(infos)} parts; at most {limits.max_members} are read"
        )
    if declared > limits.max_unpacked_bytes:
        raise TableError(
            f"the workbook unpacks to {declared:,} bytes; a roster of {limits.max_rows:,} rows "
            f"may unpack to at most {limits.max_unpacked_bytes:,}"
        )
    for info in infos:
        if info.file_size > _RATIO_FLOOR and info.file_size > limits.max_ratio * max(
            1, info.compress_size
        ):
            ratio = info.file_size // max(1, info.compress_size)
            raise TableError(
                f"{info.filename} is compressed {ratio}:1 (a zip bomb?); "
                f"more than {limits.max_ratio}:1 is refused"
            )
    return archive


def _records(
    archive: zipfile.ZipFile, name: str, budget: _Budget, depth: int
) -> Iterator[tuple[Element, str | None]]:
    """(element, its parent's tag) for the elements of part ``name`` at ``depth`` or less (the
    root is 0) as each ends; each is then dropped from the tree, so that only the record in
    hand and its open ancestors are held."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise TableError(f"the workbook has no {name}") from None
    open_elements: list[Element] = []
    held = 0
    try:
        with archive.open(info) as member:
            # No DTD gets through _Counted, and expat 2.5 bounds entity expansion anyway.
            source = _Counted(member, info, budget)
            for event, element in iterparse(source, ("start", "end")):  # noqa: S314
                if event == "start":
                    held += 1
                    if held > _HELD_MAX:
                        raise TableError(
                            f"{name}: more than {_HELD_MAX:,} XML elements in one record"
                        )
                    open_elements.append(element)
                    continue
                open_elements.pop()
                if len(open_elements) <= depth:
                    parent = open_elements[-1] if open_elements else None
                    yield element, None if parent is None else parent.tag
                    element.clear()
                    if parent is not None:
                        parent.remove(element)
                    held = len(open_elements)
    except ParseError as exc:
        raise TableError(f"{name} is not valid XML: {exc}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise TableError(f"the workbook is damaged or encrypted: {exc}") from None


def _relationships(
    archive: zipfile.ZipFile, part: str, budget: _Budget
) -> dict[str, tuple[str, str]]:
    """Id → (type, target resolved against ``part``) of ``part``'s relationships."""
    folder, base = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", f"{base}.rels")
    found: dict[str, tuple[str, str]] = {}
    if rels not in archive.NameToInfo:
        return found
    for element, _parent in _records(archive, rels, budget, 1):
        if element.tag == f"{_PKG_REL}Relationship" and element.get("TargetMode") != "External":
            target = element.get("Target", "")
            path = target[1:] if target.startswith("/") else posixpath.join(folder, target)
            found[element.get("Id", "")] = (element.get("Type", ""), posixpath.normpath(path))
    return found


def _of_type(rels: dict[str, tuple[str, str]], kind: str) -> str | None:
    return next((target for type_, target in rels.values() if type_.endswith(kind)), None)


@dataclass
class _Book:
    sheet: str
    strings: list[str] = field(default_factory=list)
    date_styles: set[int] = field(default_factory=set)
    duration_styles: set[int] = field(default_factory=set)
    epoch: datetime = CALENDAR_WINDOWS_1900


def _book(archive: zipfile.ZipFile, budget: _Budget, limits: ReadLimits) -> _Book:
    workbook = _of_type(_relationships(archive, "", budget), "/officeDocument") or "xl/workbook.xml"
    rels = _relationships(archive, workbook, budget)
    sheet: str | None = None
    epoch = CALENDAR_WINDOWS_1900
    for element, _parent in _records(archive, workbook, budget, 2):
        if element.tag == f"{_MAIN}workbookPr" and element.get("date1904") in {"1", "true"}:
            epoch = CALENDAR_MAC_1904
        elif element.tag == f"{_MAIN}sheet" and sheet is None:
            kind, target = rels.get(element.get(f"{_DOC_REL}id", ""), ("", ""))
            if kind.endswith("/worksheet"):
                sheet = target
    if sheet is None:
        raise TableError("the workbook has no worksheet")
    book = _Book(sheet, epoch=epoch)
    styles = _of_type(rels, "/styles")
    if styles is not None:
        _read_styles(archive, styles, budget, book)
    strings = _of_type(rels, "/sharedStrings")
    if strings is not None:
        most = (limits.max_rows + 1) * limits.max_columns
        for element, _parent in _records(archive, strings, budget, 1):
            if element.tag == f"{_MAIN}si":
                if len(book.strings) >= most:
                    raise TableError(f"the workbook holds more than {most:,} texts")
                book.strings.append(_text(element).replace("x005F_", ""))  # as openpyxl does
    return book


def _read_styles(archive: zipfile.ZipFile, name: str, budget: _Budget, book: _Book) -> None:
    """Which cell styles show a number as a date (or a duration), as openpyxl decides it."""
    custom: dict[int, str] = {}
    formats: list[int] = []
    for element, parent in _records(archive, name, budget, 2):
        if element.tag == f"{_MAIN}numFmt":
            custom[_int(element.get("numFmtId"))] = element.get("formatCode", "")
        elif element.tag == f"{_MAIN}xf" and parent == f"{_MAIN}cellXfs":
            formats.append(_int(element.get("numFmtId")))
    for index, format_id in enumerate(formats):
        code = custom.get(format_id) or BUILTIN_FORMATS.get(format_id)
        if is_date_format(code):
            book.date_styles.add(index)
        if is_timedelta_format(code):
            book.duration_styles.add(index)


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        raise TableError(f"not a whole number in the workbook: {text!r}") from None


def _text(element: Element) -> str:
    """A string's text without its formatting or phonetic runs (openpyxl's ``Text.content``)."""
    parts: list[str] = []
    for child in element:
        if child.tag == _T:
            parts.append(child.text or "")
        elif child.tag == _R:
            parts.append(child.findtext(_T) or "")
    return "".join(parts)


def read_rows(data: bytes, limits: ReadLimits) -> Iterator[tuple[int, list[Value]]]:
    """(row number, values from column A) of each row of the first sheet that holds a value;
    a value is ``None``, text, a number, a bool or a datetime (a date-formatted number)."""
    archive = _open_checked(data, limits)
    budget = _Budget(limits)
    book = _book(archive, budget, limits)
    number = 0
    for element, _parent in _records(archive, book.sheet, budget, 2):
        if element.tag != _ROW:
            continue
        reference = element.get("r")
        number = _int(reference) if reference is not None else number + 1
        values: dict[int, Value] = {}
        column = 0
        for cell in element:
            if cell.tag != _C:
                continue
            ref = cell.get("r")
            column = _column(ref) if ref else column + 1
            value = _value(cell, book)
            if value is None:
                continue
            if column > limits.max_columns:
                raise TableError(
                    f"line {number}: a value in column {column}; a roster has at most "
                    f"{limits.max_columns} columns"
                )
            values[column] = value
        if values:
            yield number, [values.get(c) for c in range(1, max(values) + 1)]


_COLUMNS: dict[str, int] = {}


def _column(reference: str) -> int:
    """The column number of a cell reference such as ``AB12`` (28)."""
    letters = reference.rstrip("0123456789")
    index = _COLUMNS.get(letters)
    if index is None:
        if not 0 < len(letters) <= 3 or not (letters.isascii() and letters.isalpha()):
            raise TableError(f"cell {reference[:12]!r}: not a cell reference")
        index = 0
        for char in letters.upper():
            index = index * 26 + ord(char) - 64
        _COLUMNS[letters] = index  # at most 26 + 26² + 26³ of them
    return index


def _value(cell: Element, book: _Book) -> Value:
    """The cell's value as openpyxl gives it with ``data_only=True``."""
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(_IS)
        return None if inline is None else _text(inline)
    text = cell.findtext(_V)
    if not text:
        return None
    ref = cell.get("r", "?")
    try:
        if kind == "s":
            return book.strings[int(text)]
        if kind == "b":
            return bool(int(text))
        if kind == "d":  # an ISO 8601 date, rare (Excel writes numbers)
            return datetime.fromisoformat(text)
        if kind in {"str", "e"}:
            return text
        number: int | float = float(text) if "." in text or "e" in text.lower() else int(text)
    except (ValueError, IndexError):
        raise TableError(f"cell {ref[:12]}: cannot read {text[:40]!r}") from None
    style = _int(cell.get("s"))
    if style not in book.date_styles:
        return number
    try:
        return from_excel(number, book.epoch, timedelta=style in book.duration_styles)
    except (OverflowError, ValueError):
        return "#VALUE!"  # as openpyxl marks a date out of range
