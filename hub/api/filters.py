"""Query parameters and filters shared by the event lists (check-ins, counter and bay readings)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import HTTPException, Query, status
from sqlalchemy import ColumnElement

from hub.api.params import Time
from hub.ingest.models import EventTable
from mqtt_contract.topics import ID_PATTERN

QueryTime = Time
"""A time in a query: ISO 8601 with an offset, bounded (``hub.api.params.Time``)."""

SiteQuery = Annotated[str | None, Query(pattern=ID_PATTERN, examples=["centre-01"])]
DeviceQuery = Annotated[str | None, Query(pattern=ID_PATTERN, examples=["reader-1"])]
SinceQuery = Annotated[
    QueryTime | None,
    Query(
        description="device time from (inclusive), ISO 8601 with an offset",
        examples=["2026-11-27T00:00:00+08:00"],
    ),
]
UntilQuery = Annotated[
    QueryTime | None,
    Query(description="device time before (exclusive), ISO 8601 with an offset"),
]


def event_conditions(
    table: EventTable,
    site: str | None,
    device: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[ColumnElement[bool]]:
    if since is not None and until is not None and since > until:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail="'since' must not be after 'until'"
        )
    conditions: list[ColumnElement[bool]] = []
    if site is not None:
        conditions.append(table.site_id == site)
    if device is not None:
        conditions.append(table.device_id == device)
    if since is not None:
        conditions.append(table.device_time >= since)
    if until is not None:
        conditions.append(table.device_time < until)
    return conditions
