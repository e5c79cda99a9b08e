"""Request and response models of the records API, with examples for the OpenAPI schema.

Member names are masked in every response (王*东); card numbers are accepted on enrolment and
never returned, only whether a card is enrolled.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from hub.api.params import BodyId, Day, LocalTime, Time
from hub.org.models import CODE_LENGTH
from hub.org.names import Name, Title
from mqtt_contract.topics import ID_PATTERN

_FROM_ROWS = ConfigDict(from_attributes=True)
CODE_PATTERN = rf"^[A-Za-z0-9_-]{{1,{CODE_LENGTH}}}$"

PartyOrgKind = Literal[
    "working_committee", "community_committee", "grid_branch", "building_group", "household_group"
]
UnitKind = Literal["agency", "enterprise", "institution", "two_new", "other"]
ActivityKind = Literal["themed_activity", "volunteer_service", "registration", "eight_into"]
EightInto = Literal[
    "policy",
    "legal_aid",
    "democracy_rule_of_law",
    "science",
    "civility",
    "culture",
    "work_safety",
    "comprehensive_governance",
]
RequestStatus = Literal["raised", "transferred", "resolved"]


# --- organisation ---------------------------------------------------------------------------------


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


# --- members and registrations --------------------------------------------------------------------


class MemberOut(BaseModel):
    id: int = Field(examples=[42])
    code: str = Field(examples=["M00042"])
    name: str = Field(examples=["王*东"], description="masked")
    unit_id: int = Field(examples=[12])
    community_id: int = Field(examples=[3], description="the community the member lives in")
    grid_id: int | None = Field(examples=[40])
    party_org_id: int | None = Field(examples=[25])
    in_service: bool
    card_enrolled: bool = Field(description="a card is enrolled (its number is never returned)")


class RegistrationOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[88])
    community_id: int = Field(examples=[3])
    member_id: int | None = Field(examples=[42])
    unit_id: int | None = Field(examples=[None])
    registered_on: date = Field(examples=["2026-02-15"])


class MemberDetailOut(MemberOut):
    registrations: list[RegistrationOut]


CARD_PATTERN = r"^[0-9A-Fa-f]{10}$"
_CARD = Field(
    default=None,
    pattern=CARD_PATTERN,
    examples=["0A1B2C3D4E"],
    description="EM4100 card number; stored only as its keyed hash",
)


class MemberIn(BaseModel):
    """The name follows the roster import's rule (``hub.org.names.Name``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "M04801",
                    "name": "王晓东",
                    "unit_id": 12,
                    "community_id": 3,
                    "grid_id": 74,
                    "party_org_id": 22,
                    "card": "0A1B2C3D4E",
                }
            ]
        },
    )
    code: str = Field(pattern=CODE_PATTERN, examples=["M04801"])
    name: Annotated[Name, Field(examples=["王晓东"])]
    unit_id: BodyId = Field(examples=[12])
    community_id: BodyId = Field(examples=[3])
    grid_id: BodyId | None = Field(default=None, examples=[74], description="in the community")
    party_org_id: BodyId | None = Field(default=None, examples=[22])
    in_service: StrictBool = True
    card: str | None = _CARD


