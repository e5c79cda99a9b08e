"""The recent taps as the live stream shows them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field


class LiveCheckinOut(BaseModel):
    """A tap as centre staff see it: never a card number, a name only masked."""

    event_id: UUID = Field(examples=["0b6f6d4e-8a43-4c1e-9a8e-8d7f3b2a1c0d"])
    site_id: str = Field(examples=["centre-01"])
    device_id: str = Field(examples=["reader-1"])
    device_time: datetime = Field(examples=["2026-11-27T08:30:00Z"])
    received_at: datetime = Field(examples=["2026-11-27T08:30:00.120Z"])
    decision: str = Field(examples=["allowed"], description="the edge's: allowed, unknown...")
    card_ref: str = Field(
        examples=["3f79bb7b"],
        description="the first 8 characters of the card's keyed hash: tells unknown cards apart "
        "without handing out the city-wide pseudonym",
    )
    member: str | None = Field(examples=["王*东"], description="masked; null: an unknown card")
    activity: str | None = Field(
        examples=["学习党章党规·主题党日"], description="null: a walk-in, or not at a centre"
    )
    activity_id: int | None = Field(examples=[501])
