"""The map outlines a city uploads for the venue maps (operators: ``registry.write``): a GeoJSON
FeatureCollection of polygons, checked strictly (``hub.venues.outlines``), replacing the last."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hub.api.auth import require
from hub.api.deps import SessionDep
from hub.api.errors import AUTHENTICATED, refusals
from hub.api.schemas.public import OutlinesOut
from hub.auth import Permission, Principal
from hub.venues import outlines

router = APIRouter(tags=["venues"], responses=AUTHENTICATED)

OUTLINES_PATH = "/map/outlines"

Writer = Annotated[Principal, Depends(require(Permission.REGISTRY_WRITE))]


@router.put(
    OUTLINES_PATH,
    response_model=OutlinesOut,
    responses=refusals(413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/geo+json": {"schema": {"type": "object"}}},
        }
    },
)
async def put_map_outlines(request: Request, session: SessionDep, principal: Writer) -> OutlinesOut:
    """Replace the map's outlines: a GeoJSON FeatureCollection of Polygon and MultiPolygon
    features, WGS-84 ``[longitude, latitude]``; at most 2 MB, 500 features and 100,000
    vertices; only each feature's ``properties.name`` is kept. 422 names what is wrong."""
    body = await request.body()
    try:
        doc, vertices = outlines.parse(body)
    except outlines.OutlinesError as err:
        raise HTTPException(status_code=422, detail=str(err)) from None
    await run_in_threadpool(_store, session, doc, vertices, principal.username)
    return OutlinesOut(features=len(doc["features"]), vertices=vertices)


def _store(session: Session, doc: dict[str, Any], vertices: int, by: str) -> None:
    outlines.store(session.connection(), doc, vertices, by, datetime.now(UTC))
    session.commit()
