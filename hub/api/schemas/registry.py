"""Request and response models of the registry's writes: service centres, venues, a venue's
weekday hours and closures."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from hub.api.params import BodyId, BodyInt, Day, LocalTime, LocalTimeIn
from hub.api.schemas.organisation import VenueOut
from hub.core.base import ID_LENGTH
from hub.org.names import Name, Title
from hub.venues.admin import MAX_CLOSURE_DAYS
from mqtt_contract.topics import ID_PATTERN

MAX_CAPACITY = 100_000
"""People or bays at one venue: the largest sports ground of a city is far below it."""

SiteId = Annotated[str, Field(pattern=ID_PATTERN, max_length=ID_LENGTH)]
VenueKind = Literal["sports_ground", "car_park", "other"]
Capacity = Annotated[BodyInt, Field(ge=1, le=MAX_CAPACITY, examples=[300])]
ThresholdPct = Annotated[
    float,
    Field(gt=0, le=100, strict=True, allow_inf_nan=False, examples=[90.0]),
]
Latitude = Annotated[float, Field(ge=-90, le=90, strict=True, examples=[38.7297])]
Longitude = Annotated[float, Field(ge=-180, le=180, strict=True, examples=[112.7105])]
Address = Annotated[Title, Field(examples=["原平市朝阳路12号"])]


class ServiceCentreIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"id": "centre-09", "name": "新原社区党群服务中心", "community_id": 1}]
        },
    )
    id: SiteId = Field(examples=["centre-09"], description="the site id of its edge agent")
    name: Name
    community_id: BodyId = Field(examples=[1])


class ServiceCentrePatch(BaseModel):
    """Only the fields given change (neither can be null)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "新原社区党群服务中心"}]}
    )
    name: Name | None = None
    community_id: BodyId | None = Field(default=None, examples=[1])


class VenueIn(BaseModel):
    """A venue as registered; ``agreement_id`` is its owner unit's agreement with its
    community. Hours are local time (Asia/Shanghai); a closing time at or before the opening
    time is on the next day."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "venue-53",
                    "name": "原平市第一中学运动场",
                    "kind": "sports_ground",
                    "unit_id": 30,
                    "community_id": 5,
                    "agreement_id": 14,
                    "opened_on": "2024-05-01",
                    "address": "原平市朝阳路12号",
                    "latitude": 38.7297,
                    "longitude": 112.7105,
                    "capacity": 300,
                    "alert_threshold_pct": 90.0,
                    "opens_at": "07:00",
                    "closes_at": "21:00",
                    "public_count": False,
                }
            ]
        },
    )
    id: SiteId = Field(examples=["venue-53"], description="the site id of its edge agent")
    name: Name
    kind: VenueKind
    unit_id: BodyId = Field(examples=[30], description="the owner unit")
    community_id: BodyId = Field(examples=[5])
    agreement_id: BodyId | None = Field(default=None, examples=[14])
    opened_on: Day | None = Field(default=None, examples=["2024-05-01"])
    address: Address
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    capacity: Capacity
    alert_threshold_pct: ThresholdPct = 90.0
    opens_at: LocalTimeIn = Field(examples=["07:00"])
    closes_at: LocalTimeIn = Field(examples=["21:00"])
    public_count: StrictBool = False


class VenuePatch(BaseModel):
    """Only the fields given change. A venue manager may give only ``capacity`` and
    ``alert_threshold_pct`` (403 naming any other field)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"capacity": 320, "alert_threshold_pct": 85.0}]},
    )
    name: Name | None = None
    kind: VenueKind | None = None
    unit_id: BodyId | None = Field(default=None, examples=[30])
    community_id: BodyId | None = Field(default=None, examples=[5])
    agreement_id: BodyId | None = Field(default=None, examples=[14])
    opened_on: Day | None = Field(default=None, examples=["2024-05-01"])
    address: Address | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    capacity: Capacity | None = None
    alert_threshold_pct: ThresholdPct | None = None
    opens_at: LocalTimeIn | None = Field(default=None, examples=["07:00"])
    closes_at: LocalTimeIn | None = Field(default=None, examples=["21:00"])
    public_count: StrictBool | None = None


class DayHoursIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"weekday": 0, "opens_at": "07:00", "closes_at": "21:00"}]},
    )
    weekday: BodyInt = Field(ge=0, le=6, examples=[0], description="0 is Monday, 6 Sunday")
    opens_at: LocalTimeIn | None = Field(examples=["07:00"], description="null: closed")
    closes_at: LocalTimeIn | None = Field(examples=["21:00"], description="null: closed")


class DayHoursOut(BaseModel):
    weekday: int = Field(examples=[0], description="0 is Monday, 6 Sunday")
    opens_at: LocalTime | None = Field(examples=["07:00:00"], description="null: closed")
    closes_at: LocalTime | None = Field(examples=["21:00:00"], description="null: closed")
    own: bool = Field(
        description="the weekday's own hours; false: the venue's every-day opens_at-closes_at"
    )


class ClosureIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"starts_on": "2027-01-28", "ends_on": "2027-02-03", "reason": "春节"}]
        },
    )
    starts_on: Day = Field(examples=["2027-01-28"])
    ends_on: Day = Field(
        examples=["2027-02-03"],
        description=f"inclusive; at most {MAX_CLOSURE_DAYS} days after starts_on, less one",
    )
    reason: Title = Field(examples=["春节"])


class ClosureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int = Field(examples=[3])
    venue_id: str = Field(examples=["venue-07"])
    starts_on: date = Field(examples=["2027-01-28"])
    ends_on: date = Field(examples=["2027-02-03"])
    reason: str = Field(examples=["春节"])


class VenueDetailOut(VenueOut):
    hours: list[DayHoursOut] = Field(description="the seven weekdays, Monday first")
    closures: list[ClosureOut] = Field(description="by start date")
