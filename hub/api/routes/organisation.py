"""The organisation, read only: sub-districts, communities, grids, party organisations, units,
alliances, agreements, service centres, volunteer teams, service requests, the venue registry.

Lists are filtered and paged (``{"data": [...], "count": N}``); each record has a detail route.
The structure is no one's personal data: every role may read it (``organisation.read``); service
requests are case records (``records.read``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select

from hub.api.crud import found, page_of
from hub.api.deps import LimitQuery, OffsetQuery, SessionDep
from hub.api.errors import AUTHENTICATED, refusals
from hub.api.params import IdQuery, RecordId
from hub.api.schemas import Page
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
    RequestStatus,
    ServiceCentreDetailOut,
    ServiceCentreOut,
    ServiceRequestOut,
    SubdistrictOut,
    UnitKind,
    UnitOut,
    VenueOut,
    VolunteerTeamOut,
)
from hub.auth import Permission, Principal
from hub.auth.deps import require
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
    ServiceRequest,
    Subdistrict,
    Unit,
    VolunteerTeam,
)
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
VenuePath = Annotated[str, Path(pattern=ID_PATTERN, examples=["venue-07"])]


@router.get("/subdistricts", response_model=Page[SubdistrictOut])
def list_subdistricts(
    session: SessionDep, offset: OffsetQuery = 0, limit: LimitQuery = 100
) -> Page[SubdistrictOut]:
    """街道: the sub-district offices."""
    count, rows = page_of(session, Subdistrict, [], [Subdistrict.code], offset=offset, limit=limit)
    return Page(data=[SubdistrictOut.model_validate(r) for r in rows], count=count)


@router.get("/subdistricts/{subdistrict_id}", response_model=SubdistrictOut, responses=_404)
def get_subdistrict(session: SessionDep, subdistrict_id: RecordId) -> SubdistrictOut:
    return SubdistrictOut.model_validate(
        found(session, Subdistrict, subdistrict_id, "sub-district")
    )


@router.get("/communities", response_model=Page[CommunityOut])
def list_communities(
    session: SessionDep,
    *,
    subdistrict_id: IdQuery = None,
    centre_id: SiteQuery = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[CommunityOut]:
    """社区: communities, by sub-district or by the service centre that serves them."""
    where = []
    if subdistrict_id is not None:
        where.append(Community.subdistrict_id == subdistrict_id)
    if centre_id is not None:
        where.append(Community.centre_id == centre_id)
    count, rows = page_of(session, Community, where, [Community.code], offset=offset, limit=limit)
    return Page(data=[CommunityOut.model_validate(r) for r in rows], count=count)


@router.get("/communities/{community_id}", response_model=CommunityOut, responses=_404)
def get_community(session: SessionDep, community_id: RecordId) -> CommunityOut:
    return CommunityOut.model_validate(found(session, Community, community_id, "community"))


@router.get("/grids", response_model=Page[GridOut])
def list_grids(
    session: SessionDep,
    *,
    community_id: IdQuery = None,
    level: Annotated[int | None, Query(ge=1, le=3)] = None,
    parent_id: IdQuery = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[GridOut]:
    """网格: grids on three levels (community, compound or lane, building)."""
    where = []
    if community_id is not None:
        where.append(Grid.community_id == community_id)
    if level is not None:
        where.append(Grid.level == level)
    if parent_id is not None:
        where.append(Grid.parent_id == parent_id)
    count, rows = page_of(session, Grid, where, [Grid.code], offset=offset, limit=limit)
    return Page(data=[GridOut.model_validate(r) for r in rows], count=count)


@router.get("/grids/{grid_id}", response_model=GridOut, responses=_404)
def get_grid(session: SessionDep, grid_id: RecordId) -> GridOut:
    return GridOut.model_validate(found(session, Grid, grid_id, "grid"))


@router.get("/party-orgs", response_model=Page[PartyOrgOut])
def list_party_orgs(
    session: SessionDep,
    *,
    kind: PartyOrgKind | None = None,
    parent_id: IdQuery = None,
    community_id: IdQuery = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[PartyOrgOut]:
    """党组织 at the five levels; ``parent_id`` walks the chain down."""
    where = []
    if kind is not None:
        where.append(PartyOrg.kind == kind)
    if parent_id is not None:
        where.append(PartyOrg.parent_id == parent_id)
    if community_id is not None:
        where.append(PartyOrg.community_id == community_id)
    count, rows = page_of(session, PartyOrg, where, [PartyOrg.code], offset=offset, limit=limit)
    return Page(data=[PartyOrgOut.model_validate(r) for r in rows], count=count)


@router.get("/party-orgs/{party_org_id}", response_model=PartyOrgOut, responses=_404)
def get_party_org(session: SessionDep, party_org_id: RecordId) -> PartyOrgOut:
    return PartyOrgOut.model_validate(found(session, PartyOrg, party_org_id, "party organisation"))


@router.get("/units", response_model=Page[UnitOut])
def list_units(
    session: SessionDep,
    *,
    kind: UnitKind | None = None,
    community_id: IdQuery = None,
    alliance_id: IdQuery = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[UnitOut]:
    """驻区单位: resident units."""
    where = []
    if kind is not None:
        where.append(Unit.kind == kind)
    if community_id is not None:
        where.append(Unit.community_id == community_id)
    if alliance_id is not None:
        where.append(Unit.alliance_id == alliance_id)
    count, rows = page_of(session, Unit, where, [Unit.code], offset=offset, limit=limit)
    return Page(data=[UnitOut.model_validate(r) for r in rows], count=count)


@router.get("/units/{unit_id}", response_model=UnitOut, responses=_404)
def get_unit(session: SessionDep, unit_id: RecordId) -> UnitOut:
    return UnitOut.model_validate(found(session, Unit, unit_id, "unit"))


@router.get("/alliances", response_model=Page[AllianceOut])
def list_alliances(
    session: SessionDep,
    *,
    subdistrict_id: IdQuery = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[AllianceOut]:
    """党建联盟: party-building alliances."""
    where = [] if subdistrict_id is None else [Alliance.subdistrict_id == subdistrict_id]
    count, rows = page_of(session, Alliance, where, [Alliance.code], offset=offset, limit=limit)
    return Page(data=[AllianceOut.model_validate(r) for r in rows], count=count)


@router.get("/alliances/{alliance_id}", response_model=AllianceDetailOut, responses=_404)
def get_alliance(session: SessionDep, alliance_id: RecordId) -> AllianceDetailOut:
    """An alliance with its member units and its rotating chairs."""
    alliance = found(session, Alliance, alliance_id, "alliance")
    chairs = session.scalars(
        select(AllianceChair)
        .where(AllianceChair.alliance_id == alliance_id)
        .order_by(AllianceChair.starts_on)
    )
    units = session.scalars(
        select(Unit.id).where(Unit.alliance_id == alliance_id).order_by(Unit.code)
    )
    return AllianceDetailOut(
        **AllianceOut.model_validate(alliance).model_dump(),
        chairs=[ChairOut.model_validate(c) for c in chairs],
        unit_ids=list(units),
    )


@router.get("/agreements", response_model=Page[AgreementOut])
def list_agreements(
    session: SessionDep,
    *,
    community_id: IdQuery = None,
    unit_id: IdQuery = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[AgreementOut]:
    """共建协议: co-building agreements between communities and units."""
    where = []
    if community_id is not None:
        where.append(Agreement.community_id == community_id)
    if unit_id is not None:
        where.append(Agreement.unit_id == unit_id)
    count, rows = page_of(session, Agreement, where, [Agreement.code], offset=offset, limit=limit)
    return Page(data=[AgreementOut.model_validate(r) for r in rows], count=count)


@router.get("/agreements/{agreement_id}", response_model=AgreementDetailOut, responses=_404)
def get_agreement(session: SessionDep, agreement_id: RecordId) -> AgreementDetailOut:
    """An agreement with its supply–demand menu."""
    agreement = found(session, Agreement, agreement_id, "agreement")
    menu = session.scalars(
        select(ServiceMenuItem)
        .where(ServiceMenuItem.agreement_id == agreement_id)
        .order_by(ServiceMenuItem.direction.desc(), ServiceMenuItem.id)
    )
    return AgreementDetailOut(
        **AgreementOut.model_validate(agreement).model_dump(),
        menu=[MenuItemOut.model_validate(m) for m in menu],
    )


@router.get("/service-centres", response_model=Page[ServiceCentreOut])
def list_service_centres(
    session: SessionDep,
    *,
    community_id: IdQuery = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[ServiceCentreOut]:
    """党群服务中心: the centres (their ids are the site ids of their edge agents)."""
    where = [] if community_id is None else [ServiceCentre.community_id == community_id]
    count, rows = page_of(
        session, ServiceCentre, where, [ServiceCentre.id], offset=offset, limit=limit
    )
    return Page(data=[ServiceCentreOut.model_validate(r) for r in rows], count=count)


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


@router.get("/volunteer-teams", response_model=Page[VolunteerTeamOut])
def list_volunteer_teams(
    session: SessionDep,
    *,
    community_id: IdQuery = None,
    kind: Annotated[str | None, Query(pattern="^(station|alliance|group)$")] = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[VolunteerTeamOut]:
    """志愿服务队: volunteer service stations, alliances and groups."""
    where = []
    if community_id is not None:
        where.append(VolunteerTeam.community_id == community_id)
    if kind is not None:
        where.append(VolunteerTeam.kind == kind)
    count, rows = page_of(
        session, VolunteerTeam, where, [VolunteerTeam.code], offset=offset, limit=limit
    )
    return Page(data=[VolunteerTeamOut.model_validate(r) for r in rows], count=count)


@router.get("/volunteer-teams/{team_id}", response_model=VolunteerTeamOut, responses=_404)
def get_volunteer_team(session: SessionDep, team_id: RecordId) -> VolunteerTeamOut:
    return VolunteerTeamOut.model_validate(found(session, VolunteerTeam, team_id, "team"))


@router.get("/service-requests", response_model=Page[ServiceRequestOut], dependencies=_RECORDS_READ)
def list_service_requests(
    session: SessionDep,
    *,
    community_id: IdQuery = None,
    unit_id: IdQuery = None,
    status: RequestStatus | None = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[ServiceRequestOut]:
    """服务事项转办: residents' requests, newest first; who they went to, whether resolved."""
    where = []
    if community_id is not None:
        where.append(ServiceRequest.community_id == community_id)
    if unit_id is not None:
        where.append(ServiceRequest.unit_id == unit_id)
    if status is not None:
        where.append(ServiceRequest.status == status)
    count, rows = page_of(
        session,
        ServiceRequest,
        where,
        [ServiceRequest.raised_at.desc(), ServiceRequest.id.desc()],
        offset=offset,
        limit=limit,
    )
    return Page(data=[ServiceRequestOut.model_validate(r) for r in rows], count=count)


