"""Hostile roster files: zip bombs (honest and lying), parts compressed too hard, too many parts,
tags or texts, a DTD, rows past the limit, endless CSV lines, values beyond the last column, a
sheet that claims to be a million rows wide and long. Each is refused with a message that says
why, before it costs memory; and the API reads one import at a time."""

from __future__ import annotations

import io
import socket
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import IO

import pytest
from openpyxl import Workbook

from hub.api import create_app
from hub.core.db import upgrade
from hub.core.settings import HubSettings
from hub.roster import ReadLimits, TableError
from hub.roster.table import read_table
from tests.hub.support import ApiServer, wait_until

SHEET = "xl/worksheets/sheet1.xml"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROW = (
    b'<row><c t="inlineStr"><is><t>M00001</t></is></c>'
    b'<c t="inlineStr"><is><t>name</t></is></c></row>'
)

# big_bomb (module scope) takes seconds to build: built once, on one worker
pytestmark = pytest.mark.xdist_group("zip-bomb")


def workbook(*rows: list[object]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)  # type: ignore[union-attr]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rezip(data: bytes, parts: dict[str, Part], level: int = 6) -> bytes:
    """``data`` with the parts named in ``parts`` written by their function instead."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for info in source.infolist():
            write = parts.get(info.filename)
            if write is None:
                archive.writestr(info, source.read(info))
            else:
                write(archive, zipfile.ZipInfo(info.filename, info.date_time))
    return out.getvalue()


Body = Callable[[IO[bytes]], object]
Part = Callable[[zipfile.ZipFile, zipfile.ZipInfo], None]


def sheet_of(body: Body, dimension: str = "A1:B1") -> Part:
    """A sheet part: its XML head, then whatever ``body`` writes into ``<sheetData>``."""

    def write(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as part:
            part.write(
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b'<dimension ref="' + dimension.encode() + b'"/><sheetData>'
                b'<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c>'
                b'<c r="B1" t="inlineStr"><is><t>name</t></is></c></row>'
            )
            body(part)
            part.write(b"</sheetData></worksheet>")

    return write


def repeated(size: int) -> Body:
    chunk = ROW * (1024 * 1024 // len(ROW))

    def body(part: IO[bytes]) -> None:
        for _ in range(size // len(chunk)):
            part.write(chunk)

    return body


def bomb(size: int, level: int) -> bytes:
    """A valid workbook whose sheet is ``size`` bytes of the same row over and over."""
    return rezip(workbook(["code", "name"]), {SHEET: sheet_of(repeated(size))}, level)


def declare(data: bytes, name: str, size: int) -> bytes:
    """The archive with ``name``'s entry in the zip directory claiming ``size`` unpacked bytes."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        length = int.from_bytes(out[at + 28 : at + 30], "little")
        if out[at + 46 : at + 46 + length] == name.encode():
            out[at + 24 : at + 28] = size.to_bytes(4, "little")
            return bytes(out)
        at = out.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{name} is not in the archive")


@pytest.fixture(scope="module")
def big_bomb() -> bytes:
    """210 MB of sheet XML in about 1.7 MB (deflate's fastest level; level 9 packs it into
    a few hundred kB, but takes seconds to build)."""
    return bomb(210 * 1024 * 1024, level=1)


def refusal(data: bytes, file_format: str = "xlsx", limits: ReadLimits | None = None) -> str:
    """The message ``data`` is refused with."""
    with pytest.raises(TableError) as refused:
        read_table(data, file_format, limits)  # type: ignore[arg-type]
    return str(refused.value)


def peak_mb(read: Callable[[], object]) -> float:
    """The most memory Python held while ``read`` ran, in MB."""
    tracemalloc.start()
    try:
        read()
    except TableError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak / 1e6


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(big_bomb: bytes) -> None:
    assert len(big_bomb) < 3 * 1024 * 1024
    message = refusal(big_bomb)
    assert "the workbook unpacks to 22" in message  # 220,2xx,xxx bytes with the other parts
    assert "may unpack to at most 67,100,000" in message
    assert peak_mb(lambda: read_table(big_bomb, "xlsx")) < 10


def test_a_header_that_lies_about_the_size_is_caught_while_reading(big_bomb: bytes) -> None:
    liar = declare(big_bomb, SHEET, 50_000)
    assert zipfile.ZipFile(io.BytesIO(liar)).getinfo(SHEET).file_size == 50_000
    message = refusal(liar)
    assert f"{SHEET} does not match its header, which says it unpacks to 50,000 bytes" in message
    assert peak_mb(lambda: read_table(liar, "xlsx")) < 10
    # And one that claims more than it holds is read for what it holds.
    small = rezip(workbook(["code", "name"], ["M1", "王晓东"]), {})
    table = read_table(declare(small, "xl/styles.xml", 900_000), "xlsx")
    assert [row.cells for row in table.rows] == [{"code": "M1", "name": "王晓东"}]


