"""The annual dual-reporting assessment."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class CountOut(BaseModel):
    key: str | None = Field(examples=["2026-03"])
    count: int = Field(examples=[118])


class RequestStatsOut(BaseModel):
    """Service requests (服务事项转办) in the year: docs/records.md says how each is counted."""

    received: int = Field(examples=[14])
    resolved: int = Field(examples=[12])
    median_hours_to_resolve: float | None = Field(
        examples=[52.5], description="from raising to resolving; null: none resolved"
    )
    overdue: int = Field(examples=[1], description="resolved after, or open past, the deadline")


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
    requests: RequestStatsOut = Field(description="service requests transferred to the unit")


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
    requests: RequestStatsOut = Field(description="service requests raised in the community")


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
