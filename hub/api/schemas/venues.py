"""Response models of the venue endpoints: live occupancy, series, alerts, venue-sharing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from hub.api.params import LocalTime

_TIME = "2026-11-27T10:30:00Z"


class AlertOut(BaseModel):
    id: int = Field(examples=[12])
    venue_id: str = Field(examples=["venue-07"])
    state: Literal["open", "cleared"] = Field(examples=["open"])
    raised_at: datetime = Field(examples=[_TIME])
    cleared_at: datetime | None = Field(examples=[None])
    capacity: int = Field(examples=[300])
    threshold_pct: float = Field(examples=[90.0], description="raised at or above this")
    clear_below_pct: float = Field(examples=[80.0], description="cleared below this")
    occupancy_at_raise: int = Field(examples=[271])
    peak_occupancy: int = Field(examples=[288])
    occupancy_at_clear: int | None = Field(examples=[None])
    published: bool = Field(description="the edge was told (MQTT) of the latest change")


class LiveOut(BaseModel):
    occupancy: int = Field(examples=[212])
    capacity: int = Field(examples=[300])
    ratio_pct: float = Field(examples=[70.67])
    source: Literal["counters", "bays", "none"] = Field(
        examples=["counters"], description="bay sensors override gate counters"
    )
    visits_today: int = Field(examples=[640], description="people in since the last closing")
    day_start: datetime = Field(examples=["2026-11-26T13:00:00Z"], description="the last reset")
    as_of: datetime | None = Field(examples=[_TIME], description="newest reading used")
    updated_at: datetime = Field(examples=[_TIME])


class VenueOut(BaseModel):
    id: str = Field(examples=["venue-07"])
    name: str = Field(examples=["原平市第一中学运动场"])
    kind: Literal["sports_ground", "car_park", "other"]
    unit_id: int = Field(examples=[30], description="the owner unit")
    unit_name: str = Field(examples=["原平市第一中学"])
    community_id: int = Field(examples=[5])
    address: str = Field(examples=["原平市朝阳路12号"])
    capacity: int = Field(examples=[300])
    opens_at: LocalTime = Field(examples=["07:00:00"], description="local time (Asia/Shanghai)")
    closes_at: LocalTime = Field(examples=["21:00:00"], description="occupancy resets to zero then")
    alert_threshold_pct: float = Field(examples=[90.0])
    live: LiveOut | None = Field(description="null until the venue's sensors have reported")
    alert: AlertOut | None = Field(description="the open capacity alert, if any")


class OccupancyPointOut(BaseModel):
    start: datetime = Field(examples=["2026-11-27T10:25:00Z"])
    end: datetime = Field(examples=["2026-11-27T10:30:00Z"])
    readings: int = Field(examples=[600])
    visits: int = Field(examples=[14], description="people in during the bucket")
    peak: int = Field(examples=[215])
    mean: float = Field(examples=[209.4], description="time-weighted over the bucket")
    last: int = Field(examples=[212], description="occupancy at the bucket's end")


class OccupancySeriesOut(BaseModel):
    venue_id: str = Field(examples=["venue-07"])
    step: Literal["5m", "1h"]
    capacity: int = Field(examples=[300])
    data: list[OccupancyPointOut]
    count: int = Field(examples=[288])


class SessionOut(BaseModel):
    day: date = Field(examples=["2026-11-27"])
    opens: datetime = Field(examples=["2026-11-26T23:00:00Z"])
    closes: datetime = Field(examples=["2026-11-27T13:00:00Z"])
    visits: int = Field(examples=[640])
    peak: int = Field(examples=[288])
    mean_occupancy: float = Field(examples=[97.5])
    first_visit_at: datetime | None = Field(examples=["2026-11-26T23:05:00Z"])
    last_visit_at: datetime | None = Field(examples=["2026-11-27T12:55:00Z"])


class VenueMonthOut(BaseModel):
    venue_id: str = Field(examples=["venue-07"])
    name: str = Field(examples=["原平市第一中学运动场"])
    kind: str = Field(examples=["sports_ground"])
    unit_id: int = Field(examples=[30])
    unit_name: str = Field(examples=["原平市第一中学"])
    capacity: int = Field(examples=[300])
    open_days: int = Field(examples=[29], description="days someone came during opening hours")
    visits: int = Field(examples=[18250])
    peak: int = Field(examples=[296])
    mean_occupancy: float = Field(examples=[61.3], description="over observed opening hours")
    utilisation_pct: float = Field(examples=[20.43])
    open_hours: float = Field(examples=[420.0], description="opening hours the schedule gives")
    observed_hours: int = Field(examples=[412], description="opening hours with readings")


class UnitMonthOut(BaseModel):
    unit_id: int = Field(examples=[30])
    unit_name: str = Field(examples=["原平市第一中学"])
    venues: int = Field(examples=[2])
    capacity: int = Field(examples=[420])
    open_days: int = Field(examples=[58])
    visits: int = Field(examples=[25010])
    peak_pct: float = Field(examples=[98.67])
    utilisation_pct: float = Field(examples=[18.2])


class VenueSharingOut(BaseModel):
    month: str = Field(examples=["2026-11"])
    venues: list[VenueMonthOut]
    units: list[UnitMonthOut]
