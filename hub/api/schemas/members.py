"""In-service members and their registrations with communities.

Member names are masked in every response (王*东); card numbers are accepted on enrolment and
never returned, only whether a card is enrolled.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from hub.api.params import BodyId, Day
from hub.api.schemas import FROM_ROWS as _FROM_ROWS
from hub.org.models import CODE_LENGTH
from hub.org.names import Name

CODE_PATTERN = rf"^[A-Za-z0-9_-]{{1,{CODE_LENGTH}}}$"


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
    archived_at: datetime | None = Field(
        default=None, examples=[None], description="when the member was archived; null: in use"
    )


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
