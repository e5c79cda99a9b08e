"""The organisation, read only: sub-districts, communities, grids, party organisations, units,
alliances, agreements, service centres, volunteer teams, the venue registry (service requests:
``hub.api.routes.service_requests``).

Lists are filtered and paged (``{"data": [...], "count": N}``); each record has a detail route.
The structure is no one's personal data: every role may read it (``organisation.read``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.api.auth import require
from hub.api.crud import equal, found
from hub.api.deps import SessionDep
from hub.api.errors import AUTHENTICATED, refusals
from hub.api.listing import Conditions, add_detail, add_list, add_list_and_detail
from hub.api.params import IdQuery, RecordId
from hub.api.schemas.organisation import (
    AgreementDetailOut,
    AgreementOut,
    AllianceDetailOut,
    AllianceOut,
    ChairOut,
    CommunityOut,
    GridOut,
    MenuItemOut,
    PartyOrgKind,
    PartyOrgOut,
    ReaderOut,
    ServiceCentreDetailOut,
    ServiceCentreOut,
    SubdistrictOut,
    TeamMemberOut,
    TeamMembersOut,
    UnitKind,
    UnitOut,
    VenueOut,
    VolunteerTeamOut,
)
from hub.api.writing import ArchivedQuery, unarchived
from hub.auth import Permission, Principal
from hub.ingest.models import Device
from hub.org.models import (
    Agreement,
    Alliance,
    AllianceChair,
    AllowlistVersion,
    Community,
    Grid,
    PartyOrg,
    ServiceCentre,
    ServiceMenuItem,
    Subdistrict,
    Unit,
    VolunteerTeam,
)
from hub.org.registry import team_members
from hub.venues.models import Venue
from mqtt_contract.topics import ID_PATTERN

router = APIRouter(
    tags=["organisation"],
    dependencies=[Depends(require(Permission.ORGANISATION_READ))],
    responses=AUTHENTICATED,
)
_RECORDS_READ = [Depends(require(Permission.RECORDS_READ))]
_404 = refusals(404)

SiteQuery = Annotated[str | None, Query(pattern=ID_PATTERN, examples=["centre-01"])]
SitePath = Annotated[str, Path(pattern=ID_PATTERN, examples=["centre-01"])]
RecordIdPath = Annotated[RecordId, Path(examples=[1])]


def subdistrict_filters(archived: ArchivedQuery = False) -> Conditions:
    return unarchived(Subdistrict, archived)


add_list_and_detail(
    router,
    "/subdistricts",
    table=Subdistrict,
    out=SubdistrictOut,
    order_by=[Subdistrict.code],
    filters=subdistrict_filters,
    list_name="list_subdistricts",
    list_doc="街道: the sub-district offices.",
    detail_name="get_subdistrict",
    id_name="subdistrict_id",
    what="sub-district",
)


def community_filters(
    subdistrict_id: IdQuery = None, centre_id: SiteQuery = None, archived: ArchivedQuery = False
) -> Conditions:
    return [
        *unarchived(Community, archived),
        *equal((Community.subdistrict_id, subdistrict_id), (Community.centre_id, centre_id)),
    ]


add_list_and_detail(
    router,
    "/communities",
    table=Community,
    out=CommunityOut,
    order_by=[Community.code],
    filters=community_filters,
    list_name="list_communities",
    list_doc="社区: communities, by sub-district or by the service centre that serves them.",
    detail_name="get_community",
    id_name="community_id",
    what="community",
)


def grid_filters(
    community_id: IdQuery = None,
    level: Annotated[int | None, Query(ge=1, le=3)] = None,
    parent_id: IdQuery = None,
    archived: ArchivedQuery = False,
) -> Conditions:
    return [
        *unarchived(Grid, archived),
        *equal((Grid.community_id, community_id), (Grid.level, level), (Grid.parent_id, parent_id)),
    ]


add_list_and_detail(
    router,
    "/grids",
    table=Grid,
    out=GridOut,
    order_by=[Grid.code],
    filters=grid_filters,
    list_name="list_grids",
    list_doc="网格: grids on three levels (community, compound or lane, building).",
    detail_name="get_grid",
    id_name="grid_id",
    what="grid",
)


def party_org_filters(
    kind: PartyOrgKind | None = None,
    parent_id: IdQuery = None,
    community_id: IdQuery = None,
    archived: ArchivedQuery = False,
) -> Conditions:
    return [
        *unarchived(PartyOrg, archived),
        *equal(
            (PartyOrg.kind, kind),
            (PartyOrg.parent_id, parent_id),
            (PartyOrg.community_id, community_id),
        ),
    ]


add_list_and_detail(
    router,
    "/party-orgs",
    table=PartyOrg,
    out=PartyOrgOut,
    order_by=[PartyOrg.code],
    filters=party_org_filters,
    list_name="list_party_orgs",
    list_doc="党组织 at the five levels; ``parent_id`` walks the chain down.",
    detail_name="get_party_org",
    id_name="party_org_id",
    what="party organisation",
)


def unit_filters(
    kind: UnitKind | None = None,
    community_id: IdQuery = None,
    alliance_id: IdQuery = None,
    archived: ArchivedQuery = False,
) -> Conditions:
    return [
        *unarchived(Unit, archived),
        *equal(
            (Unit.kind, kind), (Unit.community_id, community_id), (Unit.alliance_id, alliance_id)
        ),
    ]


add_list_and_detail(
    router,
    "/units",
    table=Unit,
    out=UnitOut,
    order_by=[Unit.code],
    filters=unit_filters,
    list_name="list_units",
    list_doc="驻区单位: resident units.",
    detail_name="get_unit",
    id_name="unit_id",
    what="unit",
)


def alliance_filters(subdistrict_id: IdQuery = None, archived: ArchivedQuery = False) -> Conditions:
    return [*unarchived(Alliance, archived), *equal((Alliance.subdistrict_id, subdistrict_id))]


def alliance_detail(session: Session, alliance: Alliance) -> AllianceDetailOut:
    chairs = session.scalars(
        select(AllianceChair)
        .where(AllianceChair.alliance_id == alliance.id)
        .order_by(AllianceChair.starts_on)
    )
    units = session.scalars(
        select(Unit.id).where(Unit.alliance_id == alliance.id).order_by(Unit.code)
    )
    return AllianceDetailOut(
        **AllianceOut.model_validate(alliance).model_dump(),
        chairs=[ChairOut.model_validate(c) for c in chairs],
        unit_ids=list(units),
    )


add_list(
    router,
    "/alliances",
    table=Alliance,
    out=AllianceOut,
    order_by=[Alliance.code],
    filters=alliance_filters,
    name="list_alliances",
    doc="党建联盟: party-building alliances.",
)
add_detail(
    router,
    "/alliances",
    table=Alliance,
    out=AllianceDetailOut,
    detail=alliance_detail,
    what="alliance",
    id_name="alliance_id",
    name="get_alliance",
    doc="An alliance with its member units and its rotating chairs.",
)


def agreement_filters(
    community_id: IdQuery = None, unit_id: IdQuery = None, archived: ArchivedQuery = False
) -> Conditions:
    return [
        *unarchived(Agreement, archived),
        *equal((Agreement.community_id, community_id), (Agreement.unit_id, unit_id)),
    ]


def agreement_detail(session: Session, agreement: Agreement) -> AgreementDetailOut:
    menu = session.scalars(
        select(ServiceMenuItem)
        .where(ServiceMenuItem.agreement_id == agreement.id)
        .order_by(ServiceMenuItem.direction.desc(), ServiceMenuItem.id)
    )
    return AgreementDetailOut(
        **AgreementOut.model_validate(agreement).model_dump(),
        menu=[MenuItemOut.model_validate(m) for m in menu],
    )


add_list(
    router,
    "/agreements",
    table=Agreement,
    out=AgreementOut,
    order_by=[Agreement.code],
    filters=agreement_filters,
    name="list_agreements",
    doc="共建协议: co-building agreements between communities and units.",
)
add_detail(
    router,
    "/agreements",
    table=Agreement,
    out=AgreementDetailOut,
    detail=agreement_detail,
    what="agreement",
    id_name="agreement_id",
    name="get_agreement",
    doc="An agreement with its supply–demand menu.",
)


def service_centre_filters(community_id: IdQuery = None) -> Conditions:
    return equal((ServiceCentre.community_id, community_id))


def listed_centres(
    where: Annotated[Conditions, Depends(service_centre_filters)],
    archived: ArchivedQuery = False,
) -> Conditions:
    """The list's filters, archived centres only when asked for (the export adds its own)."""
    return [*where, *unarchived(ServiceCentre, archived)]


