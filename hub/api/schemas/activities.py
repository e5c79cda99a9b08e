"""Activities and the attendance made from check-ins."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from hub.api.params import BodyId, Time
from hub.api.schemas import FROM_ROWS as _FROM_ROWS
from hub.org.names import Name, Title
from mqtt_contract.topics import ID_PATTERN

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
