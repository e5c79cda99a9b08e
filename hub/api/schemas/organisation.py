"""Response models of the organisation: sub-districts down to grids, party organisations, units,
alliances, agreements, service centres, volunteer teams, service requests, the venue registry.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from hub.api.params import BodyId, Day, JsonInteger, LocalTime
from hub.api.schemas import FROM_ROWS as _FROM_ROWS
from hub.api.schemas.members import CODE_PATTERN
from hub.org.names import Name, Title
from mqtt_contract.topics import ID_PATTERN

PartyOrgKind = Literal[
    "working_committee", "community_committee", "grid_branch", "building_group", "household_group"
]
UnitKind = Literal["agency", "enterprise", "institution", "two_new", "other"]
RequestStatus = Literal["raised", "transferred", "accepted", "declined", "resolved", "confirmed"]

ARCHIVED = "when it was archived (hidden from lists, not to be newly referred to); null: in use"


class SubdistrictOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[1])
    code: str = Field(examples=["SD01"])
    name: str = Field(examples=["北城街道"])
    archived_at: datetime | None = Field(default=None, examples=[None], description=ARCHIVED)


class CommunityOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[3])
    code: str = Field(examples=["C03"])
    name: str = Field(examples=["康乐社区"])
    subdistrict_id: int = Field(examples=[1])
    centre_id: str | None = Field(
        examples=["centre-02"], description="the service centre that serves it"
    )
    archived_at: datetime | None = Field(default=None, examples=[None], description=ARCHIVED)


class GridOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[40])
    code: str = Field(examples=["G040"])
    name: str = Field(examples=["3号楼"])
    community_id: int = Field(examples=[3])
    level: int = Field(examples=[3], description="1 community, 2 compound or lane, 3 building")
    parent_id: int | None = Field(examples=[19])
    archived_at: datetime | None = Field(default=None, examples=[None], description=ARCHIVED)


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
    archived_at: datetime | None = Field(default=None, examples=[None], description=ARCHIVED)


class UnitOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[12])
    code: str = Field(examples=["U012"])
    name: str = Field(examples=["原平市康乐供电公司"])
    kind: UnitKind
    community_id: int | None = Field(examples=[3])
    alliance_id: int | None = Field(examples=[3])
    archived_at: datetime | None = Field(default=None, examples=[None], description=ARCHIVED)


class ChairOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[9])
    unit_id: int = Field(examples=[12])
    starts_on: date = Field(examples=["2026-01-01"])
    ends_on: date = Field(examples=["2026-03-31"])


class AllianceOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[3])
    code: str = Field(examples=["A03"])
    name: str = Field(examples=["康乐社区党建联盟"])
    subdistrict_id: int | None = Field(examples=[1])
    archived_at: datetime | None = Field(default=None, examples=[None], description=ARCHIVED)


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
    archived_at: datetime | None = Field(default=None, examples=[None], description=ARCHIVED)


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
    archived_at: datetime | None = Field(default=None, examples=[None], description=ARCHIVED)


class ServiceRequestOut(BaseModel):
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
    source: Literal["staff", "public"] = Field(
        examples=["public"], description="raised by staff or by a resident's public form"
    )
    place: str | None = Field(examples=["3号楼2单元"], description="free text from the form")
    contact: str | None = Field(
        examples=["138****5678"],
        description="the resident's phone or e-mail, always masked here (docs/service-requests.md)",
    )
    due_at: datetime | None = Field(
        examples=["2026-03-07T01:20:00Z"], description="its category's deadline; null: none"
    )
    escalated_at: datetime | None = Field(
        examples=[None], description="when it passed its deadline and went back to the community"
    )
    accepted_at: datetime | None = Field(examples=["2026-03-02T06:00:00Z"])
    confirmed_at: datetime | None = Field(examples=[None])


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


# --- what the writes take ----------------------------------------------------------------------
# A create names every required field; a patch only those that change (a field left out is
# kept; null clears a field that may be empty). A code is not changed: files and other records
# refer to it (to correct one, archive the row and register it again). Codes, names, titles and dates are bounded as
# the roster import bounds them.

Code = Annotated[str, Field(pattern=CODE_PATTERN, description="the key people use in files")]
SiteId = Annotated[str, Field(pattern=ID_PATTERN, examples=["centre-02"])]
Kept = SkipJsonSchema[None]
"""A patch's field that may be left out but not cleared: the schema says it is not nullable, and
a ``null`` sent anyway is refused naming it (``type: required``)."""
GridLevel = Annotated[int, Field(ge=1, le=3), JsonInteger]
MAX_MENU_ITEMS = 100
MAX_TEAM_MEMBERS = 1000
_WRITE = ConfigDict(extra="forbid")


def _write(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


class SubdistrictIn(BaseModel):
    model_config = _write({"code": "SD04", "name": "南城街道"})
    code: Code = Field(examples=["SD04"])
    name: Name = Field(examples=["南城街道"])


class SubdistrictPatch(BaseModel):
    model_config = _write({"name": "南城街道"})
    name: Name | Kept = None


class CommunityIn(BaseModel):
    model_config = _write({"code": "C31", "name": "和平社区", "subdistrict_id": 1})
    code: Code = Field(examples=["C31"])
    name: Name = Field(examples=["和平社区"])
    subdistrict_id: BodyId = Field(examples=[1])
    centre_id: SiteId | None = Field(default=None, description="the service centre serving it")


class CommunityPatch(BaseModel):
    model_config = _write({"name": "和平社区"}, {"centre_id": None})
    name: Name | Kept = None
    subdistrict_id: BodyId | Kept = None
    centre_id: SiteId | None = Field(default=None, description="null: no centre serves it")


class GridIn(BaseModel):
    """Level 1 is the community itself and has no parent; a level 2 or 3 grid's parent is the
    grid one level up in the same community."""

    model_config = _write(
        {"code": "G901", "name": "1号院", "community_id": 1, "level": 2, "parent_id": 1}
    )
    code: Code = Field(examples=["G901"])
    name: Name = Field(examples=["1号院"])
    community_id: BodyId = Field(examples=[1])
    level: GridLevel = Field(examples=[2])
    parent_id: BodyId | None = Field(default=None, examples=[1])


class GridPatch(BaseModel):
    model_config = _write({"name": "1号院"})
    name: Name | Kept = None
    community_id: BodyId | Kept = None
    level: GridLevel | Kept = None
    parent_id: BodyId | None = None


class PartyOrgIn(BaseModel):
    """A working committee has no parent; every other kind's parent is of the kind one level
    up (working committee → community committee → grid branch → building group → household
    group)."""

    model_config = _write(
        {"code": "P901", "name": "康乐社区党委", "kind": "community_committee", "parent_id": 1}
    )
    code: Code = Field(examples=["P901"])
    name: Name = Field(examples=["康乐社区党委"])
    kind: PartyOrgKind = Field(examples=["community_committee"])
    parent_id: BodyId | None = Field(default=None, examples=[1])
    subdistrict_id: BodyId | None = Field(default=None, examples=[None])
    community_id: BodyId | None = Field(default=None, examples=[3])
    grid_id: BodyId | None = Field(default=None, examples=[None])


class PartyOrgPatch(BaseModel):
    model_config = _write({"name": "康乐社区党委"})
    name: Name | Kept = None
    kind: PartyOrgKind | Kept = None
    parent_id: BodyId | None = None
    subdistrict_id: BodyId | None = None
    community_id: BodyId | None = None
    grid_id: BodyId | None = None


class UnitIn(BaseModel):
    model_config = _write({"code": "U901", "name": "原平市康乐小学", "kind": "institution"})
    code: Code = Field(examples=["U901"])
    name: Name = Field(examples=["原平市康乐小学"])
    kind: UnitKind = Field(examples=["institution"])
    community_id: BodyId | None = Field(default=None, examples=[3])
    alliance_id: BodyId | None = Field(default=None, examples=[3])


class UnitPatch(BaseModel):
    model_config = _write({"name": "原平市康乐小学"})
    name: Name | Kept = None
    kind: UnitKind | Kept = None
    community_id: BodyId | None = None
    alliance_id: BodyId | None = None


class AllianceIn(BaseModel):
    model_config = _write({"code": "A91", "name": "南城党建联盟", "subdistrict_id": 1})
    code: Code = Field(examples=["A91"])
    name: Name = Field(examples=["南城党建联盟"])
    subdistrict_id: BodyId | None = Field(default=None, examples=[1])


class AlliancePatch(BaseModel):
    model_config = _write({"name": "南城党建联盟"})
    name: Name | Kept = None
    subdistrict_id: BodyId | None = None


class ChairIn(BaseModel):
    """A unit (normally one of the alliance's) chairs it from ``starts_on`` to ``ends_on`` (both
    included); one alliance's chair periods do not overlap."""

    model_config = _write({"unit_id": 1, "starts_on": "2027-01-01", "ends_on": "2027-03-31"})
    unit_id: BodyId = Field(examples=[1])
    starts_on: Day = Field(examples=["2027-01-01"])
    ends_on: Day = Field(examples=["2027-03-31"])


