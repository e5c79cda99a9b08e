"""``GET /api/v1/live/checkins``: the recent taps exactly as the live stream shows them (masked
name, activity), so a page can draw its feed and then keep it up to date from the stream."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from hub.api.deps import LimitQuery, OffsetQuery, SessionDep
from hub.api.errors import AUTHENTICATED
from hub.api.filters import DeviceQuery, SinceQuery, SiteQuery, UntilQuery, event_conditions
from hub.api.schemas import Page
from hub.auth import Permission, Principal
from hub.auth.deps import require
from hub.auth.scope import site_conditions
from hub.ingest.models import Checkin
from hub.live import card_ref
from hub.org.models import Activity, Attendance, Member
from hub.org.names import mask_name

router = APIRouter(prefix="/api/v1/live", tags=["live"], responses=AUTHENTICATED)


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


@router.get("/checkins", response_model=Page[LiveCheckinOut])
def live_checkins(  # noqa: PLR0917 - FastAPI passes every query parameter by keyword
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Permission.CHECKINS_READ))],
    site: SiteQuery = None,
    device: DeviceQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[LiveCheckinOut]:
    """Taps newest first, with the member's masked name and the activity they counted toward."""
    where = event_conditions(Checkin, None, device, since, until)
    where += site_conditions(principal, Checkin.site_id, site)
    count = session.scalar(select(func.count()).select_from(Checkin).where(*where)) or 0
    rows = session.execute(
        select(Checkin, Member.name, Activity.title, Activity.id)
        .outerjoin(Attendance, Attendance.event_id == Checkin.event_id)
        .outerjoin(Member, Member.id == Attendance.member_id)
        .outerjoin(Activity, Activity.id == Attendance.activity_id)
        .where(*where)
        .order_by(Checkin.device_time.desc(), Checkin.seq.desc(), Checkin.event_id)
        .offset(offset)
        .limit(limit)
    )
    data = [
        LiveCheckinOut(
            event_id=tap.event_id,
            site_id=tap.site_id,
            device_id=tap.device_id,
            device_time=tap.device_time,
            received_at=tap.received_at,
            decision=tap.decision,
            card_ref=card_ref(tap.card_hash),
            member=mask_name(name) if name else None,
            activity=title,
            activity_id=activity_id,
        )
        for tap, name, title, activity_id in rows
    ]
    return Page(data=data, count=count)
