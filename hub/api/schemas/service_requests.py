"""Service requests (服务事项转办): what the workflow's routes take and give."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hub.api.params import BodyId
from hub.org.models import (
    CATEGORY_MAX_CHARS,
    CONTACT_MAX_CHARS,
    NOTE_MAX_CHARS,
    PLACE_MAX_CHARS,
    SUMMARY_MAX_CHARS,
)
from hub.org.names import TEXT_PATTERN
from hub.org.requests import (
    CONTACT_PATTERN,
    check_category,
    check_contact,
    check_note,
    check_place,
    check_summary,
)

_RULE = "no control or invisible characters, no space at either end, not beginning with = + - @"
_STRICT = ConfigDict(extra="forbid")

Summary = Annotated[
    str,
    Field(
        min_length=1,
        max_length=SUMMARY_MAX_CHARS,
        description=f"the matter, 1 to {SUMMARY_MAX_CHARS} characters on one line: {_RULE}",
        examples=["楼道照明损坏"],
        json_schema_extra={"pattern": TEXT_PATTERN},
    ),
    AfterValidator(check_summary),
]
Place = Annotated[
    str,
    Field(
        min_length=1,
        max_length=PLACE_MAX_CHARS,
        description=f"where, 1 to {PLACE_MAX_CHARS} characters: {_RULE}",
        examples=["3号楼2单元"],
        json_schema_extra={"pattern": TEXT_PATTERN},
    ),
    AfterValidator(check_place),
]
Note = Annotated[
    str,
    Field(
        min_length=1,
        max_length=NOTE_MAX_CHARS,
        description=f"1 to {NOTE_MAX_CHARS} characters: {_RULE}",
        examples=["已更换灯泡"],
        json_schema_extra={"pattern": TEXT_PATTERN},
    ),
    AfterValidator(check_note),
]
Category = Annotated[
    str,
    Field(
        min_length=1,
        max_length=CATEGORY_MAX_CHARS,
        description=f"1 to {CATEGORY_MAX_CHARS} characters: {_RULE}",
        examples=["设施维修"],
        json_schema_extra={"pattern": TEXT_PATTERN},
    ),
    AfterValidator(check_category),
]
Contact = Annotated[
    str,
    Field(
        min_length=1,
        max_length=CONTACT_MAX_CHARS,
        description="a phone number (7 to 15 digits, an optional leading +) or an e-mail address",
        examples=["13812345678"],
        json_schema_extra={"pattern": CONTACT_PATTERN},
    ),
    AfterValidator(check_contact),
]


class PublicRequestIn(BaseModel):
    """A resident's request: the matter, the place, and a way to reach back if they wish."""

    model_config = _STRICT
    community_id: BodyId = Field(examples=[3], description="the community where it is")
    summary: Summary
    place: Place | None = None
    contact: Contact | None = Field(
        default=None, description="optional; masked wherever it is shown, cleared when done"
    )


class PublicRequestOut(BaseModel):
    id: int = Field(examples=[3201], description="the request's number, to quote when asking")
    status: Literal["raised"] = "raised"


class PublicCommunityOut(BaseModel):
    id: int = Field(examples=[3])
    name: str = Field(examples=["康乐社区"])


class RequestIn(BaseModel):
    """A request raised by staff for a resident (no contact: staff reach residents otherwise)."""

    model_config = _STRICT
    community_id: BodyId = Field(examples=[3])
    summary: Summary
    category: Category | None = Field(default=None, description="null: 待分类 (unclassified)")
    place: Place | None = None


class ClassifyIn(BaseModel):
    model_config = _STRICT
    category: Category


class TransferIn(BaseModel):
    model_config = _STRICT
    unit_id: BodyId = Field(examples=[12], description="the unit that is to solve it")


class ReasonIn(BaseModel):
    model_config = _STRICT
    reason: Note


class ResolveIn(BaseModel):
    model_config = _STRICT
    note: Note


class RequestEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int = Field(examples=[9001])
    at: datetime = Field(examples=["2026-03-02T05:00:00Z"])
    actor: str = Field(examples=["centre-01-staff"], description="a user, public or system")
    kind: str = Field(examples=["transferred"])
    unit_id: int | None = Field(examples=[12])
    note: str | None = Field(examples=[None])


class SuggestionOut(BaseModel):
    unit_id: int = Field(examples=[12])
    unit_name: str = Field(examples=["原平市康乐供电公司"])
    agreement_id: int = Field(examples=[40])
    offers: list[str] = Field(examples=[["家电维修"]], description="the menu's matching offers")


class CategoryOut(BaseModel):
    category: str = Field(examples=["设施维修"])
    deadline_days: float = Field(examples=[5])


class ContactOut(BaseModel):
    contact: str | None = Field(examples=["13812345678"], description="whole; null: none left")
