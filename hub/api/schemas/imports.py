"""What a roster import answers: the rows taken, or every bad row."""

from __future__ import annotations

from pydantic import BaseModel, Field

from hub.api.schemas import FROM_ROWS as _FROM_ROWS
from hub.org.roster import RosterKind


class RowErrorOut(BaseModel):
    model_config = _FROM_ROWS
    line: int = Field(examples=[4], description="1 is the header; 0 the file as a whole")
    column: str | None = Field(examples=["unit_code"])
    reason: str = Field(examples=["no unit with code 'U09'"])


class ImportReportOut(BaseModel):
    model_config = _FROM_ROWS
    kind: RosterKind
    rows: int = Field(examples=[230])
    created: int = Field(examples=[228])
    updated: int = Field(
        examples=[2], description="rows matched to a record and changed (an equal row is not)"
    )
    errors: list[RowErrorOut] = Field(description="empty when imported; else nothing was")
