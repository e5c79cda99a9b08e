"""Roster import: a good file imports, a file with one bad row imports nothing and names it."""

from __future__ import annotations

import io

import sqlalchemy as sa
from openpyxl import Workbook
from sqlalchemy import Engine

from hub.org.models import Agreement, Member, Registration, ServiceMenuItem, Unit
from hub.roster import RowError, import_roster
from tests.hub.org.support import City, hashed
from tests.hub.support import CARD_KEY, CARD_KEYS

MEMBERS_CSV = """编号,姓名,单位编号,社区编号,卡号,报到日期
M001,王晓东,U01,C01,0a1b2c3d4e,2026-03-01
M002,李娜,U01,C01,,
M003,张伟,U02,C01,0000000003,2026/4/2
"""


def count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_good_members_file_imports_with_hashed_cards(city: City, engine: Engine) -> None:
    city.add_unit("U01")
    city.add_unit("U02")
    city.commit()
    report = import_roster(
        city.session, "members", MEMBERS_CSV.encode("gb18030"), "csv", card_key=CARD_KEY
    )
    assert report.errors == []
    assert (report.rows, report.created, report.updated) == (3, 3, 0)
    members = {m.code: m for m in city.session.scalars(sa.select(Member))}
    assert members["M001"].card_hash == hashed("0A1B2C3D4E")
    assert members["M002"].card_hash is None
    assert count(engine, Registration) == 2

    again = "code,name,unit_code,community_code,card,in_service\nM002,李娜,U02,C01,0000000002,否\n"
    report = import_roster(city.session, "members", again.encode(), "csv", card_key=CARD_KEY)
    assert (report.created, report.updated, report.errors) == (0, 1, [])
    city.session.expire_all()
    m002 = city.session.scalars(sa.select(Member).where(Member.code == "M002")).one()
    assert (m002.card_hash, m002.in_service) == (hashed("0000000002"), False)


def test_one_bad_row_imports_nothing_and_is_named(city: City, engine: Engine) -> None:
    city.add_unit("U01")
    city.commit()
    bad = MEMBERS_CSV.replace("M003,张伟,U02", "M003,张伟,U09").replace(
        "M002,李娜,U01,C01,,", "M002,=HYPERLINK(1),U01,C01,12345,"
    )
    report = import_roster(city.session, "members", bad.encode(), "csv", card_key=CARD_KEY)
    assert not report.ok
    assert (
        RowError(3, "name", "may not begin with = + - @ (spreadsheets would run it as a formula)")
        in report.errors
    )
    assert RowError(3, "card", "a card number is 10 hexadecimal digits (0-9, A-F)") in report.errors
    assert RowError(4, "unit_code", "no unit with code 'U09'") in report.errors
    assert len(report.errors) == 3
    assert count(engine, Member) == 0
    assert count(engine, Registration) == 0


def test_header_problems_and_duplicates_are_reported(city: City, engine: Engine) -> None:
    city.add_unit("U01")
    city.add_member(city.session.scalars(sa.select(Unit)).one(), card="0A1B2C3D4E")
    city.commit()
    text = "code,name,unit_code,card,phone\nM900,甲,U01,0A1B2C3D4E,1\nM900,乙,U01,,\n"
    report = import_roster(city.session, "members", text.encode(), "csv", card_key=CARD_KEY)
    reasons = {(e.line, e.column) for e in report.errors}
    assert (1, "phone") in reasons, "an unknown column is not silently dropped"
    assert (1, "community_code") in reasons
    report = import_roster(
        city.session,
        "members",
        b"code,name,unit_code,community_code,card\nM900,A,U01,C01,0A1B2C3D4E\nM900,B,U01,C01,\n",
        "csv",
        card_key=CARD_KEY,
    )
    assert RowError(3, "code", "'M900' already on line 2") in report.errors
    assert any(e.line == 2 and e.column == "card" and "enrolled" in e.reason for e in report.errors)
    assert count(engine, Member) == 1


def test_units_and_agreements_from_xlsx(city: City, engine: Engine) -> None:
    units = xlsx(
        [
            ["编号", "名称", "类型", "社区编号", "联盟编号", "报到日期"],
            ["U10", "原平市供电公司", "企业", "C01", "A01", "2026-01-05"],
            ["U11", "原平市第一中学", "institution", None, None, None],
        ]
    )
    report = import_roster(city.session, "units", units, "xlsx", card_key=None)
    assert (report.errors, report.created) == ([], 2)
    agreements = xlsx(
        [
            ["code", "community_code", "unit_code", "signed_on", "ends_on", "offers", "needs"],
            ["XY1", "C01", "U10", "2026-02-01", None, "义诊；法律咨询", "楼道照明"],
            ["XY2", "C01", "U11", "2026-02-01", "2026-01-01", None, None],
        ]
    )
    report = import_roster(city.session, "agreements", agreements, "xlsx", card_key=None)
    assert report.errors == [RowError(3, "ends_on", "ends before it was signed")]
    assert count(engine, Agreement) == 0
    good = xlsx(
        [
            ["code", "community_code", "unit_code", "signed_on", "offers", "needs"],
            ["XY1", "C01", "U10", "2026-02-01", "义诊；法律咨询", "楼道照明"],
        ]
    )
    report = import_roster(city.session, "agreements", good, "xlsx", card_key=None)
    assert (report.errors, report.created) == ([], 1)
    with engine.connect() as conn:
        menu = conn.execute(sa.select(ServiceMenuItem.direction, ServiceMenuItem.title)).all()
    assert sorted(map(tuple, menu)) == [
        ("need", "楼道照明"),
        ("offer", "义诊"),
        ("offer", "法律咨询"),
    ]
    assert count(engine, Registration) == 1  # U10's report to C01


def test_a_file_that_is_not_a_table(city: City) -> None:
    report = import_roster(city.session, "units", b"PK\x03\x04garbage", "xlsx", card_key=None)
    assert [(e.line, e.column) for e in report.errors] == [(0, None)]
    assert "xlsx" in report.errors[0].reason
    report = import_roster(city.session, "units", b"", "csv", card_key=None)
    assert "empty" in report.errors[0].reason


def test_cards_can_change_hands_within_one_file(city: City) -> None:
    unit = city.add_unit("U01")
    first = city.add_member(unit, card="0000000001")
    second = city.add_member(unit, card="0000000002")
    city.commit()
    header = "code,name,unit_code,community_code,card\n"
    swap = f"{first.code},甲,U01,C01,0000000002\n{second.code},乙,U01,C01,0000000001\n"
    report = import_roster(
        city.session,
        "members",
        (header + swap).encode(),
        "csv",
        card_key=CARD_KEY,
        card_seal=CARD_KEYS.seal,
    )
    assert (report.errors, report.updated) == ([], 2)
    city.session.expire_all()
    moved = city.session.get(Member, first.id)
    assert moved is not None
    assert moved.card_hash == hashed("0000000002")
    assert moved.card_sealed is not None, "the import fills the card vault"
    assert CARD_KEYS.open(moved.card_sealed) == "0000000002", "and it moves with the card"
    taken = f"{first.code},甲,U01,C01,\n{second.code},乙,U01,C01,0000000002\n"
    report = import_roster(
        city.session, "members", (header + taken).encode(), "csv", card_key=CARD_KEY
    )
    assert report.errors == [
        RowError(3, "card", f"this card is enrolled for member {first.code}")
    ], "a member of the file who keeps the card still holds it"
