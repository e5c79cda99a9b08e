"""Response models of the organisation: sub-districts down to grids, party organisations, units,
alliances, agreements, service centres, volunteer teams, service requests, the venue registry.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from hub.api.params import LocalTime
from hub.api.schemas import FROM_ROWS as _FROM_ROWS

PartyOrgKind = Literal[
    "working_committee", "community_committee", "grid_branch", "building_group", "household_group"
]
UnitKind = Literal["agency", "enterprise", "institution", "two_new", "other"]
RequestStatus = Literal["raised", "transferred", "resolved"]


class SubdistrictOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[1])
    code: str = Field(examples=["SD01"])
    name: str = Field(examples=["北城街道"])


class CommunityOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[3])
    code: str = Field(examples=["C03"])
    name: str = Field(examples=["康乐社区"])
    subdistrict_id: int = Field(examples=[1])
    centre_id: str | None = Field(
        examples=["centre-02"], description="the service centre that serves it"
    )


class GridOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[40])
    code: str = Field(examples=["G040"])
    name: str = Field(examples=["3号楼"])
    community_id: int = Field(examples=[3])
    level: int = Field(examples=[3], description="1 community, 2 compound or lane, 3 building")
    parent_id: int | None = Field(examples=[19])


class PartyOrgOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[25])
    code: str = Field(examples=["P025"])
    name: str = Field(examples=["网格党支部3"])
    kind: PartyOrgKind
    parent_id: int | None = Field(examples=[6], description="the organisation one level up")
    subdistrict_id: int | None = Field(examples=[None])
    community_id: int | None = Field(examples=[3])
    grid_id: int | None = Field(examples=[19])


class UnitOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[12])
    code: str = Field(examples=["U012"])
    name: str = Field(examples=["原平市康乐供电公司"])
    kind: UnitKind
    community_id: int | None = Field(examples=[3])
    alliance_id: int | None = Field(examples=[3])


class ChairOut(BaseModel):
    model_config = _FROM_ROWS
    unit_id: int = Field(examples=[12])
    starts_on: date = Field(examples=["2026-01-01"])
    ends_on: date = Field(examples=["2026-03-31"])


class AllianceOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[3])
    code: str = Field(examples=["A03"])
    name: str = Field(examples=["康乐社区党建联盟"])
    subdistrict_id: int | None = Field(examples=[1])


class AllianceDetailOut(AllianceOut):
    chairs: list[ChairOut] = Field(description="the rotating chairs, by period")
    unit_ids: list[int] = Field(examples=[[12, 28, 44]])


class MenuItemOut(BaseModel):
    model_config = _FROM_ROWS
    direction: Literal["offer", "need"]
    title: str = Field(examples=["义诊"])


class AgreementOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[7])
    code: str = Field(examples=["XY007"])
    community_id: int = Field(examples=[3])
    unit_id: int = Field(examples=[12])
    signed_on: date = Field(examples=["2025-04-10"])
    ends_on: date | None = Field(examples=[None])


class AgreementDetailOut(AgreementOut):
    menu: list[MenuItemOut] = Field(description="供需菜单: what the unit offers, what is needed")


class VolunteerTeamOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[5])
    code: str = Field(examples=["V005"])
    name: str = Field(examples=["康乐社区志愿服务站5"])
    kind: Literal["station", "alliance", "group"]
    community_id: int = Field(examples=[3])
    unit_id: int | None = Field(examples=[None])


class ServiceRequestOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[301])
    community_id: int = Field(examples=[3])
    category: str = Field(examples=["设施维修"])
    summary: str = Field(examples=["楼道照明损坏"])
    status: RequestStatus
    raised_at: datetime = Field(examples=["2026-03-02T01:20:00Z"])
    unit_id: int | None = Field(examples=[12], description="the unit it was transferred to")
    transferred_at: datetime | None = Field(examples=["2026-03-02T05:00:00Z"])
    resolved_at: datetime | None = Field(examples=["2026-03-05T08:00:00Z"])
    resolution: str | None = Field(examples=["已办结"])


class ReaderOut(BaseModel):
    id: str = Field(examples=["reader-1"])
    kind: str = Field(examples=["card_reader"])
    state: str = Field(examples=["ok"])
    last_seen: datetime | None = Field(examples=["2026-11-27T08:30:00Z"])


class ServiceCentreOut(BaseModel):
    model_config = _FROM_ROWS
    id: str = Field(examples=["centre-01"], description="the site id of its edge agent")
    name: str = Field(examples=["新原社区党群服务中心"])
    community_id: int = Field(examples=[1])
    archived_at: datetime | None = Field(default=None, description="set: archived")


class ServiceCentreDetailOut(ServiceCentreOut):
    communities: list[int] = Field(examples=[[1, 9]], description="communities it serves")
    readers: list[ReaderOut] | None = Field(
        default=None,
        description="its site's devices, as the edge reports them; null for a user who may not "
        "read this centre's devices (devices.read, within its scope)",
    )
    allowlist_version: int | None = Field(default=None, examples=[1795814303])
    allowlist_size: int | None = Field(
        default=None, examples=[612], description="cards allowed there (null as readers)"
    )


class VenueOut(BaseModel):
    model_config = _FROM_ROWS
    id: str = Field(examples=["venue-07"])
    name: str = Field(examples=["原平市第一中学运动场"])
    kind: Literal["sports_ground", "car_park", "other"]
    unit_id: int = Field(examples=[30])
    community_id: int = Field(examples=[5])
    address: str = Field(examples=["原平市朝阳路12号"])
    capacity: int = Field(examples=[300])
    opens_at: LocalTime = Field(examples=["07:00:00"])
    closes_at: LocalTime = Field(examples=["21:00:00"])
    alert_threshold_pct: float = Field(examples=[90.0])
    agreement_id: int | None = Field(
        default=None, examples=[14], description="the co-building agreement that opened it"
    )
    opened_on: date | None = Field(default=None, examples=["2024-05-01"])
    latitude: float | None = Field(default=None, examples=[38.7297], description="WGS-84")
    longitude: float | None = Field(default=None, examples=[112.7105], description="WGS-84")
    public_count: bool = Field(
        default=False, description="whether the public may see its exact count"
    )
    archived_at: datetime | None = Field(default=None, description="set: archived")
