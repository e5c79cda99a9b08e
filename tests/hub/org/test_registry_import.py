"""Imports of the registry kinds: 52 venues from one workbook, all or none; every kind from its
own template; a re-import of an export changes nothing; each row written is in the audit log."""

from __future__ import annotations

import io
from datetime import date, time
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import Workbook
from sqlalchemy import Engine

from hub.audit import Actor, AuditEntry, act_as
from hub.org.models import (
    Agreement,
    Alliance,
    Community,
    Grid,
    Member,
    PartyOrg,
    ServiceCentre,
    Subdistrict,
    VolunteerTeam,
)
from hub.org.roster import COLUMNS, RosterKind, import_roster
from hub.org.roster.exports import export_header, export_rows
from hub.org.roster.sheets import to_csv, to_xlsx
from hub.org.roster.templates import template
from hub.venues.models import Venue, VenueHours
from tests.hub.org.support import City
from tests.hub.support import CARD_KEY

VENUE_HEADER = [
    "编号",
    "名称",
    "类型",
    "单位编号",
    "社区编号",
    "地址",
    "容量",
    "开放时间",
    "关闭时间",
    "预警阈值",
    "开放日期",
    "纬度",
    "经度",
    "公开人数",
    "周六",
    "周日",
]


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def venue_row(n: int) -> list[Any]:
    return [
        f"venue-{n:02d}",
        f"单位U01停车场{n}",
        "停车场" if n % 2 else "运动场",
        "U01",
        "C01",
        f"原平市新建路{n}号",
        20 + n,
        "06:00",
        "22:00",
        85,
        date(2026, 3, 1),  # a date cell, as Excel keeps it
        38.7 + n / 1000,
        112.7 + n / 1000,
        "是" if n % 3 == 0 else "否",
        "08:00-20:00",
        "休息",
    ]


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_52_venues_from_xlsx_all_or_with_one_bad_row_none(city: City, engine: Engine) -> None:
    city.add_unit("U01")
    city.commit()
    rows = [venue_row(n) for n in range(1, 53)]
    bad = [list(row) for row in rows]
    bad[29][6] = 0  # venue-30's capacity: line 31 of the sheet (the header is line 1)
    report = import_roster(
        city.session, "venues", workbook([VENUE_HEADER, *bad]), "xlsx", card_key=None
    )
    assert [(e.line, e.column) for e in report.errors] == [(31, "capacity")]
    assert "out of range" in report.errors[0].reason
    assert (report.created, count(engine, Venue), count(engine, VenueHours)) == (0, 0, 0)

    act_as(city.session, Actor(name="li.records", source="import"))
    report = import_roster(
        city.session, "venues", workbook([VENUE_HEADER, *rows]), "xlsx", card_key=None
    )
    assert report.errors == []
    assert (report.rows, report.created, report.updated) == (52, 52, 0)
    assert count(engine, Venue) == 52
    venue = city.session.get(Venue, "venue-30")
    assert venue is not None
    assert (venue.capacity, venue.alert_threshold_pct, venue.opened_on) == (
        50,
        85.0,
        date(2026, 3, 1),
    )
    assert (venue.latitude, venue.public_count, venue.kind) == (
        pytest.approx(38.73),
        True,
        "运动场" and "sports_ground",
    )
    hours = city.session.scalars(
        sa.select(VenueHours).where(VenueHours.venue_id == "venue-30").order_by(VenueHours.weekday)
    ).all()
    assert [(h.weekday, h.opens_at, h.closes_at) for h in hours] == [
        (5, time(8), time(20)),
        (6, None, None),
    ]
    with engine.connect() as conn:
        logged = conn.execute(
            sa.select(AuditEntry.table_name, AuditEntry.actor, AuditEntry.source, AuditEntry.action)
        ).all()
    assert logged.count(("venues", "li.records", "import", "create")) == 52
    assert logged.count(("venue_hours", "li.records", "import", "create")) == 104


