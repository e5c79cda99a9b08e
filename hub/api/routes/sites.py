"""Sites and their devices, with online state from status and heartbeats."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select

from hub.api.auth import require
from hub.api.deps import LimitQuery, OffsetQuery, SessionDep, SettingsDep
from hub.api.errors import AUTHENTICATED
from hub.api.schemas import Page
from hub.api.schemas.sites import DeviceOut, SiteOut
from hub.api.scope import site_conditions
from hub.auth import Permission, Principal
from hub.ingest.models import Device, Site
from hub.presence import device_online, site_online
from mqtt_contract.topics import ID_PATTERN

router = APIRouter(tags=["sites"], responses=AUTHENTICATED)

DevicesReader = Annotated[Principal, Depends(require(Permission.DEVICES_READ))]


@router.get("/sites", response_model=Page[SiteOut])
def list_sites(
    session: SessionDep,
    settings: SettingsDep,
    principal: DevicesReader,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[SiteOut]:
    """Edges (one per site) with their online state; a centre's staff see their centre."""
    now = datetime.now(UTC)
    timeout = settings.heartbeat_timeout_s
    where = site_conditions(principal, Site.id, None)
    count = session.scalar(select(func.count()).select_from(Site).where(*where)) or 0
    sites = session.scalars(
        select(Site).where(*where).order_by(Site.id).offset(offset).limit(limit)
    )
    data = [
        SiteOut.model_validate(
            {
                **_columns(site),
                "online": site_online(site.state, site.last_seen, now, timeout),
            }
        )
        for site in sites
    ]
    return Page(data=data, count=count)


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


def _columns(row: Site | Device) -> dict[str, object]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}