class ChairPatch(BaseModel):
    model_config = _write({"ends_on": "2027-06-30"})
    unit_id: BodyId | Kept = None
    starts_on: Day | Kept = None
    ends_on: Day | Kept = None


class MenuItemIn(BaseModel):
    model_config = _WRITE
    direction: Literal["offer", "need"] = Field(examples=["offer"])
    title: Title = Field(examples=["义诊"])


Menu = Annotated[
    list[MenuItemIn],
    Field(
        max_length=MAX_MENU_ITEMS,
        description=f"供需菜单, at most {MAX_MENU_ITEMS} lines; given, it replaces the whole menu",
        examples=[
            [{"direction": "offer", "title": "义诊"}, {"direction": "need", "title": "助老"}]
        ],
    ),
]


class AgreementIn(BaseModel):
    model_config = _write(
        {
            "code": "XY901",
            "community_id": 3,
            "unit_id": 12,
            "signed_on": "2026-04-10",
            "ends_on": "2027-04-09",
            "menu": [{"direction": "offer", "title": "义诊"}],
        }
    )
    code: Code = Field(examples=["XY901"])
    community_id: BodyId = Field(examples=[3])
    unit_id: BodyId = Field(examples=[12])
    signed_on: Day = Field(examples=["2026-04-10"])
    ends_on: Day | None = Field(default=None, examples=["2027-04-09"])
    menu: Menu = Field(default_factory=list)


