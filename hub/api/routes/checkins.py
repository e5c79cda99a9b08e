"""Recorded check-ins, newest first, filtered and paged."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime, BeforeValidator
from sqlalchemy import func, select

from hub.api.deps import LimitQuery, OffsetQuery, SessionDep
from hub.api.schemas import CheckinOut, Page
from hub.models import Checkin
from mqtt_contract.topics import ID_PATTERN

router = APIRouter(prefix="/api/v1", tags=["records"])

_SPACED_OFFSET = re.compile(r"(\d) (\d{2}(:?\d{2})?)$")


def _plus_restored(value: Any) -> Any:
    """An unencoded ``+08:00`` in a URL arrives as `` 08:00``: read it as the offset it was."""
    if isinstance(value, str):
        return _SPACED_OFFSET.sub(r"\1+\2", value.strip("\n"))
    return value


QueryTime = Annotated[AwareDatetime, BeforeValidator(_plus_restored)]
SiteQuery = Annotated[str | None, Query(pattern=ID_PATTERN, examples=["centre-01"])]
DeviceQuery = Annotated[str | None, Query(pattern=ID_PATTERN, examples=["reader-1"])]


@router.get("/checkins", response_model=Page[CheckinOut])
def list_checkins(  # noqa: PLR0917 - every query parameter is a keyword to FastAPI
    session: SessionDep,
    site: SiteQuery = None,
    device: DeviceQuery = None,
    since: Annotated[
        QueryTime | None,
        Query(
            description="device time from (inclusive), ISO 8601 with an offset",
            examples=["2026-11-27T00:00:00+08:00"],
        ),
    ] = None,
    until: Annotated[
        QueryTime | None,
        Query(description="device time before (exclusive), ISO 8601 with an offset"),
    ] = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[CheckinOut]:
    if since is not None and until is not None and since > until:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail="'since' must not be after 'until'"
        )
    conditions = []
    if site is not None:
        conditions.append(Checkin.site_id == site)
    if device is not None:
        conditions.append(Checkin.device_id == device)
    if since is not None:
        conditions.append(Checkin.device_time >= since)
    if until is not None:
        conditions.append(Checkin.device_time < until)
    count = session.scalar(select(func.count()).select_from(Checkin).where(*conditions)) or 0
    rows = session.scalars(
        select(Checkin)
        .where(*conditions)
        .order_by(Checkin.device_time.desc(), Checkin.seq.desc(), Checkin.event_id)
        .offset(offset)
        .limit(limit)
    )
    return Page(data=[CheckinOut.model_validate(row) for row in rows], count=count)