add_list(
    router,
    "/service-centres",
    table=ServiceCentre,
    out=ServiceCentreOut,
    order_by=[ServiceCentre.id],
    filters=listed_centres,
    name="list_service_centres",
    doc="党群服务中心: the centres (their ids are the site ids of their edge agents).",
)


@router.get("/service-centres/{centre_id}", response_model=ServiceCentreDetailOut, responses=_404)
def get_service_centre(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Permission.ORGANISATION_READ))],
    centre_id: SitePath,
) -> ServiceCentreDetailOut:
    """A centre with the communities it serves; its readers and its allowlist only for those
    who may read that centre's devices (``devices.read``, within their scope), as /devices."""
    centre = found(session, ServiceCentre, centre_id, "service centre")
    served = session.scalars(
        select(Community.id).where(Community.centre_id == centre_id).order_by(Community.code)
    )
    out = ServiceCentreDetailOut(
        **ServiceCentreOut.model_validate(centre).model_dump(), communities=list(served)
    )
    # The structure is everyone's; the readers' state is devices.read's, narrowed by scope.
    if not principal.can(Permission.DEVICES_READ) or (
        principal.sites is not None and centre_id not in principal.sites
    ):
        return out
    readers = session.scalars(select(Device).where(Device.site_id == centre_id).order_by(Device.id))
    allowlist = session.get(AllowlistVersion, centre_id)
    out.readers = [
        ReaderOut(id=d.id, kind=d.kind, state=d.state, last_seen=d.last_seen) for d in readers
    ]
    out.allowlist_version = allowlist.version if allowlist else None
    out.allowlist_size = allowlist.size if allowlist else None
    return out


