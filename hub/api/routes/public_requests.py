"""A resident's service request, with no login (``/public/v1/service-requests``).

The form takes only the matter, the place (a community and optional free text) and an optional
phone or e-mail; it keeps no name and no client address. Its own rate-limit bucket
(``HUB_REQUEST_RATE_PER_MINUTE``, ``HUB_REQUEST_RATE_BURST``) is much tighter than the public
venue pages': a request is work for people, and a flood of them would bury the real ones.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from hub.api.deps import SessionDep, SettingsDep
from hub.api.errors import refusals
from hub.api.rate_limit import Rate, rate_limited
from hub.api.routes.service_requests import deadlines_of
from hub.api.schemas.service_requests import (
    PublicCommunityOut,
    PublicRequestIn,
    PublicRequestOut,
)
from hub.api.writing import check_references
from hub.core.settings import HubSettings
from hub.org import requests as flow
from hub.org.models import Community

PUBLIC_PREFIX = "/public/v1"
REQUEST_BUCKET = "service-request"
PUBLIC_ACTOR = "public"

router = APIRouter(prefix=PUBLIC_PREFIX, tags=["public"], responses=refusals(400, 422, 429))


def _request_rate(settings: HubSettings) -> Rate:
    return Rate(settings.request_rate_per_minute, settings.request_rate_burst)


def _public_rate(settings: HubSettings) -> Rate:
    return Rate(settings.public_rate_per_minute, settings.public_rate_burst)


@router.get(
    "/service-requests/communities",
    response_model=list[PublicCommunityOut],
    dependencies=[rate_limited("public", _public_rate)],
)
def public_communities(session: SessionDep) -> list[PublicCommunityOut]:
    """The communities a resident may choose from (the structure: no one's personal data)."""
    rows = session.execute(
        select(Community.id, Community.name)
        .where(Community.archived_at.is_(None))
        .order_by(Community.code)
    )
    return [PublicCommunityOut(id=i, name=n) for i, n in rows]


@router.post(
    "/service-requests",
    response_model=PublicRequestOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[rate_limited(REQUEST_BUCKET, _request_rate)],
)
def raise_public_request(
    session: SessionDep, settings: SettingsDep, body: PublicRequestIn
) -> PublicRequestOut:
    """提交服务事项: a resident's request, into the community's queue; its number comes back."""
    check_references(session, {"community_id": (Community, body.community_id)})
    request = flow.raise_request(
        session,
        community_id=body.community_id,
        summary=body.summary,
        place=body.place,
        contact=body.contact,
        source="public",
        actor=PUBLIC_ACTOR,
        deadlines=deadlines_of(settings),
    )
    session.commit()
    return PublicRequestOut(id=request.id)
