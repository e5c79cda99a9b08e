"""Roster upload: the file is the request body (CSV or XLSX), checked row by row; any bad row
means nothing is imported and the answer (422) lists every problem."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hub.api.auth import require
from hub.api.deps import SessionDep, SettingsDep
from hub.api.errors import AUTHENTICATED, ErrorOut
from hub.api.schemas.imports import ImportReportOut
from hub.auth import Permission
from hub.org.cards import card_sealer
from hub.org.roster import ReadLimits, RosterKind, import_roster

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
EXAMPLES: dict[RosterKind, str] = {
    "members": "编号,姓名,单位编号,社区编号,卡号,报到日期\n"
    "M04801,王晓东,U012,C03,0A1B2C3D4E,2026-03-01\n",
    "units": "编号,名称,类型,社区编号,联盟编号,报到日期\nU231,原平市康乐供水公司,企业,C03,A03,2026-03-01\n",
    "agreements": "编号,社区编号,单位编号,签订日期,截止日期,单位提供,社区需求\n"
    "XY901,C03,U012,2026-03-01,2027-02-28,义诊；法律咨询,楼道照明\n",
}
"""A file of each kind that imports into the demo city (the OpenAPI shows it)."""


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


def _add_route(kind: RosterKind) -> None:
    """One route per kind, so that each documents a file of its own kind."""

    async def endpoint(
        request: Request,
        session: SessionDep,
        settings: SettingsDep,
        file_format: FormatQuery = "csv",
    ) -> JSONResponse:
        return await import_file(request, session, settings, kind, file_format)

    router.add_api_route(
        f"/{kind}",
        endpoint,
        methods=["POST"],
        name=f"import_{kind}",
        summary=f"Import {kind}",
        description=f"Import {kind} (columns: docs/records.md). {import_file.__doc__}",
        response_model=ImportReportOut,
        responses=_RESPONSES,
        openapi_extra={"requestBody": _body(kind)},
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
    """Rows are matched to records by ``code``: updated if there, created if not. Cards are
    hashed on arrival."""
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
