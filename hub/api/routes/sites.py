"""Sites (the hub's view of each: ``hub.api.site_view``) and their devices, with online state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from sqlalchemy import func, select

from hub.api import site_view
from hub.api.auth import require
from hub.api.deps import LimitQuery, OffsetQuery, SessionDep, SettingsDep
from hub.api.errors import AUTHENTICATED, refusals
from hub.api.params import IdQuery
from hub.api.schemas import Page
from hub.api.schemas.sites import DeviceOut, SiteDetailOut, SiteOut
from hub.api.scope import ensure_site, site_conditions
from hub.api.site_view import SEARCH_MAX, SiteFilter
from hub.auth import Permission, Principal
from hub.ingest.models import Device, Site
from hub.presence import device_online, site_online
from hub.sites.view import Problem, SiteState
from mqtt_contract.topics import ID_PATTERN

router = APIRouter(tags=["sites"], responses=AUTHENTICATED)

DevicesReader = Annotated[Principal, Depends(require(Permission.DEVICES_READ))]


StateQuery = Annotated[
    SiteState | None,
    Query(description="the hub's view of the site (`site_state`)", examples=["offline"]),
]
KindQuery = Annotated[Literal["centre", "venue"] | None, Query(examples=["venue"])]
CommunityQuery = Annotated[IdQuery, Query(description="community id")]
ProblemQuery = Annotated[
    Problem | None, Query(description="sites with this problem", examples=["degraded"])
]
SearchQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=SEARCH_MAX,
        description="part of the site's id, name or community's name (any case)",
        examples=["centre"],
    ),
]


@router.get("/sites", response_model=Page[SiteOut])
def list_sites(  # noqa: PLR0917 - FastAPI passes every query parameter by keyword
    session: SessionDep,
    settings: SettingsDep,
    principal: DevicesReader,
    state: StateQuery = None,
    kind: KindQuery = None,
    community: CommunityQuery = None,
    problem: ProblemQuery = None,
    q: SearchQuery = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[SiteOut]:
    """Every site the hub knows (provisioned in the registry, or heard from), with the hub's view
    of it: its state, its problems and its credentials' state. Problems first (worst first),
    then by kind, community and id; a centre's staff see their centre."""
    wanted = SiteFilter(state=state, kind=kind, community=community, problem=problem, text=q)
    sites = site_view.list_sites(session, settings, principal.sites, wanted, datetime.now(UTC))
    return Page(data=sites[offset : offset + limit], count=len(sites))


@router.get("/sites/{site_id}", response_model=SiteDetailOut, responses=refusals(403, 404))
def get_site(
    session: SessionDep,
    settings: SettingsDep,
    principal: DevicesReader,
    site_id: Annotated[str, Path(pattern=ID_PATTERN, examples=["centre-01"])],
) -> SiteDetailOut:
    """One site: its view as in the list, its devices, its newest commands and its heartbeat
    history (one heartbeat a step, oldest first)."""
    ensure_site(principal, site_id)
    found = site_view.site_detail(session, settings, site_id, datetime.now(UTC))
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no site {site_id}")
    return found


@router.get("/devices", response_model=Page[DeviceOut])
def list_devices(  # noqa: PLR0917 - FastAPI passes every query parameter by keyword
    session: SessionDep,
    settings: SettingsDep,
    principal: DevicesReader,
    site: Annotated[str | None, Query(pattern=ID_PATTERN, examples=["centre-01"])] = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[DeviceOut]:
    """Devices with their online state; a centre's staff see their centre's readers."""
    now = datetime.now(UTC)
    timeout = settings.heartbeat_timeout_s
    conditions = site_conditions(principal, Device.site_id, site)
    count = session.scalar(select(func.count()).select_from(Device).where(*conditions)) or 0
    rows = session.execute(
        select(Device, Site.state, Site.last_seen)
        .join(Site, Site.id == Device.site_id)
        .where(*conditions)
        .order_by(Device.site_id, Device.id)
        .offset(offset)
        .limit(limit)
    )
    data = []
    for device, site_state, site_last_seen in rows:
        up = site_online(site_state, site_last_seen, now, timeout)
        online = device_online(up, device.state, device.last_seen, now, timeout)
        data.append(DeviceOut.model_validate({**_columns(device), "online": online}))
    return Page(data=data, count=count)


def _columns(row: Device) -> dict[str, object]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}
