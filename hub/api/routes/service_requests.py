"""服务事项转办: the service-request workflow for staff and units (``/api/v1/service-requests``).

Who sees which requests (docs/security.md): the operator and the records staff every one; a
centre_staff (the community's official) those of the communities its centre serves; a
unit_contact those transferred to its unit. A request outside the caller's scope is 404, as if it
were not there (its existence is itself about a resident). The resident's contact is masked in
every answer; ``GET .../contact`` gives it whole to the unit working on the request, and records
that it did in the request's history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from hub.api.auth import require
from hub.api.crud import page_of
from hub.api.deps import LimitQuery, OffsetQuery, SessionDep, SettingsDep
from hub.api.errors import AUTHENTICATED, refusals
from hub.api.params import IdQuery, RecordId
from hub.api.schemas import Page
from hub.api.schemas.organisation import RequestStatus, ServiceRequestOut
from hub.api.schemas.service_requests import (
    CategoryOut,
    ClassifyIn,
    ContactOut,
    ReasonIn,
    RequestEventOut,
    RequestIn,
    ResolveIn,
    SuggestionOut,
    TransferIn,
)
from hub.api.writing import check_references, field_error
from hub.auth import Permission, Principal, Role
from hub.core.settings import HubSettings
from hub.org import requests as flow
from hub.org.models import Community, ServiceRequest, Unit

router = APIRouter(tags=["service requests"], responses=AUTHENTICATED)

Reader = Annotated[Principal, Depends(require(Permission.REQUESTS_READ))]
Manager = Annotated[Principal, Depends(require(Permission.REQUESTS_MANAGE))]
Handler = Annotated[Principal, Depends(require(Permission.REQUESTS_HANDLE))]
RequestPath = Annotated[RecordId, Path(examples=[301])]
Queue = Literal["community", "unit"]
_404 = refusals(404)
OTHER_CATEGORY = "其他"
"""Listed last: any category not in the table takes its deadline."""
_MOVE = refusals(404, 409)
_MOVE_WITH_BODY = refusals(400, 404, 409)


def deadlines_of(settings: HubSettings) -> flow.Deadlines:
    return flow.Deadlines.with_overrides(settings.request_deadline_days)


def scope_conditions(principal: Principal) -> list[ColumnElement[bool]]:
    """The requests ``principal`` may see: all, its centre's communities', or its unit's."""
    if principal.role is Role.CENTRE_STAFF:
        served = select(Community.id).where(Community.centre_id == principal.centre_id)
        return [ServiceRequest.community_id.in_(served)]
    if principal.role is Role.UNIT_CONTACT:
        return [ServiceRequest.unit_id == principal.unit_id]
    return []


def request_out(request: ServiceRequest) -> ServiceRequestOut:
    return ServiceRequestOut(
        id=request.id,
        community_id=request.community_id,
        category=request.category,
        summary=request.summary,
        status=request.status,
        raised_at=request.raised_at,
        unit_id=request.unit_id,
        transferred_at=request.transferred_at,
        resolved_at=request.resolved_at,
        resolution=request.resolution,
        source=request.source,
        place=request.place,
        contact=flow.mask_contact(request.contact),
        due_at=request.due_at,
        escalated_at=request.escalated_at,
        accepted_at=request.accepted_at,
        confirmed_at=request.confirmed_at,
    )


def _visible(session: Session, principal: Principal, request_id: int) -> ServiceRequest:
    """The request, or 404 when it is not there or outside the caller's scope."""
    row = session.scalars(
        select(ServiceRequest).where(ServiceRequest.id == request_id, *scope_conditions(principal))
    ).one_or_none()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no service request {request_id}")
    return row


def _move(session: Session, request: ServiceRequest, do: Callable[[], None]) -> ServiceRequestOut:
    try:
        do()
    except flow.RequestStateError as e:
        raise field_error("status", str(e), "state", status.HTTP_409_CONFLICT) from e
    session.commit()
    return request_out(request)


