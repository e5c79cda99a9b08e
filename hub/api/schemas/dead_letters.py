"""Messages that did not validate."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

_TIME = "2026-11-27T08:30:00Z"


class DeadLetterOut(BaseModel):
    id: int = Field(examples=[17])
    received_at: datetime = Field(examples=[_TIME])
    topic: str = Field(examples=["yp/v1/centre-01/reader-1/checkin"])
    size: int = Field(examples=[11], description="size of the whole payload in bytes")
    truncated: bool = Field(description="only the first bytes were kept (payload too large)")
    reason_kind: str = Field(examples=["not_json"])
    reason: str = Field(examples=["payload is not JSON: Expecting value: line 1 column 1"])
    payload_base64: str = Field(examples=["bm90IGpzb24gOig="])
    preview: str = Field(
        examples=["not json :("], description="the payload as UTF-8, at most 200 characters"
    )
