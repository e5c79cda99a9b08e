"""A template per import kind: the Chinese header of every column and one example row, which
imports into the demo city as it stands (``community seed``)."""

from __future__ import annotations

from hub.org.roster.importer import COLUMNS
from hub.org.roster.report import RosterKind
from hub.org.roster.sheets import Cell

EXAMPLES: dict[RosterKind, dict[str, Cell]] = {
    "members": {
        "code": "M04801",
        "name": "王晓东",
        "unit_code": "U012",
        "community_code": "C03",
        "in_service": "是",
        "registered_on": "2026-03-01",
    },
    "units": {
        "code": "U231",
        "name": "原平市康乐供水公司",
        "kind": "企业",
        "community_code": "C03",
        "alliance_code": "A03",
        "registered_on": "2026-03-01",
    },
    "agreements": {
        "code": "XY901",
        "community_code": "C03",
        "unit_code": "U012",
        "signed_on": "2026-03-01",
        "ends_on": "2027-02-28",
        "offers": "义诊；法律咨询",
        "needs": "楼道照明",
    },
    "subdistricts": {"code": "SD04", "name": "新建街道"},
    "communities": {
        "code": "C17",
        "name": "新建社区",
        "subdistrict_code": "SD01",
        "centre_id": "centre-01",
    },
    "grids": {
        "code": "G901",
        "name": "第九网格",
        "community_code": "C03",
        "level": 2,
        "parent_code": "G003",
    },
    "party-orgs": {
        "code": "P901",
        "name": "第九网格党支部",
        "kind": "网格党支部",
        "parent_code": "P006",
        "community_code": "C03",
    },
    "alliances": {"code": "A17", "name": "新建党建联盟", "subdistrict_code": "SD01"},
    "service-centres": {"id": "centre-09", "name": "新建社区党群服务中心", "community_code": "C03"},
    "venues": {
        "id": "venue-53",
        "name": "原平市康乐供水公司停车场",
        "kind": "停车场",
        "unit_code": "U012",
        "community_code": "C12",
        "address": "原平市新建路1号",
        "capacity": 120,
        "opens_at": "06:00",
        "closes_at": "22:00",
        "alert_threshold_pct": 90,
        "agreement_code": "XY012",
        "opened_on": "2026-03-01",
        "latitude": 38.73,
        "longitude": 112.71,
        "public_count": "否",
        "sat": "08:00-20:00",
        "sun": "休息",
    },
    "volunteer-teams": {
        "code": "V901",
        "name": "新建志愿服务队",
        "kind": "小组",
        "community_code": "C03",
        "unit_code": "U003",
    },
}


def header(kind: RosterKind) -> list[str]:
    """The Chinese header of every column of ``kind``."""
    return [column.label for column in COLUMNS[kind]]


def template(kind: RosterKind) -> tuple[list[str], list[list[Cell]]]:
    """The header and the example row."""
    example = EXAMPLES[kind]
    return header(kind), [[example.get(column.key) for column in COLUMNS[kind]]]
