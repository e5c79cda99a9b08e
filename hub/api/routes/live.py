"""``GET /api/v1/live/checkins``: the recent taps exactly as the live stream shows them (masked
name, activity), so a page can draw its feed and then keep it up to date from the stream."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import func, select

from hub.api.auth import require
from hub.api.deps import LimitQuery, OffsetQuery, SessionDep
from hub.api.errors import AUTHENTICATED
from hub.api.filters import DeviceQuery, SinceQuery, SiteQuery, UntilQuery, event_conditions
from hub.api.schemas import Page
from hub.api.schemas.live import LiveCheckinOut
from hub.api.scope import site_conditions
from hub.auth import Permission, Principal
from hub.ingest.models import Checkin
from hub.live import card_ref
from hub.org.models import Activity, Attendance, Member
from hub.org.names import mask_name

router = APIRouter(prefix="/live", tags=["live"], responses=AUTHENTICATED)


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