def test_a_part_compressed_too_hard_is_refused() -> None:
    dense = bomb(20 * 1024 * 1024, level=9)  # within the size bound, at about 1000:1
    message = refusal(dense)
    assert f"{SHEET} is compressed" in message
    assert "more than 100:1 is refused" in message


def _many_parts(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    archive.writestr(info, b"")
    for n in range(300):
        archive.writestr(f"docProps/extra{n}.xml", b"")


def _empty_rows(count: int) -> Body:
    return lambda part: part.write(b"<row/>" * count)


@pytest.mark.parametrize(
    ("parts", "limits", "expected"),
    [
        ({"docProps/app.xml": _many_parts}, None, "the workbook holds more than 200 parts"),
        (
            {SHEET: sheet_of(_empty_rows(100_000))},  # 600 kB, no data row: no row limit
            ReadLimits(max_rows=1000),
            "the workbook holds more than 80,000 XML tags",
        ),
        (
            {SHEET: sheet_of(lambda p: p.write(b'<row r="2"><c r="A2"><v>1</c></row>'))},
            None,
            f"{SHEET} is not valid XML",
        ),
    ],
    ids=["parts", "tags", "xml"],
)
def test_hostile_archives_are_refused(
    parts: dict[str, Part], limits: ReadLimits | None, expected: str
) -> None:
    assert expected in refusal(rezip(workbook(["code", "name"]), parts), limits=limits)


def test_a_dtd_is_refused() -> None:
    def laughs(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        archive.writestr(
            info,
            b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<sheetData><row><c t="inlineStr"><is><t>&b;</t></is></c></row></sheetData>'
            b"</worksheet>",
        )

    assert f"{SHEET} declares a DTD" in refusal(rezip(workbook(["x"]), {SHEET: laughs}))


def test_rows_are_limited_while_reading() -> None:
    limits = ReadLimits(max_rows=100)
    rows = [["code", "name"], *([f"M{n}", "王晓东"] for n in range(101))]
    # What follows the 101st row is never read: it would be refused for another reason.
    text = "\n".join(",".join(row) for row in rows) + "\n" + "x" * 70_000 + "\n"
    assert refusal(text.encode(), "csv", limits) == "more than 100 rows: split the file"
    # openpyxl's sheet, then 120 kB of empty rows (read in 16 kB pieces), then broken XML
    source = zipfile.ZipFile(io.BytesIO(workbook(*rows))).read(SHEET)
    cut = source.replace(
        b"</sheetData>", b"<row/>" * 20_000 + b'<row r="99999"><c><v>1</c></row></sheetData>'
    )
    broken = rezip(workbook(*rows), {SHEET: lambda archive, info: archive.writestr(info, cut)})
    assert refusal(broken, limits=limits) == "more than 100 rows: split the file"
    assert len(read_table(workbook(*rows[:101]), "xlsx", limits).rows) == 100


def test_csv_lines_and_columns_are_bounded() -> None:
    long_line = "code,name\nM1," + "王" * 70_000 + "\n"
    assert refusal(long_line.encode(), "csv") == "line 2: longer than 65536 characters"
    wide = "code,name\nM1,x" + "," * 40 + "far\n"
    assert refusal(wide.encode(), "csv") == (
        "line 2: a value in column 42; a roster has at most 32 columns"
    )
    # Empty cells past the last column (Excel saves its whole used range) are not values.
    padded = "code,name" + "," * 40 + "\nM1,x" + "," * 40 + "\n"
    assert [row.cells for row in read_table(padded.encode(), "csv").rows] == [
        {"code": "M1", "name": "x"}
    ]


def test_a_value_beyond_the_last_column_is_refused_and_a_lying_dimension_costs_nothing() -> None:
    wide = [None] * 39 + ["far"]
    assert (
        refusal(workbook(["code", "name"], ["M1", "x", *wide]))
        == "line 2: a value in column 42; a roster has at most 32 columns"
    )
    # A sheet that claims every cell Excel has: openpyxl pads each row to 16,384 cells and
    # the sheet to 1,048,576 rows; only the cells that are there are read.
    rows = sheet_of(lambda p: p.write(ROW), dimension="A1:XFD1048576")
    table = read_table(rezip(workbook(["code"]), {SHEET: rows}), "xlsx")
    assert [row.cells for row in table.rows] == [{"code": "M00001", "name": "name"}]


def test_an_excel_style_workbook_reads_and_its_texts_are_bounded(tmp_path: Path) -> None:
    """Excel keeps text in a shared-strings part and dates as numbers with a date style."""
    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    strings = [b"code", b"name", b"registered_on", b"M1", "王晓东".encode()]
    sst = b"<sst " + ns + b">" + b"".join(b"<si><t>" + s + b"</t></si>" for s in strings)
    styles = (
        b"<styleSheet " + ns + b'><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/>'
        b"</cellXfs></styleSheet>"
    )
    cells = b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
    cells += b'<c r="C1" t="s"><v>2</v></c></row><row r="3"><c r="A3" t="s"><v>3</v></c>'
    cells += b'<c r="B3" t="s"><v>4</v></c><c r="C3" s="1"><v>46082</v></c></row>'

    def write(text: bytes) -> Part:
        return lambda archive, info: archive.writestr(info, text)

    def with_strings(parts: bytes) -> bytes:
        rels = zipfile.ZipFile(io.BytesIO(workbook(["x"]))).read("xl/_rels/workbook.xml.rels")
        rels = rels.replace(
            b"</Relationships>",
            b'<Relationship Id="rS" Target="sharedStrings.xml" Type="http://schemas.'
            b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
            b"</Relationships>",
        )
        data = rezip(
            workbook(["x"]),
            {
                SHEET: write(
                    b"<worksheet " + ns + b"><sheetData>" + cells + b"</sheetData></worksheet>"
                ),
                "xl/styles.xml": write(styles),
                "xl/_rels/workbook.xml.rels": write(rels),
            },
        )
        archive = io.BytesIO(data)
        with zipfile.ZipFile(archive, "a") as book:
            book.writestr("xl/sharedStrings.xml", parts)
        return archive.getvalue()

    table = read_table(with_strings(sst + b"</sst>"), "xlsx")
    assert [(row.line, row.cells) for row in table.rows] == [
        (3, {"code": "M1", "name": "王晓东", "registered_on": date(2026, 3, 1).isoformat()})
    ]
    many = sst + b"<si><t>x</t></si>" * 300 + b"</sst>"
    assert refusal(with_strings(many), limits=ReadLimits(max_rows=5, max_columns=40)) == (
        "the workbook holds more than 240 texts"
    )


# The API: limits from the settings, one import at a time.


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiServer]:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    settings = HubSettings(database_url=url, mode="demo", import_max_rows=5)
    with ApiServer(create_app(settings)) as server:
        yield server


def test_the_api_refuses_a_bomb_and_rows_past_its_limit(api: ApiServer, big_bomb: bytes) -> None:
    response = api.http.post(
        "/api/v1/imports/members?format=xlsx", content=big_bomb, headers={"Content-Type": XLSX}
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["line"] == 0
    assert "the workbook unpacks to" in error["reason"]
    rows = "code,name,unit_code,community_code\n" + "M1,王晓东,U1,C1\n" * 6
    response = api.http.post(
        "/api/v1/imports/members", content=rows.encode(), headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["reason"] == "more than 5 rows: split the file"


def test_one_import_is_read_at_a_time(api: ApiServer) -> None:
    port = api.http.base_url.port
    assert port is not None
    first = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        first.sendall(
            b"POST /api/v1/imports/members?format=csv HTTP/1.1\r\nHost: hub\r\n"
            b"Authorization: Bearer " + (api.token or "").encode() + b"\r\n"
            b"Content-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\ncode,\r\n"  # the rest of the file is not sent yet: the import is busy reading
        )
        csv = {"Content-Type": "text/csv"}
        app = api.server.config.app
        # Only once the first holds the slot: a second sent earlier could take it first, and then
        # the first would be the one turned away.
        wait_until(
            lambda: getattr(getattr(app.state, "import_slots", None), "busy", 0) == 1,
            timeout=30,
            what="the first import to be reading",
        )
        busy = api.http.post("/api/v1/imports/units", content=b"code\n", headers=csv)
        assert busy.status_code == 503, busy.text
        assert busy.headers["Retry-After"] == "5"
        assert "1 roster import(s) are being read" in busy.json()["detail"]
        first.sendall(b"4\r\nname\r\n0\r\n\r\n")
        answer = _response(first)
        assert answer.startswith(b"HTTP/1.1 422"), answer[:200]  # read and checked: header only
    finally:
        first.close()
    after = api.http.post("/api/v1/imports/units", content=b"code\n", headers=csv)
    assert after.status_code == 422, after.text  # the slot is free again


def _response(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    return data
