"""Response models of the public venue pages (``/public/v1``, no login): what anyone may know
of a venue, and nothing that names a person, a unit's contact or a device."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from hub.api.params import LocalTime


class HoursOut(BaseModel):
    opens_at: LocalTime = Field(examples=["06:00"])
    closes_at: LocalTime = Field(examples=["22:00"], description="at or before opens_at: next day")


class PublicVenueOut(BaseModel):
    id: str = Field(examples=["venue-07"])
    name: str = Field(examples=["原平市第二中学操场"])
    kind: Literal["sports_ground", "car_park", "other"] = Field(examples=["sports_ground"])
    address: str = Field(examples=["原平市新原路12号"])
    subdistrict: str = Field(examples=["北城街道"])
    community: str = Field(examples=["新原社区"])
    latitude: float | None = Field(examples=[38.73], description="WGS-84 degrees")
    longitude: float | None = Field(examples=[112.71], description="WGS-84 degrees")
    hours_today: HoursOut | None = Field(description="today's opening hours; null: closed today")
    open_now: bool
    level: Literal["plenty", "filling_up", "nearly_full", "closed"] = Field(
        examples=["filling_up"],
        description="closed outside the hours; else against the venue's alert threshold T: "
        "nearly_full at or above T % of capacity, filling_up from T-30 %, else plenty",
    )
    occupancy: int | None = Field(
        examples=[212], description="the exact count, only where the venue makes it public"
    )
    capacity: int | None = Field(examples=[300], description="likewise")


class PublicVenuesOut(BaseModel):
    data: list[PublicVenueOut]
    count: int


class PublicMapOut(BaseModel):
    tile_url: str | None = Field(
        examples=["https://tiles.example.cn/{z}/{x}/{y}.png"],
        description="the city's raster tiles (HUB_MAP_TILE_URL); null: outlines only",
    )
    base_url: str = Field(
        examples=["https://venues.example.cn"], description="where the venue pages are reached"
    )


class OutlinesOut(BaseModel):
    features: int = Field(examples=[12])
    vertices: int = Field(examples=[4810])