def test_every_cell_of_a_bad_row_is_named(city: City) -> None:
    city.add_unit("U01")
    city.commit()
    row = venue_row(1)
    row[2], row[6], row[8], row[9], row[11], row[14] = "泳池", 1_000_001, "25:00", 0, 91, "8-20"
    row[12] = None  # a latitude without a longitude
    report = import_roster(
        city.session, "venues", workbook([VENUE_HEADER, row]), "xlsx", card_key=None
    )
    assert {(e.line, e.column) for e in report.errors} == {
        (2, "kind"),
        (2, "capacity"),
        (2, "closes_at"),
        (2, "alert_threshold_pct"),
        (2, "latitude"),
        (2, "sat"),
    }


FILL: dict[RosterKind, dict[str, Any]] = {
    "subdistricts": {"code": "SD09", "name": "新建街道"},
    "communities": {
        "code": "C09",
        "name": "新建社区",
        "subdistrict_code": "SD01",
        "centre_id": "centre-01",
    },
    "grids": {"code": "G901", "name": "新建社区", "community_code": "C01", "level": 1},
    "party-orgs": {
        "code": "P901",
        "name": "新建街道党工委",
        "kind": "街道党工委",
        "subdistrict_code": "SD01",
    },
    "alliances": {"code": "A09", "name": "新建党建联盟", "subdistrict_code": "SD01"},
    "service-centres": {"id": "centre-09", "name": "新建党群服务中心", "community_code": "C01"},
    "venues": {
        "id": "venue-09",
        "name": "新建停车场",
        "kind": "停车场",
        "unit_code": "U01",
        "community_code": "C01",
        "address": "原平市新建路1号",
        "capacity": 60,
        "opens_at": "07:00",
        "closes_at": "21:00",
        "sun": "休息",
    },
    "volunteer-teams": {
        "code": "V09",
        "name": "新建志愿服务队",
        "kind": "小组",
        "community_code": "C01",
    },
}
CREATED: dict[RosterKind, tuple[Any, Any, Any]] = {
    "subdistricts": (Subdistrict, Subdistrict.code, "SD09"),
    "communities": (Community, Community.code, "C09"),
    "grids": (Grid, Grid.code, "G901"),
    "party-orgs": (PartyOrg, PartyOrg.code, "P901"),
    "alliances": (Alliance, Alliance.code, "A09"),
    "service-centres": (ServiceCentre, ServiceCentre.id, "centre-09"),
    "venues": (Venue, Venue.id, "venue-09"),
    "volunteer-teams": (VolunteerTeam, VolunteerTeam.code, "V09"),
}


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_each_kind_imports_from_its_template(city: City, file_format: str) -> None:
    city.add_unit("U01")
    city.commit()
    for kind, values in FILL.items():
        header, (example,) = template(kind)
        assert len(header) == len(example)
        assert all(h for h in header)
        # the template's header names every column in Chinese; the example row is replaced
        row = [values.get(column.key) for column in COLUMNS[kind]]
        data = to_xlsx(header, [row], kind) if file_format == "xlsx" else to_csv(header, [row])
        report = import_roster(city.session, kind, data, file_format, card_key=None)  # type: ignore[arg-type]
        assert (report.errors, report.created) == ([], 1), kind
        model, key, value = CREATED[kind]
        assert city.session.scalars(sa.select(model).where(key == value)).one(), kind


