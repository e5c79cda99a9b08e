"""The audit log, for operators (``audit.read``): who changed which row, when, from what to
what, through which request, and who exported personal data; newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from hub.api.auth import require
from hub.api.errors import AUTHENTICATED
from hub.api.filters import QueryTime
from hub.api.listing import Conditions, add_detail, add_list
from hub.api.schemas.audit import AuditAction, AuditEntryOut, AuditSource
from hub.audit import AuditEntry
from hub.audit.query import NEWEST_FIRST, AuditQuery
from hub.auth import Permission

router = APIRouter(
    tags=["audit"],
    dependencies=[Depends(require(Permission.AUDIT_READ))],
    responses=AUTHENTICATED,
)

_PLAIN_TEXT = r"^[^\x00-\x1f\x7f]+$"
"""Any text but control characters (PostgreSQL refuses a NUL in a query's text)."""


def audit_filters(  # noqa: PLR0917 - FastAPI passes every query parameter by keyword
    actor: Annotated[
        str | None,
        Query(max_length=64, pattern=_PLAIN_TEXT, examples=["wang.li"], description="who"),
    ] = None,
    table: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=r"^[a-z][a-z0-9_.]*$",
            examples=["venues"],
            description="the table changed, or what was exported (`assessment.members`)",
        ),
    ] = None,
    row_id: Annotated[
        str | None,
        Query(max_length=200, pattern=_PLAIN_TEXT, examples=["venue-07"], description="its id"),
    ] = None,
    action: Annotated[AuditAction | None, Query(examples=["update"])] = None,
    source: Annotated[AuditSource | None, Query(examples=["api"])] = None,
    since: Annotated[
        QueryTime | None,
        Query(description="recorded from (inclusive)", examples=["2026-11-27T00:00:00+08:00"]),
    ] = None,
    until: Annotated[QueryTime | None, Query(description="recorded before (exclusive)")] = None,
) -> Conditions:
    try:
        query = AuditQuery(
            actor=actor,
            table=table,
            row_id=row_id,
            action=action,
            source=source,
            since=since,
            until=until,
        )
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    return query.conditions()


add_list(
    router,
    "/audit",
    table=AuditEntry,
    out=AuditEntryOut,
    order_by=NEWEST_FIRST,
    filters=audit_filters,
    name="list_audit_entries",
    doc="""The audit log, newest first: every change made through the API, the CLI or an
    import (who, when, the table and row, the values before and after, the request) and every
    export of personal data. Secrets appear as `(redacted)`.""",
)
add_detail(
    router,
    "/audit",
    table=AuditEntry,
    out=AuditEntryOut,
    what="audit entry",
    id_name="entry_id",
    name="get_audit_entry",
    doc="One entry of the audit log.",
)
