"""The organisation's registry, written: sub-districts, communities, grids, party organisations,
units, alliances and their chairs, agreements and their menus, volunteer teams and their members
(``organisation.write``: records staff and operators).

Each collection has create, update, archive and restore (``hub.api.write_routes``); the rules of
the organisation (grid levels, party organisation kinds, one chair at a time) are
``hub.org.registry``'s. Every change is in the audit log, with the user who made it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, status
from sqlalchemy.orm import Session

from hub.api.auth import require
from hub.api.crud import found
from hub.api.deps import SessionDep
from hub.api.errors import AUTHENTICATED, refusals
from hub.api.params import RecordId
from hub.api.routes.organisation import agreement_detail, alliance_detail, team_members_out
from hub.api.schemas.organisation import (
    AgreementDetailOut,
    AgreementIn,
    AgreementPatch,
    AllianceDetailOut,
    AllianceIn,
    AlliancePatch,
    ChairIn,
    ChairPatch,
    CommunityIn,
    CommunityOut,
    CommunityPatch,
    GridIn,
    GridOut,
    GridPatch,
    PartyOrgIn,
    PartyOrgOut,
    PartyOrgPatch,
    SubdistrictIn,
    SubdistrictOut,
    SubdistrictPatch,
    TeamMembersIn,
    TeamMembersOut,
    UnitIn,
    UnitOut,
    UnitPatch,
    VolunteerTeamIn,
    VolunteerTeamOut,
    VolunteerTeamPatch,
)
from hub.api.write_routes import Writes, add_writes, check
from hub.api.writing import apply, commit, field_error
from hub.auth import Permission
from hub.org import registry
from hub.org.models import (
    Agreement,
    Alliance,
    AllianceChair,
    Community,
    Grid,
    Member,
    PartyOrg,
    ServiceCentre,
    Subdistrict,
    Unit,
    VolunteerTeam,
)

router = APIRouter(
    tags=["organisation"],
    dependencies=[Depends(require(Permission.ORGANISATION_WRITE))],
    responses=AUTHENTICATED,
)


def _plain(out: Any) -> Any:
    """The detail of a table whose detail route returns the row as its ``Out``."""
    return lambda _session, row: out.model_validate(row)


def _menu(session: Session, agreement: Agreement, extra: dict[str, Any]) -> None:
    registry.replace_menu(
        session, agreement.id, [(i["direction"], i["title"]) for i in extra["menu"]]
    )


_NAMED = ("code", "name")
for _path, _writes in (
    (
        "/subdistricts",
        Writes(
            table=Subdistrict,
            name="subdistrict",
            what="sub-district",
            id_name="subdistrict_id",
            create=SubdistrictIn,
            patch=SubdistrictPatch,
            out=SubdistrictOut,
            detail=_plain(SubdistrictOut),
            required=_NAMED,
        ),
    ),
    (
        "/communities",
        Writes(
            table=Community,
            name="community",
            what="community",
            id_name="community_id",
            create=CommunityIn,
            patch=CommunityPatch,
            out=CommunityOut,
            detail=_plain(CommunityOut),
            references={"subdistrict_id": Subdistrict, "centre_id": ServiceCentre},
            required=(*_NAMED, "subdistrict_id"),
        ),
    ),
    (
        "/grids",
        Writes(
            table=Grid,
            name="grid",
            what="grid",
            id_name="grid_id",
            create=GridIn,
            patch=GridPatch,
            out=GridOut,
            detail=_plain(GridOut),
            references={"community_id": Community, "parent_id": Grid},
            required=(*_NAMED, "community_id", "level"),
            rules=registry.check_grid,
        ),
    ),
    (
        "/party-orgs",
        Writes(
            table=PartyOrg,
            name="party_org",
            what="party organisation",
            id_name="party_org_id",
            create=PartyOrgIn,
            patch=PartyOrgPatch,
            out=PartyOrgOut,
            detail=_plain(PartyOrgOut),
            references={
                "parent_id": PartyOrg,
                "subdistrict_id": Subdistrict,
                "community_id": Community,
                "grid_id": Grid,
            },
            required=(*_NAMED, "kind"),
            rules=registry.check_party_org,
        ),
    ),
    (
        "/units",
        Writes(
            table=Unit,
            name="unit",
            what="unit",
            id_name="unit_id",
            create=UnitIn,
            patch=UnitPatch,
            out=UnitOut,
            detail=_plain(UnitOut),
            references={"community_id": Community, "alliance_id": Alliance},
            required=(*_NAMED, "kind"),
        ),
    ),
    (
        "/alliances",
        Writes(
            table=Alliance,
            name="alliance",
            what="alliance",
            id_name="alliance_id",
            create=AllianceIn,
            patch=AlliancePatch,
            out=AllianceDetailOut,
            detail=alliance_detail,
            references={"subdistrict_id": Subdistrict},
            required=_NAMED,
        ),
    ),
    (
        "/agreements",
        Writes(
            table=Agreement,
            name="agreement",
            what="agreement",
            id_name="agreement_id",
            create=AgreementIn,
            patch=AgreementPatch,
            out=AgreementDetailOut,
            detail=agreement_detail,
            references={"community_id": Community, "unit_id": Unit},
            required=("code", "community_id", "unit_id", "signed_on"),
            rules=lambda _session, row: registry.check_period(row.signed_on, row.ends_on),
            extras=("menu",),
            save_extras=_menu,
        ),
    ),
    (
        "/volunteer-teams",
        Writes(
            table=VolunteerTeam,
            name="volunteer_team",
            what="team",
            id_name="team_id",
            create=VolunteerTeamIn,
            patch=VolunteerTeamPatch,
            out=VolunteerTeamOut,
            detail=_plain(VolunteerTeamOut),
            references={"community_id": Community, "unit_id": Unit},
            required=(*_NAMED, "kind", "community_id"),
        ),
    ),
):
    add_writes(router, _path, _writes)


# --- an alliance's chairs --------------------------------------------------------------------

AllianceId = Annotated[RecordId, Path(examples=[1])]
ChairId = Annotated[RecordId, Path(examples=[1])]
RecordIdPath = Annotated[RecordId, Path()]
"""(No example: a deletion's example could be sent once only.)"""
_CHAIR = Writes(
    table=AllianceChair,
    name="chair",
    what="chair",
    id_name="chair_id",
    create=ChairIn,
    patch=ChairPatch,
    out=AllianceDetailOut,
    detail=alliance_detail,
    references={"unit_id": Unit},
    required=("unit_id", "starts_on", "ends_on"),
    unique=(),
    rules=registry.check_chair,
)


def _chair(session: Session, alliance_id: int, chair_id: int) -> AllianceChair:
    chair = session.get(AllianceChair, chair_id)
    if chair is None or chair.alliance_id != alliance_id:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no chair {chair_id} of alliance {alliance_id}"
        )
    return chair