@router.get(
    "/service-requests/{request_id}",
    response_model=ServiceRequestOut,
    dependencies=_RECORDS_READ,
    responses=_404,
)
def get_service_request(session: SessionDep, request_id: RecordId) -> ServiceRequestOut:
    return ServiceRequestOut.model_validate(
        found(session, ServiceRequest, request_id, "service request")
    )


@router.get("/venue-registry", response_model=Page[VenueOut])
def list_venue_registry(
    session: SessionDep,
    *,
    community_id: IdQuery = None,
    unit_id: IdQuery = None,
    kind: Annotated[str | None, Query(pattern="^(sports_ground|car_park|other)$")] = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[VenueOut]:
    """共享场所 as registered: who opened what, where, capacity and opening hours."""
    where = []
    if community_id is not None:
        where.append(Venue.community_id == community_id)
    if unit_id is not None:
        where.append(Venue.unit_id == unit_id)
    if kind is not None:
        where.append(Venue.kind == kind)
    count, rows = page_of(session, Venue, where, [Venue.id], offset=offset, limit=limit)
    return Page(data=[VenueOut.model_validate(r) for r in rows], count=count)


@router.get("/venue-registry/{venue_id}", response_model=VenueOut, responses=_404)
def get_venue_registration(session: SessionDep, venue_id: VenuePath) -> VenueOut:
    return VenueOut.model_validate(found(session, Venue, venue_id, "venue"))
