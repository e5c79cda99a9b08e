"""The records API: organisation, members, activities and attendance, reports, roster imports."""

from __future__ import annotations

from fastapi import APIRouter

from hub.api.records import activities, imports, members, organisation, reports

router = APIRouter()
for _module in (organisation, members, activities, reports, imports):
    router.include_router(_module.router)

__all__ = ["router"]