class MemberPatch(BaseModel):
    """Only the fields given change; ``card: null`` withdraws the enrolled card (``name``,
    ``unit_id``, ``community_id`` and ``in_service`` cannot be null)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"in_service": False}, {"card": None}]}
    )
    name: Name | None = Field(default=None, examples=["王晓东"])
    unit_id: BodyId | None = Field(default=None, examples=[12])
    community_id: BodyId | None = Field(default=None, examples=[3])
    grid_id: BodyId | None = Field(default=None, examples=[74])
    party_org_id: BodyId | None = Field(default=None, examples=[22])
    in_service: StrictBool | None = Field(default=None, examples=[False])
    card: str | None = Field(
        default=None,
        pattern=CARD_PATTERN,
        examples=["0A1B2C3D5F"],
        description="EM4100 card number; stored only as its keyed hash; null withdraws it",
    )


class RegistrationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"community_id": 3, "member_id": 42, "registered_on": "2026-02-15"}]
        },
    )
    community_id: BodyId = Field(examples=[3])
    member_id: BodyId | None = Field(default=None, examples=[42])
    unit_id: BodyId | None = Field(default=None, examples=[None])
    registered_on: Day = Field(examples=["2026-02-15"])


class RegistrationPatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"registered_on": "2026-03-01"}]}
    )
    community_id: BodyId | None = Field(default=None, examples=[3])
    registered_on: Day | None = Field(default=None, examples=["2026-03-01"])


# --- activities and attendance --------------------------------------------------------------------


class ActivityOut(BaseModel):
    model_config = _FROM_ROWS
    id: int = Field(examples=[501])
    centre_id: str = Field(examples=["centre-01"])
    community_id: int = Field(examples=[1])
    title: str = Field(examples=["学习党章党规·主题党日"])
    theme: str = Field(examples=["学习党章党规"], description="the month's theme")
    month: str = Field(examples=["2026-03"], description="in Asia/Shanghai")
    kind: ActivityKind
    eight_into: EightInto | None = Field(examples=[None])
    starts_at: datetime = Field(examples=["2026-03-14T01:00:00Z"])
    ends_at: datetime = Field(examples=["2026-03-14T03:00:00Z"])
    unit_id: int | None = Field(examples=[12])
    volunteer_team_id: int | None = Field(examples=[None])


class ActivityDetailOut(ActivityOut):
    attendance: int = Field(examples=[23], description="check-ins matched to it")
    members: int = Field(examples=[21], description="distinct members among them")


class ActivityIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "centre_id": "centre-01",
                    "title": "法律援助进社区",
                    "theme": "法治宣传进社区",
                    "kind": "eight_into",
                    "eight_into": "legal_aid",
                    "starts_at": "2026-12-05T09:00:00+08:00",
                    "ends_at": "2026-12-05T11:00:00+08:00",
                }
            ]
        },
    )
    centre_id: str = Field(pattern=ID_PATTERN, examples=["centre-01"])
    community_id: BodyId | None = Field(
        default=None, examples=[None], description="default: the centre's community"
    )
    title: Annotated[Title, Field(examples=["法律援助进社区"])]
    theme: Annotated[Name, Field(examples=["法治宣传进社区"])]
    kind: ActivityKind = Field(examples=["eight_into"])
    eight_into: EightInto | None = Field(default=None, examples=["legal_aid"])
    starts_at: Time = Field(examples=["2026-12-05T09:00:00+08:00"])
    ends_at: Time = Field(examples=["2026-12-05T11:00:00+08:00"])
    unit_id: BodyId | None = Field(default=None, examples=[None])
    volunteer_team_id: BodyId | None = Field(default=None, examples=[None])


class ActivityPatch(BaseModel):
    """Only the fields given change (``community_id``, ``title``, ``theme``, ``kind``,
    ``starts_at`` and ``ends_at`` cannot be null)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"title": "学习党章党规·主题党日"},
                {"starts_at": "2026-03-14T09:00:00+08:00", "ends_at": "2026-03-14T11:30:00+08:00"},
            ]
        },
    )
    community_id: BodyId | None = Field(default=None, examples=[1])
    title: Title | None = Field(default=None, examples=["学习党章党规·主题党日"])
    theme: Name | None = Field(default=None, examples=["学习党章党规"])
    kind: ActivityKind | None = Field(default=None, examples=["themed_activity"])
    eight_into: EightInto | None = Field(default=None, examples=[None])
    starts_at: Time | None = Field(default=None, examples=["2026-03-14T09:00:00+08:00"])
    ends_at: Time | None = Field(default=None, examples=["2026-03-14T11:30:00+08:00"])
    unit_id: BodyId | None = Field(default=None, examples=[None])
    volunteer_team_id: BodyId | None = Field(default=None, examples=[None])