class AgreementPatch(BaseModel):
    model_config = _write(
        {"ends_on": "2027-12-31"}, {"menu": [{"direction": "need", "title": "助老"}]}
    )
    community_id: BodyId | Kept = None
    unit_id: BodyId | Kept = None
    signed_on: Day | Kept = None
    ends_on: Day | None = None
    menu: Menu | Kept = None


class VolunteerTeamIn(BaseModel):
    model_config = _write(
        {"code": "V901", "name": "康乐社区志愿服务队", "kind": "group", "community_id": 3}
    )
    code: Code = Field(examples=["V901"])
    name: Name = Field(examples=["康乐社区志愿服务队"])
    kind: Literal["station", "alliance", "group"] = Field(examples=["group"])
    community_id: BodyId = Field(examples=[3])
    unit_id: BodyId | None = Field(default=None, examples=[None])


class VolunteerTeamPatch(BaseModel):
    model_config = _write({"name": "康乐社区志愿服务队"})
    name: Name | Kept = None
    kind: Literal["station", "alliance", "group"] | Kept = None
    community_id: BodyId | Kept = None
    unit_id: BodyId | None = None


class TeamMembersIn(BaseModel):
    model_config = _write({"member_ids": [42, 43]})
    member_ids: list[BodyId] = Field(
        max_length=MAX_TEAM_MEMBERS,
        description=f"the team's members, at most {MAX_TEAM_MEMBERS}: replaces the whole set",
        examples=[[42, 43]],
    )


class TeamMemberOut(BaseModel):
    model_config = _FROM_ROWS
    member_id: int = Field(examples=[42])
    joined_on: date | None = Field(examples=["2026-03-01"])


class TeamMembersOut(BaseModel):
    team_id: int = Field(examples=[5])
    members: list[TeamMemberOut]
