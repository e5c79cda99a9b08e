"""Roster upload: the file is the request body (CSV or XLSX), checked row by row; any bad row
means nothing is imported and the answer (422) lists every problem."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hub.api.deps import SessionDep, SettingsDep
from hub.api.records.schemas import ImportReportOut
from hub.auth import Permission
from hub.auth.deps import require
from hub.org.roster import import_roster

router = APIRouter(
    prefix="/api/v1/imports",
    tags=["imports"],
    dependencies=[Depends(require(Permission.IMPORTS_WRITE))],
)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
_BODY = {
    "required": True,
    "content": {
        "text/csv": {
            "schema": {"type": "string"},
            "example": "编号,姓名,单位编号,社区编号,卡号,报到日期\nM04801,王晓东,U012,C03,0A1B2C3D4E,2026-03-01\n",
        },
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            "schema": {"type": "string", "format": "binary"}
        },
    },
}


@router.post(
    "/{kind}",
    response_model=ImportReportOut,
    responses={
        422: {"model": ImportReportOut, "description": "bad rows: nothing was imported"},
        413: {"description": f"larger than {MAX_UPLOAD_BYTES} bytes"},
    },
    openapi_extra={"requestBody": _BODY},
)
async def import_file(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    kind: Literal["members", "units", "agreements"],
    file_format: Annotated[
        Literal["csv", "xlsx"], Query(alias="format", description="the body's format")
    ] = "csv",
) -> JSONResponse:
    """Import members, units or agreements (columns: docs/records.md). Rows are matched to
    records by ``code``: updated if there, created if not. Cards are hashed on arrival."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_UPLOAD_BYTES:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, f"a roster file may be {MAX_UPLOAD_BYTES} bytes"
            )
    key = settings.card_key.get_secret_value().encode() if settings.card_key else None
    report = await run_in_threadpool(
        import_roster, session, kind, bytes(data), file_format, card_key=key
    )
    body = ImportReportOut.model_validate(report).model_dump(mode="json")
    code = status.HTTP_200_OK if report.ok else status.HTTP_422_UNPROCESSABLE_CONTENT
    return JSONResponse(body, status_code=code)