def volunteer_team_filters(
    community_id: IdQuery = None,
    kind: Annotated[str | None, Query(pattern="^(station|alliance|group)$")] = None,
    archived: ArchivedQuery = False,
) -> Conditions:
    return [
        *unarchived(VolunteerTeam, archived),
        *equal((VolunteerTeam.community_id, community_id), (VolunteerTeam.kind, kind)),
    ]


add_list_and_detail(
    router,
    "/volunteer-teams",
    table=VolunteerTeam,
    out=VolunteerTeamOut,
    order_by=[VolunteerTeam.code],
    filters=volunteer_team_filters,
    list_name="list_volunteer_teams",
    list_doc="志愿服务队: volunteer service stations, alliances and groups.",
    detail_name="get_volunteer_team",
    id_name="team_id",
    what="team",
)


def team_members_out(session: Session, team_id: int) -> TeamMembersOut:
    return TeamMembersOut(
        team_id=team_id,
        members=[TeamMemberOut.model_validate(m) for m in team_members(session, team_id)],
    )


@router.get(
    "/volunteer-teams/{team_id}/members",
    response_model=TeamMembersOut,
    dependencies=_RECORDS_READ,
    responses=_404,
)
def get_team_members(session: SessionDep, team_id: RecordIdPath) -> TeamMembersOut:
    """A team's members by id, with the day each joined (who serves where is a record about
    people: ``records.read``)."""
    found(session, VolunteerTeam, team_id, "team")
    return team_members_out(session, team_id)


def venue_filters(
    community_id: IdQuery = None,
    unit_id: IdQuery = None,
    kind: Annotated[str | None, Query(pattern="^(sports_ground|car_park|other)$")] = None,
    archived: ArchivedQuery = False,
) -> Conditions:
    return [
        *equal((Venue.community_id, community_id), (Venue.unit_id, unit_id), (Venue.kind, kind)),
        *unarchived(Venue, archived),
    ]


add_list(
    router,
    "/venue-registry",
    table=Venue,
    out=VenueOut,
    order_by=[Venue.id],
    filters=venue_filters,
    name="list_venue_registry",
    doc="共享场所 as registered: who opened what, where, capacity and opening hours.",
)
# its detail, with the weekday hours and closures: hub.api.routes.registry