def test_grids_and_party_orgs_take_parents_from_the_same_file(city: City) -> None:
    grids = "编号,名称,社区编号,层级,上级网格编号\nG3,3号楼,C01,3,G2\nG2,第一网格,C01,2,G1\nG1,新原社区,C01,1,\n"
    report = import_roster(city.session, "grids", grids.encode(), "csv", card_key=None)
    assert (report.errors, report.created) == ([], 3)
    found = {g.code: g for g in city.session.scalars(sa.select(Grid))}
    assert found["G3"].parent_id == found["G2"].id
    assert found["G2"].parent_id == found["G1"].id
    bad = "编号,名称,社区编号,层级,上级网格编号\nG4,4号楼,C01,3,G1\nG5,第二网格,C01,2,\n"
    report = import_roster(city.session, "grids", bad.encode(), "csv", card_key=None)
    assert [(e.line, e.column) for e in report.errors] == [(2, "parent_code"), (3, "parent_code")]
    orgs = (
        "编号,名称,类型,上级组织编号\nP1,街道党工委,街道党工委,\nP2,社区党委,社区党委,P1\n"
        "P3,网格党支部,网格党支部,P1\n"
    )
    report = import_roster(city.session, "party-orgs", orgs.encode(), "csv", card_key=None)
    assert [(e.line, e.column, e.reason) for e in report.errors] == [
        (4, "parent_code", "'P1' is not one level up")
    ]


def test_a_reimported_export_changes_nothing(city: City, engine: Engine) -> None:
    unit = city.add_unit("U01")
    city.add_member(unit, name="欧阳娜娜", registered_on=date(2026, 3, 1))
    city.add_member(unit, name="张伟", card="0A1B2C3D4E")
    city.add(
        Agreement(
            code="XY01", community_id=city.community.id, unit_id=unit.id, signed_on=date(2026, 1, 1)
        )
    )
    city.commit()
    rows = [venue_row(n) for n in range(1, 4)]
    rows[0][3] = "U01"
    assert import_roster(
        city.session, "venues", workbook([VENUE_HEADER, *rows]), "xlsx", card_key=None
    ).ok
    city.session.execute(
        sa.update(Venue)
        .where(Venue.id == "venue-01")
        .values(agreement_id=city.session.scalar(sa.select(Agreement.id)))
    )
    city.commit()
    before = count(engine, AuditEntry)
    kinds: list[RosterKind] = [
        "subdistricts",
        "communities",
        "alliances",
        "units",
        "agreements",
        "service-centres",
        "venues",
        "members",
    ]
    for kind in kinds:
        for file_format in ("csv", "xlsx"):
            header = export_header(kind)
            cells = list(export_rows(city.session, kind, []))
            assert cells, kind
            data = to_xlsx(header, cells, kind) if file_format == "xlsx" else to_csv(header, cells)
            report = import_roster(city.session, kind, data, file_format, card_key=CARD_KEY)  # type: ignore[arg-type]
            assert (report.errors, report.created, report.updated) == ([], 0, 0), (
                kind,
                file_format,
            )
    assert count(engine, AuditEntry) == before, "nothing was written"
    city.session.expire_all()
    names = sorted(city.session.scalars(sa.select(Member.name)))
    assert names == ["张伟", "欧阳娜娜"], "the masked names kept the recorded ones"


def test_member_import_changes_are_audited_with_secrets_redacted(
    city: City, engine: Engine
) -> None:
    unit = city.add_unit("U01")
    member = city.add_member(unit, name="张伟")
    city.commit()
    act_as(city.session, Actor(name="li.records", source="import", request_id="r-1"))
    text = f"编号,姓名,单位编号,社区编号,卡号,报到日期\n{member.code},张伟,U01,C01,0A1B2C3D4E,2026-03-01\nM09999,李娜,U01,C01,,\n"
    report = import_roster(city.session, "members", text.encode(), "csv", card_key=CARD_KEY)
    assert (report.errors, report.created, report.updated) == ([], 1, 1)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(AuditEntry).where(AuditEntry.source == "import").order_by(AuditEntry.id)
        ).all()
    by = {(r.table_name, r.action): r for r in rows}
    update = by["members", "update"]
    assert (update.actor, update.request_id, update.row_id) == ("li.records", "r-1", str(member.id))
    assert (update.before, update.after) == ({"card_hash": None}, {"card_hash": "(redacted)"})
    assert by["members", "create"].after["name"] == "李娜"
    assert by["registrations", "create"].after["registered_on"] == "2026-03-01"
