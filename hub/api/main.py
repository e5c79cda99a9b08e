"""The versioned API: every area's router under the one ``/api/v1`` prefix (as
full-stack-fastapi-template's ``api/main.py``). The unversioned paths (``/healthz``, ``/metrics``)
and the dashboard's pages are included by ``hub.api.app`` itself."""

from __future__ import annotations

from fastapi import APIRouter

from hub.api.routes import (
    activities,
    audit,
    auth,
    checkins,
    commands,
    dead_letters,
    exports,
    imports,
    live,
    maps,
    members,
    notifications,
    organisation,
    organisation_writes,
    registry,
    reports,
    service_requests,
    site_admin,
    sites,
    stream,
    venues,
)

API_PREFIX = "/api/v1"

api_router = APIRouter(prefix=API_PREFIX)
# The order is the OpenAPI schema's: keep it when adding an area.
for _area in (
    auth,
    checkins,
    sites,
    site_admin,
    commands,
    dead_letters,
    venues,
    maps,
    stream,
    live,
    organisation,
    service_requests,
    registry,
    members,
    activities,
    reports,
    imports,
    exports,
    audit,
    organisation_writes,
    notifications,
):
    api_router.include_router(_area.router)

IMPORTS_PREFIX = f"{API_PREFIX}{imports.router.prefix}/"
"""Where roster files are posted (a larger body limit than the rest)."""
OUTLINES_PATH = f"{API_PREFIX}{maps.OUTLINES_PATH}"
"""Where the map's outlines are put (a larger body limit than the rest)."""

__all__ = ["API_PREFIX", "IMPORTS_PREFIX", "OUTLINES_PATH", "api_router"]
