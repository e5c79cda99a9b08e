"""Exports of the lists as CSV or XLSX, in the columns of the import templates: an export
re-imports, and unchanged it changes nothing.

Each export needs its list's read permission and is scoped as the list is (a venue manager's
holds its own unit's venues, a centre's staff their centre's activities); the list's filters
apply, and ``archived=true`` includes archived rows. Exports of personal data (members,
registrations) are recorded in the audit log with their format, filters and row count. An
export is bounded like an import (``HUB_IMPORT_MAX_ROWS``): a larger one is refused, and filters
narrow it.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations, built
# from the arguments (each kind's filters).

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from hub.api.auth import require
from hub.api.crud import equal
from hub.api.deps import SessionDep, SettingsDep
from hub.api.errors import AUTHENTICATED, refusals
from hub.api.listing import Conditions, no_filters
from hub.api.params import IdQuery, RecordId
from hub.api.routes.activities import activity_filters
from hub.api.routes.members import member_filters, registration_filters
from hub.api.routes.organisation import (
    agreement_filters,
    alliance_filters,
    community_filters,
    grid_filters,
    party_org_filters,
    service_centre_filters,
    unit_filters,
    volunteer_team_filters,
)
from hub.api.scope import unit_conditions
from hub.api.writing import ArchivedQuery, unarchived
from hub.audit import record_export
from hub.auth import Permission, Principal
from hub.core.base import Archivable
from hub.org.roster.exports import PERSONAL, TABLES, ExportKind, count, export_header, export_rows
from hub.org.roster.sheets import to_csv, to_xlsx
from hub.venues.models import Venue

router = APIRouter(prefix="/exports", tags=["exports"], responses=AUTHENTICATED)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ExportFormat = Annotated[
    Literal["csv", "xlsx"], Query(alias="format", description="csv (UTF-8) or xlsx")
]


def venue_filters(
    principal: Annotated[Principal, Depends(require(Permission.VENUES_READ))],
    community_id: IdQuery = None,
    unit_id: Annotated[RecordId | None, Query(description="owner unit id", examples=[1])] = None,
    kind: Annotated[Literal["sports_ground", "car_park", "other"] | None, Query()] = None,
) -> Conditions:
    """The venue list's filters, narrowed to a venue manager's own unit."""
    where = unit_conditions(principal, Venue.unit_id, unit_id)
    return where + equal((Venue.community_id, community_id), (Venue.kind, kind))


EXPORTS: dict[ExportKind, tuple[Permission, Callable[..., Conditions]]] = {
    "members": (Permission.RECORDS_READ, member_filters),
    "registrations": (Permission.RECORDS_READ, registration_filters),
    "activities": (Permission.ACTIVITIES_READ, activity_filters),
    "units": (Permission.ORGANISATION_READ, unit_filters),
    "agreements": (Permission.ORGANISATION_READ, agreement_filters),
    "subdistricts": (Permission.ORGANISATION_READ, no_filters),
    "communities": (Permission.ORGANISATION_READ, community_filters),
    "grids": (Permission.ORGANISATION_READ, grid_filters),
    "party-orgs": (Permission.ORGANISATION_READ, party_org_filters),
    "alliances": (Permission.ORGANISATION_READ, alliance_filters),
    "service-centres": (Permission.ORGANISATION_READ, service_centre_filters),
    "venues": (Permission.VENUES_READ, venue_filters),
    "volunteer-teams": (Permission.ORGANISATION_READ, volunteer_team_filters),
}
"""Each export's permission (its list's) and filters (its list's, with the list's scope)."""


def _filters_of(kind: ExportKind) -> Callable[..., Conditions]:
    """The kind's filters, plus ``archived`` for a table that archives."""
    _permission, filters = EXPORTS[kind]
    table = TABLES[kind]
    if not issubclass(table, Archivable):
        return filters

    def archivable(
        where: Annotated[Conditions, Depends(filters)], archived: ArchivedQuery = False
    ) -> Conditions:
        return [*where, *unarchived(table, archived)]

    return archivable


def _add(kind: ExportKind) -> None:
    permission, _filters = EXPORTS[kind]
    conditions = _filters_of(kind)

    def endpoint(
        session: SessionDep,
        settings: SettingsDep,
        where: Annotated[Conditions, Depends(conditions)],
        request_filters: Annotated[dict[str, str], Depends(_filters_asked)],
        file_format: ExportFormat = "csv",
    ) -> Response:
        return export(session, kind, where, file_format, request_filters, settings.import_max_rows)

    router.add_api_route(
        f"/{kind}",
        endpoint,
        methods=["GET"],
        name=f"export_{kind.replace('-', '_')}",
        summary=f"Export {kind}",
        description=f"The {kind} list as a spreadsheet, in the import template's columns "
        f"(docs/records.md); needs `{permission.value}`."
        + (" Recorded in the audit log (personal data)." if kind in PERSONAL else ""),
        response_class=Response,
        responses={
            200: {"content": {"text/csv": {}, XLSX: {}}},
            **refusals(422),
        },
        dependencies=[Depends(require(permission))],
    )


def _filters_asked(request: Request) -> dict[str, str]:
    """The query's filters as sent, for the audit log's record of an export."""
    return {k: v[:100] for k, v in list(request.query_params.items())[:20] if k != "format"}


def export(  # noqa: PLR0917 - one caller, each argument its own
    session: Session,
    kind: ExportKind,
    where: list[ColumnElement[bool]],
    file_format: str,
    filters: dict[str, str],
    most: int,
) -> Response:
    rows = count(session, kind, where)
    if rows > most:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{rows} rows: an export holds at most {most} (HUB_IMPORT_MAX_ROWS); "
            "narrow it with the list's filters",
        )
    header = export_header(kind)
    cells = export_rows(session, kind, where)
    if file_format == "xlsx":
        body, media = to_xlsx(header, cells, kind), XLSX
    else:
        body, media = to_csv(header, cells), "text/csv; charset=utf-8"
    if kind in PERSONAL:
        detail = {"format": file_format, "filters": filters, "rows": rows}
        record_export(session, what=kind, detail=detail)
        session.commit()
    disposition = f'attachment; filename="{kind}.{file_format}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


for _kind in EXPORTS:
    _add(_kind)
