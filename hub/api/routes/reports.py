"""The annual dual-reporting assessment, as JSON and as CSV or XLSX downloads."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from hub.api.auth import require
from hub.api.deps import SessionDep
from hub.api.errors import AUTHENTICATED
from hub.api.schemas.reports import AssessmentOut
from hub.auth import Permission
from hub.org.assessment import (
    MEMBER_MIN_SERVICES,
    UNIT_MIN_REPORTING_PCT,
    Assessment,
    build_assessment,
)
from hub.org.calendar import CITY_TZ
from hub.org.export import ExportTable, log_member_sheet, to_csv, to_xlsx

router = APIRouter(
    prefix="/reports",
    tags=["reports"],
    dependencies=[Depends(require(Permission.ASSESSMENT_READ))],
    responses=AUTHENTICATED,
)

YearQuery = Annotated[
    int, Query(ge=2000, le=2100, examples=[2025], description="the year, in Asia/Shanghai")
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/assessment", response_model=AssessmentOut)
def assessment(session: SessionDep, year: YearQuery) -> dict[str, Any]:
    """双报到 annual assessment: per member, registered or not and community services in the
    year, and whether the excellent rating is open (registered and at least 2 services); per
    unit, reporting rate and whether it is below 80 %; units grouped by alliance, members by
    community, with each community's registrations, activities and attendance by month and
    theme. Names are masked."""
    return assessment_body(build_assessment(session, year))


def assessment_body(report: Assessment) -> dict[str, Any]:
    """The report with the rules it applied, shaped as ``AssessmentOut``."""
    return {
        **asdict(report),
        "rules": {
            "unit_min_reporting_pct": UNIT_MIN_REPORTING_PCT,
            "member_min_services": MEMBER_MIN_SERVICES,
            "timezone": CITY_TZ.key,
        },
    }


@router.get(
    "/assessment.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a BOM"}},
)
def assessment_csv(
    session: SessionDep,
    year: YearQuery,
    table: Annotated[ExportTable, Query(description="which table")] = "members",
) -> Response:
    """The assessment as CSV: one table (members, units or communities). An export of the
    members is recorded in the audit log."""
    body = to_csv(build_assessment(session, year), table)
    if table == "members":
        log_member_sheet(session, year=year, file_format="csv")
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="assessment-{year}-{table}.csv"'},
    )


@router.get(
    "/assessment.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "a workbook, a sheet per table"}},
)
def assessment_xlsx(session: SessionDep, year: YearQuery) -> Response:
    """The assessment as an Excel workbook: communities, units and members (recorded in the
    audit log: the member sheet is personal data)."""
    body = to_xlsx(build_assessment(session, year))
    log_member_sheet(session, year=year, file_format="xlsx")
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="assessment-{year}.xlsx"'},
    )
