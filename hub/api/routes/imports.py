"""Imports: the file is the request body (CSV or XLSX), checked row by row; any bad row means
nothing is imported and the answer (422) lists every problem. A template per kind: the Chinese
header and an example row.

Each kind's import needs ``imports.write`` and the kind's own write permission (records staff
import the organisation and members, operators also centres and venues). Every row written is
in the audit log with source ``import`` and the user.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hub.api.auth import require
from hub.api.deps import SessionDep, SettingsDep
from hub.api.errors import AUTHENTICATED, ErrorOut
from hub.api.schemas.imports import ImportReportOut
from hub.audit import act_as, actor_of
from hub.auth import Permission
from hub.org.cards import card_sealer
from hub.org.roster import ROSTER_KINDS, ReadLimits, RosterKind, import_roster
from hub.org.roster.sheets import to_csv, to_xlsx
from hub.org.roster.templates import template

router = APIRouter(
    prefix="/imports",
    tags=["imports"],
    dependencies=[Depends(require(Permission.IMPORTS_WRITE))],
    responses=AUTHENTICATED,
)

MEDIA_TYPES = ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
"""The Content-Types a roster may come as (``format`` says how to read it). Neither is one a
page of another origin may send without the browser asking first (a form can send only
text/plain, urlencoded, multipart): so a cross-origin form cannot import, whatever credentials
ride along."""
WRITE_PERMISSION: dict[RosterKind, Permission] = {
    "members": Permission.RECORDS_WRITE,
    "units": Permission.ORGANISATION_WRITE,
    "agreements": Permission.ORGANISATION_WRITE,
    "subdistricts": Permission.ORGANISATION_WRITE,
    "communities": Permission.ORGANISATION_WRITE,
    "grids": Permission.ORGANISATION_WRITE,
    "party-orgs": Permission.ORGANISATION_WRITE,
    "alliances": Permission.ORGANISATION_WRITE,
    "volunteer-teams": Permission.ORGANISATION_WRITE,
    "service-centres": Permission.REGISTRY_WRITE,
    "venues": Permission.REGISTRY_WRITE,
}
"""What a kind's import needs besides ``imports.write``: the kind's own write permission."""


def _example(kind: RosterKind) -> str:
    header, rows = template(kind)
    return to_csv(header, rows).decode().removeprefix("\ufeff").replace("\r\n", "\n")


EXAMPLES: dict[RosterKind, str] = {kind: _example(kind) for kind in ROSTER_KINDS}
"""A file of each kind that imports into the demo city (the OpenAPI shows it): its template."""


def _body(kind: RosterKind) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": EXAMPLES[kind]},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
        },
    }


FormatQuery = Annotated[
    Literal["csv", "xlsx"], Query(alias="format", description="the body's format")
]
TemplateFormat = Annotated[
    Literal["csv", "xlsx"], Query(alias="format", description="the template's format")
]


def _add_route(kind: RosterKind) -> None:
    """One route per kind, so that each documents a file of its own kind."""

    async def endpoint(
        request: Request,
        session: SessionDep,
        settings: SettingsDep,
        file_format: FormatQuery = "csv",
    ) -> JSONResponse:
        return await import_file(request, session, settings, kind, file_format)

    name = kind.replace("-", "_")
    router.add_api_route(
        f"/{kind}",
        endpoint,
        methods=["POST"],
        name=f"import_{name}",
        summary=f"Import {kind}",
        description=f"Import {kind} (columns: docs/records.md); needs `imports.write` and "
        f"`{WRITE_PERMISSION[kind].value}`. {import_file.__doc__}",
        response_model=ImportReportOut,
        responses=_RESPONSES,
        dependencies=[Depends(require(WRITE_PERMISSION[kind]))],
        openapi_extra={"requestBody": _body(kind)},
    )

    def download(file_format: TemplateFormat = "csv") -> Response:
        header, rows = template(kind)
        if file_format == "xlsx":
            body, media = to_xlsx(header, rows, kind), MEDIA_TYPES[1]
        else:
            body, media = to_csv(header, rows), "text/csv; charset=utf-8"
        disposition = f'attachment; filename="{kind}-template.{file_format}"'
        return Response(body, media_type=media, headers={"Content-Disposition": disposition})

    router.add_api_route(
        f"/{kind}/template",
        download,
        methods=["GET"],
        name=f"import_template_{name}",
        summary=f"Template for importing {kind}",
        description="The header row in Chinese and one example row (which imports into the "
        "demo city); fill it in and import it.",
        response_class=Response,
        responses={200: {"content": {"text/csv": {}, MEDIA_TYPES[1]: {}}}},
    )


_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ImportReportOut | ErrorOut,
        "description": "bad rows: nothing was imported (`errors` lists them); or a bad "
        "parameter (`detail`)",
    },
    413: {
        "model": ErrorOut,
        "description": "larger than HUB_IMPORT_MAX_BYTES (20 MiB unless set): refused unread",
    },
    503: {
        "model": ErrorOut,
        "description": "HUB_IMPORTS_AT_ONCE imports are being read already; try again after "
        "`Retry-After` seconds",
    },
    415: {"description": "the Content-Type is neither text/csv nor XLSX's"},
}


async def import_file(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    kind: RosterKind,
    file_format: Literal["csv", "xlsx"],
) -> JSONResponse:
    """Rows are matched to records by ``code`` (service centres and venues by ``id``): updated
    if there, created if not; a row equal to its record changes nothing. Cards are hashed on
    arrival."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type: a roster is sent as {' or '.join(MEDIA_TYPES)}, not {media or 'none'}",
        )
    slots = _slots(request, settings.imports_at_once)
    if slots.busy >= slots.most:  # before the body is read: a busy hub reads nothing more
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"{slots.busy} roster import(s) are being read, the most at once "
            f"(HUB_IMPORTS_AT_ONCE); try again in {RETRY_AFTER_S} s",
            headers={"Retry-After": str(RETRY_AFTER_S), "Connection": "close"},
        )
    slots.busy += 1
    try:
        data = bytearray()
        async for chunk in request.stream():  # BodyLimit stops it at HUB_IMPORT_MAX_BYTES
            data += chunk
        key = settings.card_key.get_secret_value().encode() if settings.card_key else None
        seal = card_sealer(settings)  # the members' card vault
        limits = ReadLimits(max_rows=settings.import_max_rows)
        # the audit log names the user, as for any request, with the source ``import``
        act_as(session, dataclasses.replace(actor_of(session), source="import"))
        # In a worker thread: a large file takes seconds, and the hub answers meanwhile.
        report = await run_in_threadpool(
            import_roster,
            session,
            kind,
            bytes(data),
            file_format,
            card_key=key,
            card_seal=seal,
            limits=limits,
        )
    finally:
        slots.busy -= 1
    body = ImportReportOut.model_validate(report).model_dump(mode="json")
    code = status.HTTP_200_OK if report.ok else status.HTTP_422_UNPROCESSABLE_CONTENT
    return JSONResponse(body, status_code=code)


RETRY_AFTER_S = 5


class _Slots:
    """How many imports are being read, of the most allowed at once. Reading a roster costs
    seconds of CPU and tens of MB; a second one waits its turn instead of sharing the hub's
    two cores. Used on the event loop only, so a plain counter is safe."""

    def __init__(self, most: int) -> None:
        self.most = most
        self.busy = 0


def _slots(request: Request, most: int) -> _Slots:
    slots: _Slots | None = getattr(request.app.state, "import_slots", None)
    if slots is None:
        slots = request.app.state.import_slots = _Slots(most)
    return slots


for _kind in EXAMPLES:
    _add_route(_kind)
