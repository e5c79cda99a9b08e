"""The registry's writes: service centres and venues (``registry.write``: operators), and what a
venue manager keeps current of its own unit's venues (``venues.hours``): weekday hours, closures,
capacity and alert threshold. Reading them is ``organisation.read``, as the rest of the
structure; a venue's detail carries its hours and closures.

The rules beyond the types are ``hub.venues.admin``'s; every write is audited (``hub.audit``)
and, when the ingest runs in this process, the occupancy service reloads the registry at once,
so the next readings are judged by the new capacity, threshold and hours.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, status
from sqlalchemy.orm import Session

from hub.api.auth import require
from hub.api.crud import found, page_of
from hub.api.deps import IngestDep, SessionDep
from hub.api.errors import AUTHENTICATED, refusals
from hub.api.listing import PagingDep
from hub.api.params import RecordId
from hub.api.routes.organisation import get_service_centre
from hub.api.schemas import Page
from hub.api.schemas.organisation import ServiceCentreDetailOut, VenueOut
from hub.api.schemas.registry import (
    ClosureIn,
    ClosureOut,
    DayHoursIn,
    DayHoursOut,
    ServiceCentreIn,
    ServiceCentrePatch,
    VenueDetailOut,
    VenueIn,
    VenuePatch,
)
from hub.api.scope import ensure_unit
from hub.api.writing import (
    apply,
    archive,
    check_references,
    check_unique,
    commit,
    field_error,
    only_fields,
    restore,
)
from hub.auth import Permission, Principal
from hub.org.models import Agreement, Community, ServiceCentre, Unit
from hub.venues import admin
from hub.venues.models import Venue, VenueClosure
from mqtt_contract.topics import ID_PATTERN

router = APIRouter(tags=["registry"], responses=AUTHENTICATED)

Reader = Annotated[Principal, Depends(require(Permission.ORGANISATION_READ))]
Operator = Annotated[Principal, Depends(require(Permission.REGISTRY_WRITE))]
Keeper = Annotated[Principal, Depends(require(Permission.VENUE_HOURS_WRITE))]
CentreId = Annotated[str, Path(pattern=ID_PATTERN, examples=["centre-01"])]
VenueId = Annotated[str, Path(pattern=ID_PATTERN, examples=["venue-07"])]
Hours = Annotated[
    list[DayHoursIn],
    Body(
        max_length=7,
        examples=[
            [{"weekday": d, "opens_at": "07:00", "closes_at": "21:00"} for d in range(6)]
            + [{"weekday": 6, "opens_at": None, "closes_at": None}]
        ],
    ),
]

_CREATE = refusals(404, 409)
_UPDATE = refusals(404, 409)
_404 = refusals(404)
_REQUIRED = (
    *("name", "kind", "unit_id", "community_id", "address", "capacity"),
    *("alert_threshold_pct", "opens_at", "closes_at", "public_count"),
)


def _refused(err: admin.FieldError) -> Exception:
    code = status.HTTP_409_CONFLICT if err.kind == "duplicate" and not err.at else 422
    return field_error(err.field, str(err), err.kind, code, err.at)


def _reload(ingest: IngestDep) -> None:
    if ingest is not None:
        ingest.registry_changed()


# --- service centres ----------------------------------------------------------------------------


def _site_taken(session: Session, site: str) -> None:
    """A centre's and a venue's id are both site ids: one namespace."""
    check_unique(session, ServiceCentre, {"id": site})
    check_unique(session, Venue, {"id": site})


@router.post(
    "/service-centres",
    response_model=ServiceCentreDetailOut,
    status_code=status.HTTP_201_CREATED,
    responses=_CREATE,
)
def create_service_centre(
    session: SessionDep, principal: Operator, body: ServiceCentreIn
) -> ServiceCentreDetailOut:
    """Register a service centre (its id is its edge's site id)."""
    _site_taken(session, body.id)
    check_references(session, {"community_id": (Community, body.community_id)})
    session.add(ServiceCentre(**body.model_dump()))
    commit(session, clash_field="id")
    return get_service_centre(session, principal, body.id)


@router.patch(
    "/service-centres/{centre_id}", response_model=ServiceCentreDetailOut, responses=_UPDATE
)
def update_service_centre(
    session: SessionDep, principal: Operator, centre_id: CentreId, body: ServiceCentrePatch
) -> ServiceCentreDetailOut:
    centre = found(session, ServiceCentre, centre_id, "service centre")
    changes = body.model_dump(exclude_unset=True)
    check_references(session, {"community_id": (Community, changes.get("community_id"))})
    apply(centre, changes, required=("name", "community_id"))
    commit(session)
    return get_service_centre(session, principal, centre_id)


@router.post(
    "/service-centres/{centre_id}/archive", response_model=ServiceCentreDetailOut, responses=_404
)
def archive_service_centre(
    session: SessionDep, principal: Operator, centre_id: CentreId
) -> ServiceCentreDetailOut:
    """Archive a centre: hidden from lists, its check-ins and activities kept."""
    archive(session, found(session, ServiceCentre, centre_id, "service centre"))
    return get_service_centre(session, principal, centre_id)


@router.post(
    "/service-centres/{centre_id}/restore", response_model=ServiceCentreDetailOut, responses=_404
)
def restore_service_centre(
    session: SessionDep, principal: Operator, centre_id: CentreId
) -> ServiceCentreDetailOut:
    restore(session, found(session, ServiceCentre, centre_id, "service centre"))
    return get_service_centre(session, principal, centre_id)


# --- venues -------------------------------------------------------------------------------------


def _day_out(day: admin.DayHours, own: bool) -> DayHoursOut:
    return DayHoursOut(weekday=day.weekday, opens_at=day.opens_at, closes_at=day.closes_at, own=own)


def venue_detail(session: Session, venue: Venue) -> VenueDetailOut:
    return VenueDetailOut(
        **VenueOut.model_validate(venue).model_dump(),
        hours=[_day_out(d, own) for d, own in admin.week(session, venue)],
        closures=[ClosureOut.model_validate(c) for c in admin.closures(session, venue.id)],
    )


def _venue(session: Session, principal: Principal, venue_id: str) -> Venue:
    """The venue, 404; 403 for a venue manager when another unit owns it."""
    venue = found(session, Venue, venue_id, "venue")
    ensure_unit(principal, venue.unit_id)
    return venue


def _check_venue(session: Session, values: dict[str, Any], changed: set[str]) -> None:
    """The references among ``changed``, then the agreement against the venue's unit and
    community (whichever of the three changed)."""
    references: dict[str, tuple[type[Any], object]] = {
        "unit_id": (Unit, values["unit_id"]),
        "community_id": (Community, values["community_id"]),
        "agreement_id": (Agreement, values["agreement_id"]),
    }
    check_references(session, {k: v for k, v in references.items() if k in changed})
    if changed & set(references):
        try:
            admin.check_agreement(
                session,
                values["agreement_id"],
                unit_id=values["unit_id"],
                community_id=values["community_id"],
            )
        except admin.FieldError as err:
            raise _refused(err) from None


@router.get("/venue-registry/{venue_id}", response_model=VenueDetailOut, responses=_404)
def get_venue_registration(session: SessionDep, _: Reader, venue_id: VenueId) -> VenueDetailOut:
    """A venue as registered, with its weekday hours and its closures."""
    return venue_detail(session, found(session, Venue, venue_id, "venue"))


@router.post(
    "/venue-registry",
    response_model=VenueDetailOut,
    status_code=status.HTTP_201_CREATED,
    responses=_CREATE,
)
def create_venue(
    session: SessionDep, _: Operator, ingest: IngestDep, body: VenueIn
) -> VenueDetailOut:
    """Register a venue (its id is its edge's site id)."""
    _site_taken(session, body.id)
    values = body.model_dump()
    _check_venue(session, values, set(values))
    venue = Venue(**values)
    session.add(venue)
    commit(session, clash_field="id")
    _reload(ingest)
    return venue_detail(session, venue)


@router.patch("/venue-registry/{venue_id}", response_model=VenueDetailOut, responses=_UPDATE)
def update_venue(
    session: SessionDep, principal: Keeper, ingest: IngestDep, venue_id: VenueId, body: VenuePatch
) -> VenueDetailOut:
    """Change the fields given. An operator may change any; a venue manager only the
    capacity and the alert threshold of its own unit's venues (403 naming any other field).
    The next readings are judged by the new values."""
    venue = _venue(session, principal, venue_id)
    changes = body.model_dump(exclude_unset=True)
    if not principal.can(Permission.REGISTRY_WRITE):
        only_fields(changes, admin.MANAGER_FIELDS, f"a {principal.role.value}")
    current = {k: getattr(venue, k) for k in ("unit_id", "community_id", "agreement_id")}
    _check_venue(session, {**current, **changes}, set(changes))
    apply(venue, changes, required=_REQUIRED)
    commit(session)
    _reload(ingest)
    return venue_detail(session, venue)


@router.post("/venue-registry/{venue_id}/archive", response_model=VenueDetailOut, responses=_404)
def archive_venue(
    session: SessionDep, _: Operator, ingest: IngestDep, venue_id: VenueId
) -> VenueDetailOut:
    """Archive a venue: hidden from lists; its occupancy and sharing records kept."""
    venue = found(session, Venue, venue_id, "venue")
    archive(session, venue)
    _reload(ingest)
    return venue_detail(session, venue)


@router.post("/venue-registry/{venue_id}/restore", response_model=VenueDetailOut, responses=_404)
def restore_venue(
    session: SessionDep, _: Operator, ingest: IngestDep, venue_id: VenueId
) -> VenueDetailOut:
    venue = found(session, Venue, venue_id, "venue")
    restore(session, venue)
    _reload(ingest)
    return venue_detail(session, venue)


# --- weekday hours and closures -----------------------------------------------------------------


@router.get("/venue-registry/{venue_id}/hours", response_model=list[DayHoursOut], responses=_404)
def get_venue_hours(session: SessionDep, _: Reader, venue_id: VenueId) -> list[DayHoursOut]:
    """The seven weekdays' hours, Monday first: each weekday's own, else every day's."""
    venue = found(session, Venue, venue_id, "venue")
    return [_day_out(d, own) for d, own in admin.week(session, venue)]


@router.put("/venue-registry/{venue_id}/hours", response_model=list[DayHoursOut], responses=_404)
def set_venue_hours(
    session: SessionDep, principal: Keeper, ingest: IngestDep, venue_id: VenueId, body: Hours
) -> list[DayHoursOut]:
    """Replace the weekdays' own hours: up to seven entries, each weekday at most once; both
    times ``null`` closes that weekday; a weekday left out opens at the venue's every-day
    hours."""
    venue = _venue(session, principal, venue_id)
    days = [admin.DayHours(d.weekday, d.opens_at, d.closes_at) for d in body]
    try:
        admin.set_hours(session, venue, days)
    except admin.FieldError as err:
        raise _refused(err) from None
    commit(session, clash_field="weekday")
    _reload(ingest)
    return [_day_out(d, own) for d, own in admin.week(session, venue)]


@router.get("/venue-registry/{venue_id}/closures", response_model=Page[ClosureOut], responses=_404)
def list_venue_closures(
    session: SessionDep, _: Reader, venue_id: VenueId, page: PagingDep
) -> Page[ClosureOut]:
    """The venue's closures, by start date."""
    found(session, Venue, venue_id, "venue")
    count, rows = page_of(
        session,
        VenueClosure,
        [VenueClosure.venue_id == venue_id],
        [VenueClosure.starts_on, VenueClosure.id],
        offset=page.offset,
        limit=page.limit,
    )
    return Page(data=[ClosureOut.model_validate(c) for c in rows], count=count)


@router.post(
    "/venue-registry/{venue_id}/closures",
    response_model=ClosureOut,
    status_code=status.HTTP_201_CREATED,
    responses=_404,
)
def add_venue_closure(
    session: SessionDep, principal: Keeper, ingest: IngestDep, venue_id: VenueId, body: ClosureIn
) -> ClosureOut:
    """Close the venue on whole days (``starts_on`` to ``ends_on`` inclusive): no open day in
    the venue-sharing report and no capacity alert on them."""
    venue = _venue(session, principal, venue_id)
    try:
        closure = admin.add_closure(
            session, venue, starts_on=body.starts_on, ends_on=body.ends_on, reason=body.reason
        )
    except admin.FieldError as err:
        raise _refused(err) from None
    commit(session)
    _reload(ingest)
    return ClosureOut.model_validate(closure)


@router.delete(
    "/venue-registry/{venue_id}/closures/{closure_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_404,
)
def delete_venue_closure(
    session: SessionDep,
    principal: Keeper,
    ingest: IngestDep,
    venue_id: VenueId,
    closure_id: Annotated[RecordId, Path(examples=[3])],
) -> None:
    """Withdraw a closure (the audit log keeps what it was)."""
    _venue(session, principal, venue_id)
    if not admin.remove_closure(session, venue_id, closure_id):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no closure {closure_id} of venue {venue_id}"
        )
    commit(session)
    _reload(ingest)