class AttendanceOut(BaseModel):
    model_config = _FROM_ROWS
    event_id: UUID = Field(
        examples=["0b6f6d4e-8a43-4c1e-9a8e-8d7f3b2a1c0d"], description="check-in"
    )
    centre_id: str = Field(examples=["centre-01"])
    device_id: str = Field(examples=["reader-1"])
    member_id: int | None = Field(examples=[42], description="null: an unknown card")
    activity_id: int | None = Field(examples=[501], description="null: a walk-in service")
    community_id: int = Field(examples=[1])
    at: datetime = Field(examples=["2026-03-14T01:12:09Z"])
    local_date: date = Field(examples=["2026-03-14"], description="in Asia/Shanghai")
    month: str = Field(examples=["2026-03"])


# --- venues (the registry; occupancy is elsewhere) ------------------------------------------------


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


# --- reports and imports --------------------------------------------------------------------------


class CountOut(BaseModel):
    key: str | None = Field(examples=["2026-03"])
    count: int = Field(examples=[118])


class MemberAssessmentOut(BaseModel):
    id: int = Field(examples=[42])
    code: str = Field(examples=["M00042"])
    name: str = Field(examples=["王*东"])
    unit_id: int = Field(examples=[12])
    registered: bool
    services: int = Field(examples=[3], description="community services in the year")
    excellent_open: bool = Field(description="registered and at least 2 services")


class UnitAssessmentOut(BaseModel):
    id: int = Field(examples=[12])
    code: str = Field(examples=["U012"])
    name: str = Field(examples=["原平市康乐供电公司"])
    in_service: int = Field(examples=[20])
    registered: int = Field(examples=[16])
    reporting_rate_pct: float | None = Field(examples=[80.0])
    below_threshold: bool = Field(description="reporting rate below 80 %")
    excellent_open: bool


class ChairAssessmentOut(BaseModel):
    unit_id: int = Field(examples=[12])
    unit_name: str = Field(examples=["原平市康乐供电公司"])
    starts_on: date
    ends_on: date


class AllianceAssessmentOut(BaseModel):
    id: int | None = Field(examples=[3], description="null: units in no alliance")
    code: str | None = Field(examples=["A03"])
    name: str = Field(examples=["康乐社区党建联盟"])
    chairs: list[ChairAssessmentOut]
    units: list[UnitAssessmentOut]


class CommunityAssessmentOut(BaseModel):
    id: int = Field(examples=[3])
    code: str = Field(examples=["C03"])
    name: str = Field(examples=["康乐社区"])
    subdistrict: str = Field(examples=["北城街道"])
    members_registered: int = Field(examples=[271])
    activities_held: int = Field(examples=[115])
    attendance: int = Field(examples=[1490])
    unknown_card_taps: int = Field(examples=[47])
    attendance_by_month: list[CountOut]
    attendance_by_theme: list[CountOut] = Field(description="key null: walk-in services")
    members: list[MemberAssessmentOut]


class TotalsOut(BaseModel):
    members: int = Field(examples=[4800])
    registered: int = Field(examples=[4051])
    excellent_open: int = Field(examples=[3310])
    units: int = Field(examples=[230])
    units_below_threshold: int = Field(examples=[71])


class RulesOut(BaseModel):
    unit_min_reporting_pct: int = Field(examples=[80])
    member_min_services: int = Field(examples=[2])
    timezone: str = Field(examples=["Asia/Shanghai"])


class AssessmentOut(BaseModel):
    year: int = Field(examples=[2025])
    rules: RulesOut
    totals: TotalsOut
    alliances: list[AllianceAssessmentOut]
    communities: list[CommunityAssessmentOut]


class RowErrorOut(BaseModel):
    model_config = _FROM_ROWS
    line: int = Field(examples=[4], description="1 is the header; 0 the file as a whole")
    column: str | None = Field(examples=["unit_code"])
    reason: str = Field(examples=["no unit with code 'U09'"])


class ImportReportOut(BaseModel):
    model_config = _FROM_ROWS
    kind: Literal["members", "units", "agreements"]
    rows: int = Field(examples=[230])
    created: int = Field(examples=[228])
    updated: int = Field(examples=[2])
    errors: list[RowErrorOut] = Field(description="empty when imported; else nothing was")
