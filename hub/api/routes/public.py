"""The public venue pages (no login, no personal data): the shared venues, how full they are,
their QR codes and the map's outlines, under their own prefix ``/public/v1``, set once here.

Anyone may call these, by design: each answer is rate-limited per client address
(``HUB_PUBLIC_RATE_*``) and cacheable for a few seconds (weak ETag, 304). What they carry is
``hub.venues.public``'s to decide; docs/security.md says why none of it is personal.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import segno
from fastapi import APIRouter, HTTPException, Path, Request, Response
from fastapi.responses import FileResponse

from hub.api.cache import Recent, cached
from hub.api.dashboard.static import web_root
from hub.api.deps import SessionDep
from hub.api.errors import refusals
from hub.api.rate_limit import Rate, rate_limited
from hub.api.schemas.public import HoursOut, PublicMapOut, PublicVenueOut, PublicVenuesOut
from hub.venues import outlines, public
from mqtt_contract.topics import ID_PATTERN

PUBLIC_PREFIX = "/public/v1"
PAGES_PREFIX = "/public"

_limit = rate_limited("public", lambda s: Rate(s.public_rate_per_minute, s.public_rate_burst))
_REFUSALS = refusals(404, 422, 429)
router = APIRouter(
    prefix=PUBLIC_PREFIX, tags=["public"], dependencies=[_limit], responses=refusals(429)
)
pages = APIRouter(prefix=PAGES_PREFIX, dependencies=[_limit], include_in_schema=False)

# venue-03: no other operation's example archives it (the contract test runs them in any order)
VenueId = Annotated[str, Path(pattern=ID_PATTERN, examples=["venue-03"])]
JSON = "application/json"
RECENT_S = 1.0
"""How long one reading of the venues serves every caller (levels lag the hub by this much)."""


def _out(v: public.PublicVenue) -> PublicVenueOut:
    hours = (
        None
        if v.hours_today is None
        else HoursOut(opens_at=v.hours_today[0], closes_at=v.hours_today[1])
    )
    return PublicVenueOut(
        id=v.id,
        name=v.name,
        kind=v.kind,
        address=v.address,
        subdistrict=v.subdistrict,
        community=v.community,
        latitude=v.latitude,
        longitude=v.longitude,
        hours_today=hours,
        open_now=v.open_now,
        level=v.level,
        occupancy=v.occupancy,
        capacity=v.capacity,
    )


@dataclass(frozen=True)
class _Reading:
    venues: dict[str, PublicVenueOut]
    body: bytes
    """The list's answer, serialised once."""


def recent_venues() -> Recent[_Reading]:
    """For ``app.state.public_venues``: one reading serves every caller for ``RECENT_S``."""
    return Recent(RECENT_S)


def _reading(request: Request, session: SessionDep) -> _Reading:
    def read() -> _Reading:
        venues = {v.id: _out(v) for v in public.venues(session.connection(), datetime.now(UTC))}
        rows = list(venues.values())
        body = PublicVenuesOut(data=rows, count=len(rows)).model_dump_json().encode()
        return _Reading(venues, body)

    recent: Recent[_Reading] = request.app.state.public_venues
    return recent.get(read)


def _one(request: Request, session: SessionDep, venue_id: str) -> PublicVenueOut:
    found = _reading(request, session).venues.get(venue_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no venue {venue_id}")
    return found


def base_url(request: Request) -> str:
    """HUB_PUBLIC_BASE_URL, else the address this request came to (right only without a proxy,
    or with one the hub trusts for its forwarded headers)."""
    configured: str | None = request.app.state.settings.public_base_url
    return (configured or str(request.base_url)).rstrip("/")


@router.get("/venues", response_model=PublicVenuesOut)
def list_public_venues(request: Request, session: SessionDep) -> Response:
    """Every venue open to residents (not archived): where, when, open now, how full."""
    return cached(request, _reading(request, session).body, JSON)


@router.get("/venues/{venue_id}", response_model=PublicVenueOut, responses=_REFUSALS)
def get_public_venue(request: Request, session: SessionDep, venue_id: VenueId) -> Response:
    """One venue, as in the list."""
    return cached(request, _one(request, session, venue_id).model_dump_json().encode(), JSON)


@router.get(
    "/venues/{venue_id}/qr.svg",
    response_class=Response,
    responses={**_REFUSALS, 200: {"content": {"image/svg+xml": {}}}},
)
def get_venue_qr(request: Request, session: SessionDep, venue_id: VenueId) -> Response:
    """A QR code (SVG) that opens the venue's public page, for printing at its gate."""
    venue = _one(request, session, venue_id)
    url = f"{base_url(request)}{PAGES_PREFIX}/venues/{venue.id}"
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=8, border=4, title=url)
    return cached(request, out.getvalue(), "image/svg+xml")


@router.get("/map", response_model=PublicMapOut)
def get_public_map(request: Request) -> Response:
    """What the venue maps need: the city's tile server, if any, and the pages' base address."""
    settings = request.app.state.settings
    body = PublicMapOut(tile_url=settings.map_tile_url, base_url=base_url(request))
    return cached(request, body.model_dump_json().encode(), JSON)


@router.get(
    "/map/outlines",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def get_public_outlines(request: Request, session: SessionDep) -> Response:
    """The outlines the city uploaded (a GeoJSON FeatureCollection; empty before any)."""
    body = outlines.load(session.connection()).encode()
    return cached(request, body, "application/geo+json")


def _page() -> FileResponse:
    root = web_root()
    if root is None:
        raise HTTPException(status_code=404, detail="no dashboard files")
    return FileResponse(
        root / "public.html",
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@pages.get("/venues/{venue_id}")
def venue_page(venue_id: VenueId) -> FileResponse:
    """The public page, opened at one venue (its QR code leads here)."""
    del venue_id  # read by the page's script from its address
    return _page()


@pages.get("/venues/{venue_id}/print")
def venue_print_page(venue_id: VenueId) -> FileResponse:
    """The venue's QR code and name, to print for its gate."""
    del venue_id
    return _page()
