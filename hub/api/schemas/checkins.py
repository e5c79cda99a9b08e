"""Recorded events: check-ins, counter and bay readings."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

_BOOT = "7f0c1a52-2d1e-4c55-9a51-2b0c3a4d5e6f"
_TIME = "2026-11-27T08:30:00Z"


class _EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event_id: UUID = Field(examples=["0b6f6d4e-8a43-4c1e-9a8e-8d7f3b2a1c0d"])
    site_id: str = Field(examples=["centre-01"])
    device_id: str = Field(examples=["reader-1"])
    boot: UUID = Field(examples=[_BOOT], description="the edge agent's boot that sent it")
    seq: int = Field(examples=[1042], description="the site's sequence number")
    device_time: datetime = Field(examples=[_TIME], description="when the device read it")
    received_at: datetime = Field(examples=["2026-11-27T08:30:00.120Z"])


class CheckinOut(_EventOut):
    card_hash: str = Field(
        examples=["3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea"],
        description="keyed hash of the card number; the number itself never leaves the edge",
    )
    decision: str = Field(examples=["allowed"])
    allowlist_version: int | None = Field(examples=[12])


class CounterReadingOut(_EventOut):
    unit_id: int = Field(examples=[1], description="Modbus address")
    device_boots: int = Field(examples=[3], description="changes when the counters restart at 0")
    count_in: int = Field(examples=[5120])
    count_out: int = Field(examples=[5004])
    status: int = Field(examples=[0])


class BayReadingOut(_EventOut):
    unit_id: int = Field(examples=[2])
    bays: str = Field(examples=["0110100000"], description='one character per bay, "1" occupied')
    occupied: int = Field(examples=[3])
    total: int = Field(examples=[10])
