"""Query parameters and filters shared by the event lists (check-ins, counter and bay readings)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import HTTPException, Query, status
from pydantic import AwareDatetime, BeforeValidator
from sqlalchemy import ColumnElement

from hub.models import EventTable
from mqtt_contract.topics import ID_PATTERN

_SPACED_OFFSET = re.compile(r"(\d) (\d{2}(:?\d{2})?)$")


def _plus_restored(value: Any) -> Any:
    """An unencoded ``+08:00`` in a URL arrives as `` 08:00``: read it as the offset it was."""
    if isinstance(value, str):
        return _SPACED_OFFSET.sub(r"\1+\2", value)
    return value


QueryTime = Annotated[AwareDatetime, BeforeValidator(_plus_restored)]

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
    since: AwareDatetime | None,
    until: AwareDatetime | None,
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
