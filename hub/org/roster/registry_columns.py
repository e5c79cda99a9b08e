"""The columns of the registry kinds' files: the organisation, alliances, service centres,
venues and volunteer teams. Headers are Chinese; the English keys are accepted too."""

from __future__ import annotations

from hub.org.models import PARTY_ORG_KINDS, TEAM_KINDS
from hub.org.roster.columns import (
    MAX_CAPACITY,
    PARTY_ORG_KIND_ALIASES,
    TEAM_KIND_ALIASES,
    VENUE_KIND_ALIASES,
    WEEKDAY_KEYS,
    WEEKDAYS,
    Column,
    clock,
    code,
    day,
    flag,
    hours,
    name,
    number,
    one_of,
    site_id,
    threshold,
    title,
    whole,
)
from hub.venues.models import VENUE_KINDS

SUBDISTRICT_COLUMNS = (
    Column("code", "编号", code, required=True),
    Column("name", "名称", name, required=True),
)
COMMUNITY_COLUMNS = (
    Column("code", "编号", code, required=True),
    Column("name", "名称", name, required=True),
    Column("subdistrict_code", "街道编号", code, required=True),
    Column("centre_id", "服务中心编号", site_id),
)
GRID_COLUMNS = (
    Column("code", "编号", code, required=True),
    Column("name", "名称", name, required=True),
    Column("community_code", "社区编号", code, required=True),
    Column("level", "层级", whole(1, 3), required=True),
    Column("parent_code", "上级网格编号", code),
)
PARTY_ORG_COLUMNS = (
    Column("code", "编号", code, required=True),
    Column("name", "名称", name, required=True),
    Column(
        "kind",
        "类型",
        one_of("party organisation kind", PARTY_ORG_KINDS, PARTY_ORG_KIND_ALIASES),
        required=True,
    ),
    Column("parent_code", "上级组织编号", code),
    Column("subdistrict_code", "街道编号", code),
    Column("community_code", "社区编号", code),
    Column("grid_code", "网格编号", code),
)
ALLIANCE_COLUMNS = (
    Column("code", "编号", code, required=True),
    Column("name", "名称", name, required=True),
    Column("subdistrict_code", "街道编号", code),
)
SERVICE_CENTRE_COLUMNS = (
    Column("id", "编号", site_id, required=True),
    Column("name", "名称", name, required=True),
    Column("community_code", "社区编号", code, required=True),
)
VENUE_COLUMNS = (
    Column("id", "编号", site_id, required=True),
    Column("name", "名称", name, required=True),
    Column("kind", "类型", one_of("venue kind", VENUE_KINDS, VENUE_KIND_ALIASES), required=True),
    Column("unit_code", "单位编号", code, required=True),
    Column("community_code", "社区编号", code, required=True),
    Column("address", "地址", title, required=True),
    Column("capacity", "容量", whole(1, MAX_CAPACITY), required=True),
    Column("opens_at", "开放时间", clock, required=True),
    Column("closes_at", "关闭时间", clock, required=True),
    Column("alert_threshold_pct", "预警阈值", threshold),
    Column("agreement_code", "协议编号", code),
    Column("opened_on", "开放日期", day),
    Column("latitude", "纬度", number(-90, 90)),
    Column("longitude", "经度", number(-180, 180)),
    Column("public_count", "公开人数", flag),
    *(Column(key, label, hours) for key, label in zip(WEEKDAY_KEYS, WEEKDAYS, strict=True)),
)
VOLUNTEER_TEAM_COLUMNS = (
    Column("code", "编号", code, required=True),
    Column("name", "名称", name, required=True),
    Column("kind", "类型", one_of("team kind", TEAM_KINDS, TEAM_KIND_ALIASES), required=True),
    Column("community_code", "社区编号", code, required=True),
    Column("unit_code", "单位编号", code),
)