@router.post(
    "/alliances/{alliance_id}/chairs",
    response_model=AllianceDetailOut,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(400, 404, 409),
)
def create_chair(session: SessionDep, alliance_id: AllianceId, body: ChairIn) -> AllianceDetailOut:
    """A unit of the alliance chairs it for a period: 201 with the alliance, its chairs in
    order. Periods of one alliance may not overlap (409 naming ``starts_on``)."""
    alliance = found(session, Alliance, alliance_id, "alliance")
    if alliance.archived_at is not None:  # the alliance's state, not the request's fault
        raise field_error(
            "alliance_id",
            f"alliance {alliance_id} is archived: restore it first",
            "state",
            status.HTTP_409_CONFLICT,
        )
    chair = AllianceChair(alliance_id=alliance_id, **body.model_dump())
    check(session, _CHAIR, chair, body.model_dump())
    session.add(chair)
    commit(session, clash_field="starts_on")
    return alliance_detail(session, alliance)


@router.patch(
    "/alliances/{alliance_id}/chairs/{chair_id}",
    response_model=AllianceDetailOut,
    responses=refusals(400, 404, 409),
)
def update_chair(
    session: SessionDep, alliance_id: AllianceId, chair_id: ChairId, body: ChairPatch
) -> AllianceDetailOut:
    """Change a chair's unit or period (the fields given)."""
    alliance = found(session, Alliance, alliance_id, "alliance")
    chair = _chair(session, alliance_id, chair_id)
    changes = body.model_dump(exclude_unset=True)
    with session.no_autoflush:
        apply(chair, changes, _CHAIR.required)
    check(session, _CHAIR, chair, changes)
    commit(session, clash_field="starts_on")
    return alliance_detail(session, alliance)


@router.delete(
    "/alliances/{alliance_id}/chairs/{chair_id}",
    response_model=AllianceDetailOut,
    responses=refusals(404),
)
def delete_chair(
    session: SessionDep, alliance_id: RecordIdPath, chair_id: RecordIdPath
) -> AllianceDetailOut:
    """Withdraw a chair entered by mistake (the audit log keeps what it was)."""
    alliance = found(session, Alliance, alliance_id, "alliance")
    session.delete(_chair(session, alliance_id, chair_id))
    commit(session, clash_field="chair_id")
    return alliance_detail(session, alliance)


# --- a volunteer team's members ----------------------------------------------------------------

TeamId = Annotated[RecordId, Path(examples=[1])]


@router.put(
    "/volunteer-teams/{team_id}/members",
    response_model=TeamMembersOut,
    responses=refusals(400, 404),
)
def replace_team_members(
    session: SessionDep, team_id: TeamId, body: TeamMembersIn
) -> TeamMembersOut:
    """Make the team's members these: those who stay keep the day they joined; an archived
    member may stay but not join."""
    found(session, VolunteerTeam, team_id, "team")
    current = {m.member_id for m in registry.team_members(session, team_id)}
    for member_id in body.member_ids:
        if member_id in current:
            continue
        member = session.get(Member, member_id)
        if member is None:
            raise field_error("member_ids", f"member_ids: no member {member_id}", "reference")
        if member.archived_at is not None:
            raise field_error(
                "member_ids", f"member_ids: member {member_id} is archived", "archived"
            )
    registry.replace_team_members(session, team_id, body.member_ids)
    commit(session, clash_field="member_ids")
    return team_members_out(session, team_id)
