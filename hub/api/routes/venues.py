"""Shared venues: the registry with live occupancy and alert state, occupancy series, capacity
alerts and the monthly venue-sharing report (JSON or CSV).

A venue manager sees the venues of its owner unit (the unit that opened them): lists are narrowed
to them, and another unit's venue is 403.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hub.api.auth import require
from hub.api.deps import LimitQuery, OffsetQuery, SessionDep
from hub.api.errors import AUTHENTICATED, refusals
from hub.api.filters import QueryTime
from hub.api.params import IdQuery, Month, RecordId
from hub.api.schemas import Page
from hub.api.schemas.venues import (
    AlertOut,
    LiveOut,
    OccupancyPointOut,
    OccupancySeriesOut,
    SessionOut,
    UnitMonthOut,
    VenueMonthOut,
    VenueOut,
    VenueSharingOut,
)
from hub.api.scope import ensure_site, ensure_unit, unit_conditions
from hub.auth import Permission, Principal
from hub.org.models import Unit
from hub.venues import reports, rollups
from hub.venues.models import CapacityAlertRecord, Venue, VenueOccupancy
from mqtt_contract.topics import ID_PATTERN

router = APIRouter(tags=["venues"], responses=AUTHENTICATED)

VenueId = Annotated[str, Path(pattern=ID_PATTERN, examples=["venue-07"])]
MonthQuery = Month
UnitQuery = Annotated[RecordId | None, Query(description="owner unit id", examples=[30])]
_404 = refusals(404)
MAX_SPAN = {"5m": timedelta(days=31), "1h": timedelta(days=366)}

VenuesReader = Annotated[Principal, Depends(require(Permission.VENUES_READ))]


def _alert_out(a: CapacityAlertRecord) -> AlertOut:
    published = (
        a.cleared_published_at is not None
        if a.cleared_at is not None
        else a.raised_published_at is not None
    )
    return AlertOut(
        id=a.id,
        venue_id=a.venue_id,
        state="open" if a.cleared_at is None else "cleared",
        raised_at=a.raised_at,
        cleared_at=a.cleared_at,
        capacity=a.capacity,
        threshold_pct=a.threshold_pct,
        clear_below_pct=a.clear_below_pct,
        occupancy_at_raise=a.occupancy_at_raise,
        peak_occupancy=a.peak_occupancy,
        occupancy_at_clear=a.occupancy_at_clear,
        published=published,
    )


def _venue_out(
    venue: Venue, unit_name: str, live: VenueOccupancy | None, alert: CapacityAlertRecord | None
) -> VenueOut:
    live_out = None
    if live is not None:
        live_out = LiveOut(
            occupancy=live.occupancy,
            capacity=live.capacity,
            # a stored row must not fail the whole list: no ratio without a capacity (the
            # registry keeps capacities >= 1), and a source the hub never writes is no source
            ratio_pct=round(100 * live.occupancy / live.capacity, 2) if live.capacity > 0 else 0.0,
            source=live.source if live.source in {"counters", "bays"} else "none",
            visits_today=live.visits,
            day_start=live.day_start,
            as_of=live.as_of,
            updated_at=live.updated_at,
        )
    return VenueOut(
        id=venue.id,
        name=venue.name,
        kind=venue.kind,
        unit_id=venue.unit_id,
        unit_name=unit_name,
        community_id=venue.community_id,
        address=venue.address,
        capacity=venue.capacity,
        opens_at=venue.opens_at,
        closes_at=venue.closes_at,
        alert_threshold_pct=venue.alert_threshold_pct,
        live=live_out,
        alert=_alert_out(alert) if alert is not None else None,
    )


def _venues_query() -> Select[Venue, str, VenueOccupancy, CapacityAlertRecord]:
    open_alert = CapacityAlertRecord.cleared_at.is_(None)
    return (
        select(Venue, Unit.name, VenueOccupancy, CapacityAlertRecord)
        .join(Unit, Unit.id == Venue.unit_id)
        .outerjoin(VenueOccupancy, VenueOccupancy.venue_id == Venue.id)
        .outerjoin(CapacityAlertRecord, (CapacityAlertRecord.venue_id == Venue.id) & open_alert)
    )


@router.get("/venues", response_model=Page[VenueOut])
def list_venues(  # noqa: PLR0917 - FastAPI passes every query parameter by keyword
    session: SessionDep,
    principal: VenuesReader,
    kind: Annotated[Literal["sports_ground", "car_park", "other"] | None, Query()] = None,
    unit: UnitQuery = None,
    community: IdQuery = None,
    alerting: Annotated[bool | None, Query(description="only venues with an open alert")] = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[VenueOut]:
    """Every venue with its live occupancy and open capacity alert (a venue manager: its own)."""
    conditions: list[Any] = []
    if kind is not None:
        conditions.append(Venue.kind == kind)
    conditions += unit_conditions(principal, Venue.unit_id, unit)
    if community is not None:
        conditions.append(Venue.community_id == community)
    if alerting is not None:
        conditions.append(
            CapacityAlertRecord.id.is_not(None) if alerting else CapacityAlertRecord.id.is_(None)
        )
    query = _venues_query().where(*conditions)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Venue.id).offset(offset).limit(limit)).all()
    return Page[VenueOut](data=[_venue_out(*row) for row in rows], count=count)


@router.get("/venues/{venue_id}", response_model=VenueOut, responses=_404)
def get_venue(session: SessionDep, principal: VenuesReader, venue_id: VenueId) -> VenueOut:
    row = session.execute(_venues_query().where(Venue.id == venue_id)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no venue {venue_id!r}")
    ensure_unit(principal, row[0].unit_id)
    return _venue_out(*row)


def _venue(session: Session, principal: Principal, venue_id: str) -> Venue:
    venue = session.get(Venue, venue_id)
    if venue is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no venue {venue_id!r}")
    ensure_unit(principal, venue.unit_id)
    return venue


@router.get("/venues/{venue_id}/occupancy", response_model=OccupancySeriesOut, responses=_404)
def venue_occupancy(  # noqa: PLR0917 - FastAPI passes every query parameter by keyword
    session: SessionDep,
    principal: VenuesReader,
    venue_id: VenueId,
    since: Annotated[
        QueryTime | None,
        Query(alias="from", description="bucket start from (inclusive); default: `to` − 24 h"),
    ] = None,
    until: Annotated[
        QueryTime | None, Query(alias="to", description="bucket start before; default: now")
    ] = None,
    step: Annotated[Literal["5m", "1h"], Query(description="bucket size")] = "5m",
) -> OccupancySeriesOut:
    """Occupancy per 5 minutes or per hour (buckets that have closed; the live value is on the
    venue itself)."""
    venue = _venue(session, principal, venue_id)
    until = until or datetime.now(UTC)
    since = since or until - timedelta(hours=24)
    if since > until:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail="'from' must not be after 'to'"
        )
    if until - since > MAX_SPAN[step]:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"at most {MAX_SPAN[step].days} days at step {step}",
        )
    points = rollups.series(session.connection(), venue_id, step, since, until)
    data = [OccupancyPointOut.model_validate(asdict(p)) for p in points]
    return OccupancySeriesOut(
        venue_id=venue_id, step=step, capacity=venue.capacity, data=data, count=len(data)
    )


@router.get("/venues/{venue_id}/sessions", response_model=Page[SessionOut], responses=_404)
def venue_sessions(
    session: SessionDep, principal: VenuesReader, venue_id: VenueId, month: MonthQuery
) -> Page[SessionOut]:
    """The days of a month on which the venue was in use during its opening hours."""
    _venue(session, principal, venue_id)  # 404, or 403 outside the scope
    conn = session.connection()
    days = reports.day_sessions(
        conn, venue_id, reports.month_calendar(conn, venue_id, month), month
    )
    return Page[SessionOut](
        data=[SessionOut.model_validate(asdict(d)) for d in days], count=len(days)
    )


@router.get("/alerts", response_model=Page[AlertOut])
def list_alerts(  # noqa: PLR0917 - FastAPI passes every query parameter by keyword
    session: SessionDep,
    principal: VenuesReader,
    venue: Annotated[str | None, Query(pattern=ID_PATTERN, examples=["venue-07"])] = None,
    unit: UnitQuery = None,
    state: Annotated[Literal["open", "cleared", "all"], Query()] = "all",
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[AlertOut]:
    """Capacity alerts, newest first."""
    a = CapacityAlertRecord
    query = select(a)
    if venue is not None:
        ensure_site(principal, venue)
        query = query.where(a.venue_id == venue)
    by_unit = unit_conditions(principal, Venue.unit_id, unit)
    if by_unit:
        query = query.join(Venue, Venue.id == a.venue_id).where(*by_unit)
    if state == "open":
        query = query.where(a.cleared_at.is_(None))
    elif state == "cleared":
        query = query.where(a.cleared_at.is_not(None))
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(a.raised_at.desc(), a.id.desc()).offset(offset).limit(limit)
    )
    return Page[AlertOut](data=[_alert_out(r) for r in rows], count=count)


CSV_MEDIA = "text/csv; charset=utf-8"


@router.get(
    "/reports/venue-sharing",
    response_model=VenueSharingOut,
    responses={200: {"content": {CSV_MEDIA: {}}}},
)
def venue_sharing(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Permission.VENUE_SHARING_READ))],
    month: MonthQuery,
    format: Annotated[Literal["json", "csv"], Query(description="csv: a spreadsheet")] = "json",
    by: Annotated[Literal["venue", "unit"], Query(description="rows of the CSV")] = "venue",
) -> Any:
    """Per venue and per owner unit for a month: open days, visits, peak, mean occupancy and
    utilisation. ``format=csv`` gives one table (``by`` venue or unit), UTF-8 with a BOM so
    that spreadsheet programs read the Chinese names. A venue manager gets its unit's rows."""
    venues, units = reports.venue_sharing(session.connection(), month)
    if principal.unit_id is not None:  # a venue manager: its own unit's rows
        venues = [v for v in venues if v.unit_id == principal.unit_id]
        units = [u for u in units if u.unit_id == principal.unit_id]
    if format == "json":
        return VenueSharingOut(
            month=month,
            venues=[VenueMonthOut.model_validate(asdict(v)) for v in venues],
            units=[UnitMonthOut.model_validate(asdict(u)) for u in units],
        )
    rows = [asdict(v) for v in venues] if by == "venue" else [asdict(u) for u in units]
    fields = list((VenueMonthOut if by == "venue" else UnitMonthOut).model_fields)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    filename = f"venue-sharing-{month}-{by}.csv"
    return Response(
        ("\ufeff" + out.getvalue()).encode(),
        media_type=CSV_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
