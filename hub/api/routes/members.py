"""In-service members and registrations: list, detail, create and update (what staff do by hand).

A card number given on enrolment is hashed with the card key at once and never stored or
returned; the allowlists of the centres follow within ``HUB_ALLOWLIST_INTERVAL_S``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.api.auth import require
from hub.api.crud import conflict, equal, found, referenced
from hub.api.deps import SessionDep, SettingsDep
from hub.api.errors import AUTHENTICATED, refusals
from hub.api.listing import Conditions, add_detail, add_list, add_list_and_detail
from hub.api.params import IdQuery, RecordId
from hub.api.schemas.members import (
    CODE_PATTERN,
    MemberDetailOut,
    MemberIn,
    MemberOut,
    MemberPatch,
    RegistrationIn,
    RegistrationOut,
    RegistrationPatch,
)
from hub.api.writing import ArchivedQuery, archive, restore, unarchived
from hub.auth import Permission
from hub.core.settings import HubSettings
from hub.org.cards import enrolled_card
from hub.org.models import Community, Grid, Member, PartyOrg, Registration, Unit
from hub.org.names import mask_name

router = APIRouter(
    tags=["members"],
    dependencies=[Depends(require(Permission.RECORDS_READ))],
    responses=AUTHENTICATED,
)
_WRITE = [Depends(require(Permission.RECORDS_WRITE))]
_CREATE = refusals(400, 409)
_UPDATE = refusals(400, 404, 409)


def member_out(member: Member) -> MemberOut:
    return MemberOut(
        id=member.id,
        code=member.code,
        name=mask_name(member.name),
        unit_id=member.unit_id,
        community_id=member.community_id,
        grid_id=member.grid_id,
        party_org_id=member.party_org_id,
        in_service=member.in_service,
        card_enrolled=member.card_hash is not None,
        archived_at=member.archived_at,
    )


def _detail(session: Session, member: Member) -> MemberDetailOut:
    registrations = session.scalars(
        select(Registration)
        .where(Registration.member_id == member.id)
        .order_by(Registration.registered_on)
    )
    return MemberDetailOut(
        **member_out(member).model_dump(),
        registrations=[RegistrationOut.model_validate(r) for r in registrations],
    )


def member_filters(  # noqa: PLR0917 - FastAPI passes every query parameter by keyword
    unit_id: IdQuery = None,
    community_id: IdQuery = None,
    party_org_id: IdQuery = None,
    in_service: bool | None = None,
    registered: Annotated[
        bool | None, Query(description="has (or has not) registered with a community")
    ] = None,
    code: Annotated[str | None, Query(pattern=CODE_PATTERN, examples=["M00042"])] = None,
    archived: ArchivedQuery = False,
) -> Conditions:
    where = unarchived(Member, archived) + equal(
        (Member.unit_id, unit_id),
        (Member.community_id, community_id),
        (Member.party_org_id, party_org_id),
    )
    if in_service is not None:
        where.append(Member.in_service.is_(in_service))
    if code is not None:
        where.append(Member.code == code)
    if registered is not None:
        has = exists().where(Registration.member_id == Member.id)
        where.append(has if registered else ~has)
    return where


add_list(
    router,
    "/members",
    table=Member,
    out=MemberOut,
    to_out=member_out,
    order_by=[Member.code],
    filters=member_filters,
    name="list_members",
    doc="在职党员: in-service members; names are masked.",
)
add_detail(
    router,
    "/members",
    table=Member,
    out=MemberDetailOut,
    detail=_detail,
    what="member",
    id_name="member_id",
    name="get_member",
)


@router.post(
    "/members",
    response_model=MemberDetailOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=_WRITE,
    responses=_CREATE,
)
def create_member(session: SessionDep, settings: SettingsDep, body: MemberIn) -> MemberDetailOut:
    """Enrol a member; ``card`` (optional) is hashed, never stored."""
    _check_references(session, body.model_dump())
    values = body.model_dump(exclude={"card"})
    member = Member(**values, **_card(settings, body.card))
    session.add(member)
    _commit(session, f"member code {body.code!r} or its card is taken")
    return _detail(session, member)


@router.patch(
    "/members/{member_id}", response_model=MemberDetailOut, dependencies=_WRITE, responses=_UPDATE
)
def update_member(
    session: SessionDep, settings: SettingsDep, member_id: RecordId, body: MemberPatch
) -> MemberDetailOut:
    member = found(session, Member, member_id, "member")
    changes = body.model_dump(exclude_unset=True)
    _check_references(
        session, {"community_id": member.community_id, "grid_id": member.grid_id, **changes}
    )
    if "card" in changes:
        for column, value in _card(settings, changes.pop("card")).items():
            setattr(member, column, value)
    for field, value in changes.items():
        if value is None and field in {"name", "unit_id", "community_id", "in_service"}:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{field} cannot be null")
        setattr(member, field, value)
    _commit(session, "that card is enrolled for another member")
    return _detail(session, member)


@router.post(
    "/members/{member_id}/archive",
    response_model=MemberDetailOut,
    dependencies=_WRITE,
    responses=refusals(404),
)
def archive_member(session: SessionDep, member_id: RecordId) -> MemberDetailOut:
    """A member who has left: hidden from lists (``?archived=true`` shows them), kept for the
    attendance and registrations that refer to them, not to be newly referred to."""
    member = found(session, Member, member_id, "member")
    archive(session, member)
    return _detail(session, member)


@router.post(
    "/members/{member_id}/restore",
    response_model=MemberDetailOut,
    dependencies=_WRITE,
    responses=refusals(404),
)
def restore_member(session: SessionDep, member_id: RecordId) -> MemberDetailOut:
    member = found(session, Member, member_id, "member")
    restore(session, member)
    return _detail(session, member)


def registration_filters(
    community_id: IdQuery = None, member_id: IdQuery = None, unit_id: IdQuery = None
) -> Conditions:
    return equal(
        (Registration.community_id, community_id),
        (Registration.member_id, member_id),
        (Registration.unit_id, unit_id),
    )


add_list_and_detail(
    router,
    "/registrations",
    table=Registration,
    out=RegistrationOut,
    order_by=[Registration.registered_on.desc(), Registration.id.desc()],
    filters=registration_filters,
    list_name="list_registrations",
    list_doc="报到: members' and units' reports to communities, newest first.",
    detail_name="get_registration",
    id_name="registration_id",
    what="registration",
)


@router.post(
    "/registrations",
    response_model=RegistrationOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=_WRITE,
    responses=_CREATE,
)
def create_registration(session: SessionDep, body: RegistrationIn) -> RegistrationOut:
    """Record a member's or a unit's report to a community (exactly one of the two)."""
    if (body.member_id is None) == (body.unit_id is None):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "give exactly one of member_id and unit_id"
        )
    referenced(session, Community, body.community_id, "community_id")
    referenced(session, Member, body.member_id, "member_id")
    referenced(session, Unit, body.unit_id, "unit_id")
    registration = Registration(**body.model_dump())
    session.add(registration)
    _commit(session, "already registered with that community")
    return RegistrationOut.model_validate(registration)


@router.patch(
    "/registrations/{registration_id}",
    response_model=RegistrationOut,
    dependencies=_WRITE,
    responses=_UPDATE,
)
def update_registration(
    session: SessionDep, registration_id: RecordId, body: RegistrationPatch
) -> RegistrationOut:
    registration = found(session, Registration, registration_id, "registration")
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    referenced(session, Community, changes.get("community_id"), "community_id")
    for field, value in changes.items():
        setattr(registration, field, value)
    _commit(session, "already registered with that community")
    return RegistrationOut.model_validate(registration)


def _check_references(session: Session, values: dict[str, Any]) -> None:
    for field, model in (
        ("unit_id", Unit),
        ("community_id", Community),
        ("grid_id", Grid),
        ("party_org_id", PartyOrg),
    ):
        referenced(session, model, values.get(field), field)
    grid = session.get(Grid, values["grid_id"]) if values.get("grid_id") is not None else None
    if grid is not None and grid.community_id != values.get("community_id"):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"grid_id: grid {grid.id} is not in community {values.get('community_id')}",
        )


def _card(settings: HubSettings, card: str | None) -> dict[str, str | None]:
    try:
        return enrolled_card(settings, card)  # the city hash and the sealed vault entry
    except ValueError as exc:  # no card key on this hub (or its key file is unusable)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None


def _commit(session: Session, clash: str) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise conflict(clash) from None