def request_filters(
    community_id: IdQuery = None,
    unit_id: IdQuery = None,
    request_status: Annotated[RequestStatus | None, Query(alias="status")] = None,
    queue: Annotated[
        Queue | None,
        Query(description="community: raised, declined, resolved; unit: transferred, accepted"),
    ] = None,
    escalated: Annotated[bool | None, Query(description="true: past the deadline")] = None,
) -> list[ColumnElement[bool]]:
    r = ServiceRequest
    conditions: list[ColumnElement[bool]] = []
    if community_id is not None:
        conditions.append(r.community_id == community_id)
    if unit_id is not None:
        conditions.append(r.unit_id == unit_id)
    if request_status is not None:
        conditions.append(r.status == request_status)
    if queue is not None:
        conditions.append(
            r.status.in_(flow.COMMUNITY_QUEUE if queue == "community" else flow.UNIT_QUEUE)
        )
    if escalated is not None:
        conditions.append(r.escalated_at.is_not(None) if escalated else r.escalated_at.is_(None))
    return conditions


@router.get("/service-requests", response_model=Page[ServiceRequestOut])
def list_service_requests(
    session: SessionDep,
    principal: Reader,
    filters: Annotated[list[ColumnElement[bool]], Depends(request_filters)],
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> dict[str, object]:
    """服务事项转办: the requests in the caller's scope, newest first (contact masked)."""
    r = ServiceRequest
    conditions = [*scope_conditions(principal), *filters]
    count, rows = page_of(
        session, r, conditions, [r.raised_at.desc(), r.id.desc()], offset=offset, limit=limit
    )
    return {"data": [request_out(row) for row in rows], "count": count}


@router.get("/service-requests/categories", response_model=list[CategoryOut])
def request_categories(settings: SettingsDep, principal: Reader) -> list[CategoryOut]:
    """The categories and their deadlines (days from raising to resolving); any other category
    takes the default's."""
    table = deadlines_of(settings)
    rows = [CategoryOut(category=c, deadline_days=d) for c, d in table.days.items()]
    return [*rows, CategoryOut(category=OTHER_CATEGORY, deadline_days=table.other_days)]


@router.get("/service-requests/{request_id}", response_model=ServiceRequestOut, responses=_404)
def get_service_request(
    session: SessionDep, principal: Reader, request_id: RequestPath
) -> ServiceRequestOut:
    return request_out(_visible(session, principal, request_id))


@router.get(
    "/service-requests/{request_id}/history",
    response_model=list[RequestEventOut],
    responses=_404,
)
def service_request_history(
    session: SessionDep, principal: Reader, request_id: RequestPath
) -> list[RequestEventOut]:
    """Every step: who did what, when, oldest first."""
    _visible(session, principal, request_id)
    return [RequestEventOut.model_validate(e) for e in flow.history(session, request_id)]


@router.get(
    "/service-requests/{request_id}/suggestions",
    response_model=list[SuggestionOut],
    responses=_404,
)
def service_request_suggestions(
    session: SessionDep, principal: Manager, request_id: RequestPath
) -> list[SuggestionOut]:
    """Units whose agreement with the community offers the category's service (from the
    supply–demand menus), best first: a suggestion; any unit may be chosen."""
    request = _visible(session, principal, request_id)
    return [
        SuggestionOut(
            unit_id=s.unit_id, unit_name=s.unit_name, agreement_id=s.agreement_id, offers=s.offers
        )
        for s in flow.suggest_units(session, request.community_id, request.category)
    ]


@router.get("/service-requests/{request_id}/contact", response_model=ContactOut, responses=_MOVE)
def service_request_contact(
    session: SessionDep, principal: Handler, request_id: RequestPath
) -> ContactOut:
    """The resident's contact, whole: for the unit that has accepted the request and works on
    it (not before, not after). Each look is a step of the request's history."""
    request = _visible(session, principal, request_id)
    if request.status != "accepted":
        raise field_error(
            "status",
            f"request {request_id} is {request.status}: the contact is shown only while the "
            "unit works on it (accepted)",
            "state",
            status.HTTP_409_CONFLICT,
        )
    flow.contact_viewed(session, request, principal.username)
    session.commit()
    return ContactOut(contact=request.contact)


@router.post(
    "/service-requests",
    response_model=ServiceRequestOut,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(400, 403),
)
def raise_service_request(
    session: SessionDep, settings: SettingsDep, principal: Manager, body: RequestIn
) -> ServiceRequestOut:
    """Raise a request for a resident, in a community of the caller's scope."""
    check_references(session, {"community_id": (Community, body.community_id)})
    if principal.role is Role.CENTRE_STAFF:
        community = session.get(Community, body.community_id)
        if community is None or community.centre_id != principal.centre_id:
            raise field_error(
                "community_id",
                f"community_id: community {body.community_id} is not served by centre "
                f"{principal.centre_id}",
                "scope",
                status.HTTP_403_FORBIDDEN,
            )
    request = flow.raise_request(
        session,
        community_id=body.community_id,
        summary=body.summary,
        category=body.category or flow.UNCLASSIFIED,
        place=body.place,
        actor=principal.username,
        deadlines=deadlines_of(settings),
    )
    session.commit()
    return request_out(request)


@router.post(
    "/service-requests/{request_id}/classify",
    response_model=ServiceRequestOut,
    responses=_MOVE_WITH_BODY,
)
def classify_service_request(
    session: SessionDep,
    settings: SettingsDep,
    principal: Manager,
    request_id: RequestPath,
    body: ClassifyIn,
) -> ServiceRequestOut:
    """Its category, and with it the deadline (counted from when it was raised)."""
    request = _visible(session, principal, request_id)
    return _move(
        session,
        request,
        lambda: flow.classify(
            session, request, body.category, principal.username, deadlines=deadlines_of(settings)
        ),
    )


@router.post(
    "/service-requests/{request_id}/transfer",
    response_model=ServiceRequestOut,
    responses=_MOVE_WITH_BODY,
)
def transfer_service_request(
    session: SessionDep, principal: Manager, request_id: RequestPath, body: TransferIn
) -> ServiceRequestOut:
    """To the unit that is to solve it (``/suggestions`` proposes some)."""
    request = _visible(session, principal, request_id)
    check_references(session, {"unit_id": (Unit, body.unit_id)})
    return _move(
        session,
        request,
        lambda: flow.transfer(session, request, body.unit_id, principal.username),
    )


@router.post(
    "/service-requests/{request_id}/accept", response_model=ServiceRequestOut, responses=_MOVE
)
def accept_service_request(
    session: SessionDep, principal: Handler, request_id: RequestPath
) -> ServiceRequestOut:
    request = _visible(session, principal, request_id)
    return _move(session, request, lambda: flow.accept(session, request, principal.username))


@router.post(
    "/service-requests/{request_id}/decline",
    response_model=ServiceRequestOut,
    responses=_MOVE_WITH_BODY,
)
def decline_service_request(
    session: SessionDep, principal: Handler, request_id: RequestPath, body: ReasonIn
) -> ServiceRequestOut:
    """Not the unit's to solve: back in the community's queue with the reason."""
    request = _visible(session, principal, request_id)
    return _move(
        session,
        request,
        lambda: flow.decline(session, request, body.reason, principal.username),
    )


@router.post(
    "/service-requests/{request_id}/resolve",
    response_model=ServiceRequestOut,
    responses=_MOVE_WITH_BODY,
)
def resolve_service_request(
    session: SessionDep, principal: Handler, request_id: RequestPath, body: ResolveIn
) -> ServiceRequestOut:
    request = _visible(session, principal, request_id)
    return _move(
        session,
        request,
        lambda: flow.resolve(session, request, body.note, principal.username),
    )


@router.post(
    "/service-requests/{request_id}/confirm", response_model=ServiceRequestOut, responses=_MOVE
)
def confirm_service_request(
    session: SessionDep, principal: Manager, request_id: RequestPath
) -> ServiceRequestOut:
    """Done, as the community sees it; the resident's contact is cleared."""
    request = _visible(session, principal, request_id)
    return _move(session, request, lambda: flow.confirm(session, request, principal.username))


@router.post(
    "/service-requests/{request_id}/reopen",
    response_model=ServiceRequestOut,
    responses=_MOVE_WITH_BODY,
)
def reopen_service_request(
    session: SessionDep, principal: Manager, request_id: RequestPath, body: ReasonIn
) -> ServiceRequestOut:
    """Not solved after all: back to the unit, with the reason."""
    request = _visible(session, principal, request_id)
    return _move(
        session,
        request,
        lambda: flow.reopen(session, request, body.reason, principal.username),
    )
