"""Recorded events, newest first, filtered and paged: check-ins, counter and bay readings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from hub.api.auth import require
from hub.api.deps import LimitQuery, OffsetQuery, SessionDep
from hub.api.errors import AUTHENTICATED
from hub.api.filters import DeviceQuery, SinceQuery, SiteQuery, UntilQuery, event_conditions
from hub.api.schemas import Page
from hub.api.schemas.checkins import BayReadingOut, CheckinOut, CounterReadingOut
from hub.api.scope import site_conditions
from hub.auth import Permission, Principal
from hub.ingest.models import BayReading, Checkin, CounterReading, EventTable

router = APIRouter(tags=["records"], responses=AUTHENTICATED)

CheckinsReader = Annotated[Principal, Depends(require(Permission.CHECKINS_READ))]
ReadingsReader = Annotated[Principal, Depends(require(Permission.READINGS_READ))]


def _newest_first(
    session: Session,
    table: EventTable,
    conditions: list[ColumnElement[bool]],
    offset: int,
    limit: int,
) -> tuple[int, Sequence[Any]]:
    count = session.scalar(select(func.count()).select_from(table).where(*conditions)) or 0
    rows = session.scalars(
        select(table)
        .where(*conditions)
        .order_by(table.device_time.desc(), table.seq.desc(), table.event_id)
        .offset(offset)
        .limit(limit)
    ).all()
    return count, rows


@router.get("/checkins", response_model=Page[CheckinOut])
def list_checkins(  # noqa: PLR0917 - FastAPI passes every query parameter by keyword
    session: SessionDep,
    principal: CheckinsReader,
    site: SiteQuery = None,
    device: DeviceQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[CheckinOut]:
    """Card taps as recorded, newest device time first; ``count`` is the total matching.
    A centre's staff get their centre's taps (``site`` of another centre: 403)."""
    where = event_conditions(Checkin, None, device, since, until)
    where += site_conditions(principal, Checkin.site_id, site)
    count, rows = _newest_first(session, Checkin, where, offset, limit)
    return Page[CheckinOut](data=[CheckinOut.model_validate(r) for r in rows], count=count)


@router.get("/counter-readings", response_model=Page[CounterReadingOut])
def list_counter_readings(  # noqa: PLR0917 - FastAPI passes every query parameter by keyword
    session: SessionDep,
    principal: ReadingsReader,
    site: SiteQuery = None,
    device: DeviceQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[CounterReadingOut]:
    """People-counter registers as read at venue gates (cumulative; they wrap and reset).
    A venue manager gets its own venues' readings."""
    where = event_conditions(CounterReading, None, device, since, until)
    where += site_conditions(principal, CounterReading.site_id, site)
    count, rows = _newest_first(session, CounterReading, where, offset, limit)
    data = [CounterReadingOut.model_validate(r) for r in rows]
    return Page[CounterReadingOut](data=data, count=count)


@router.get("/bay-readings", response_model=Page[BayReadingOut])
def list_bay_readings(  # noqa: PLR0917 - FastAPI passes every query parameter by keyword
    session: SessionDep,
    principal: ReadingsReader,
    site: SiteQuery = None,
    device: DeviceQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[BayReadingOut]:
    """Car-park bay occupancy as reported by bay sensors."""
    where = event_conditions(BayReading, None, device, since, until)
    where += site_conditions(principal, BayReading.site_id, site)
    count, rows = _newest_first(session, BayReading, where, offset, limit)
    return Page[BayReadingOut](data=[BayReadingOut.model_validate(r) for r in rows], count=count)
