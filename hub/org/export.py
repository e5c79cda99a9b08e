"""The assessment as spreadsheets: CSV (one table) and XLSX (a sheet per table).

Headers are bilingual (Chinese first), values are plain. A text cell that a spreadsheet would
take for a formula (= + - @) is prefixed with ``'``. CSV is written UTF-8 with a byte-order mark,
which Excel needs to read Chinese correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Literal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy.orm import Session

from hub.audit import record_export
from hub.org.assessment import Assessment
from hub.org.request_stats import RequestStats

ExportTable = Literal["members", "units", "communities"]
ExportFormat = Literal["csv", "xlsx"]
MEMBER_SHEET = "assessment.members"
"""What the audit log names an export of the assessment's member sheet."""

YES, NO = "是", "否"

REQUEST_HEADERS = [
    "受理事项 requests received",
    "办结事项 requests resolved",
    "办结用时中位数(小时) median hours to resolve",
    "超期事项 requests overdue",
]
"""Service requests (服务事项转办): the "problems solved by units" columns."""

HEADERS: dict[ExportTable, list[str]] = {
    "members": [
        "社区 community",
        "党员编号 member",
        "姓名 name",
        "单位编号 unit",
        "已报到 registered",
        "服务次数 services",
        "可评优秀 excellent open",
    ],
    "units": [
        "联盟 alliance",
        "单位编号 unit",
        "单位 name",
        "在职党员 in service",
        "已报到 registered",
        "报到率 reporting rate %",
        "低于80% below 80 %",
        "可评优 excellent open",
        *REQUEST_HEADERS,
    ],
    "communities": [
        "街道 sub-district",
        "社区编号 community",
        "社区 name",
        "报到党员 members registered",
        "活动 activities",
        "签到 attendance",
        "未登记卡 unknown cards",
        *[f"{m:02d}月" for m in range(1, 13)],
        *REQUEST_HEADERS,
    ],
}


def rows(assessment: Assessment, table: ExportTable) -> Iterator[list[object]]:
    if table == "members":
        unit_codes = {u.id: u.code for a in assessment.alliances for u in a.units}
        for community in assessment.communities:
            for m in community.members:
                yield [
                    community.code,
                    m.code,
                    m.name,
                    unit_codes.get(m.unit_id, ""),
                    _yes(m.registered),
                    m.services,
                    _yes(m.excellent_open),
                ]
    elif table == "units":
        for alliance in assessment.alliances:
            for u in alliance.units:
                yield [
                    alliance.code or "",
                    u.code,
                    u.name,
                    u.in_service,
                    u.registered,
                    "" if u.reporting_rate_pct is None else u.reporting_rate_pct,
                    _yes(u.below_threshold),
                    _yes(u.excellent_open),
                    *_requests(u.requests),
                ]
    else:
        for c in assessment.communities:
            yield [
                c.subdistrict,
                c.code,
                c.name,
                c.members_registered,
                c.activities_held,
                c.attendance,
                c.unknown_card_taps,
                *(m.count for m in c.attendance_by_month),
                *_requests(c.requests),
            ]


def log_member_sheet(session: Session, *, year: int, file_format: ExportFormat) -> None:
    """The member sheet is personal data (names, whether each member served): who exported it,
    for which year and in which format goes in the audit log, committed at once (a download
    writes nothing else that would commit it)."""
    detail = {"format": file_format, "year": year, "table": "members"}
    record_export(session, what=MEMBER_SHEET, detail=detail)
    session.commit()


def to_csv(assessment: Assessment, table: ExportTable) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(HEADERS[table])
    for row in rows(assessment, table):
        writer.writerow([_safe(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode()


def to_xlsx(assessment: Assessment) -> bytes:
    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    titles: dict[ExportTable, str] = {
        "communities": "社区 communities",
        "units": "单位 units",
        "members": "党员 members",
    }
    for table, title in titles.items():
        sheet = book.create_sheet(title)
        sheet.append(HEADERS[table])
        for row in rows(assessment, table):
            sheet.append([_xml_safe(_safe(v)) for v in row])
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xml_safe(value: object) -> object:
    """Control characters XML cannot carry (a name stored with U+0001) become U+FFFD: openpyxl
    refuses them, and one such name would fail the whole workbook."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if isinstance(value, str) else value


def _requests(stats: RequestStats) -> list[object]:
    median = stats.median_hours_to_resolve
    return [stats.received, stats.resolved, "" if median is None else median, stats.overdue]


def _yes(value: bool) -> str:
    return YES if value else NO


def _safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
        return "'" + value
    return value
