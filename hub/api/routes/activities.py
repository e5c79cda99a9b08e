"""Activities (list, detail, create, update) and the attendance made from check-ins.

Entering, moving or correcting an activity matches the check-ins at its centre in the old and the
new time window again, in the same transaction: taps that were walk-ins join it, taps outside it
become walk-ins again.

A centre's staff read and enter the activities of their own centre, and its attendance.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy import distinct, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.api.auth import require
from hub.api.crud import equal, found, referenced
from hub.api.deps import SessionDep
from hub.api.errors import AUTHENTICATED, refusals
from hub.api.filters import SinceQuery, UntilQuery
from hub.api.listing import Conditions, ScopeCheck, add_detail, add_list
from hub.api.params import MONTH_PATTERN, IdQuery, RecordId
from hub.api.schemas.activities import (
    ActivityDetailOut,
    ActivityIn,
    ActivityKind,
    ActivityOut,
    ActivityPatch,
    AttendanceOut,
)
from hub.api.scope import ensure_site, site_conditions
from hub.auth import Permission, Principal
from hub.org.attendance import rematch_activities
from hub.org.calendar import month_of
from hub.org.models import (
    Activity,
    Attendance,
    Community,
    ServiceCentre,
    Unit,
    VolunteerTeam,
)
from hub.org.names import Name
from mqtt_contract.topics import ID_PATTERN

router = APIRouter(tags=["activities"], responses=AUTHENTICATED)

SiteQuery = Annotated[str | None, Query(pattern=ID_PATTERN, examples=["centre-01"])]
MonthQuery = Annotated[str | None, Query(pattern=MONTH_PATTERN, examples=["2026-03"])]
ActivitiesReader = Annotated[Principal, Depends(require(Permission.ACTIVITIES_READ))]
ActivitiesWriter = Annotated[Principal, Depends(require(Permission.ACTIVITIES_WRITE))]


def _detail(session: Session, activity: Activity) -> ActivityDetailOut:
    taps, members = session.execute(
        select(func.count(), func.count(distinct(Attendance.member_id))).where(
            Attendance.activity_id == activity.id
        )
    ).one()
    return ActivityDetailOut(
        **ActivityOut.model_validate(activity).model_dump(), attendance=taps, members=members
    )


def activity_filters(  # noqa: PLR0917 - FastAPI passes every query parameter by keyword
    principal: ActivitiesReader,
    centre_id: SiteQuery = None,
    community_id: IdQuery = None,
    month: MonthQuery = None,
    kind: ActivityKind | None = None,
    theme: Annotated[Name | None, Query()] = None,
) -> Conditions:
    where = site_conditions(principal, Activity.centre_id, centre_id)
    where += equal(
        (Activity.community_id, community_id),
        (Activity.month, month),
        (Activity.kind, kind),
        (Activity.theme, theme),
    )
    return where


def activity_scope(principal: ActivitiesReader) -> ScopeCheck:
    """A centre's staff read their own centre's activities (403 for another's)."""
    return lambda activity: ensure_site(principal, activity.centre_id)


add_list(
    router,
    "/activities",
    table=Activity,
    out=ActivityOut,
    order_by=[Activity.starts_at.desc(), Activity.id.desc()],
    filters=activity_filters,
    name="list_activities",
    doc="活动, newest first; ``month`` is YYYY-MM in Asia/Shanghai.",
)
add_detail(
    router,
    "/activities",
    table=Activity,
    out=ActivityDetailOut,
    detail=_detail,
    scope=activity_scope,
    what="activity",
    id_name="activity_id",
    name="get_activity",
    doc="An activity with how many check-ins, and how many members, it counted.",
)


@router.post(
    "/activities",
    response_model=ActivityDetailOut,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(400, 409),
)
def create_activity(
    session: SessionDep, principal: ActivitiesWriter, body: ActivityIn
) -> ActivityDetailOut:
    ensure_site(principal, body.centre_id)
    centre = session.get(ServiceCentre, body.centre_id)
    if centre is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"centre_id: no centre {body.centre_id}"
        )
    values = body.model_dump()
    values["community_id"] = values["community_id"] or centre.community_id
    _check(session, values)
    activity = Activity(**values, month=month_of(body.starts_at))
    session.add(activity)
    session.flush()
    rematch_activities(session.connection(), activity.centre_id, [(body.starts_at, body.ends_at)])
    _commit(session)
    return _detail(session, activity)


@router.patch(
    "/activities/{activity_id}", response_model=ActivityDetailOut, responses=refusals(400, 404, 409)
)
def update_activity(
    session: SessionDep, principal: ActivitiesWriter, activity_id: RecordId, body: ActivityPatch
) -> ActivityDetailOut:
    activity = found(session, Activity, activity_id, "activity")
    ensure_site(principal, activity.centre_id)
    before = (activity.starts_at, activity.ends_at)
    changes = body.model_dump(exclude_unset=True)
    nulls = sorted(f for f, v in changes.items() if v is None and f in _NOT_NULL)
    if nulls:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{nulls[0]} cannot be null")
    values = {c.key: getattr(activity, c.key) for c in Activity.__table__.columns} | changes
    if "kind" in changes and changes["kind"] != "eight_into" and "eight_into" not in changes:
        values["eight_into"] = None
    _check(session, values)
    for field, value in values.items():
        setattr(activity, field, value)
    activity.month = month_of(activity.starts_at)
    session.flush()
    rematch_activities(
        session.connection(), activity.centre_id, [before, (activity.starts_at, activity.ends_at)]
    )
    _commit(session)
    return _detail(session, activity)


def attendance_filters(  # noqa: PLR0917 - FastAPI passes every query parameter by keyword
    principal: Annotated[Principal, Depends(require(Permission.CHECKINS_READ))],
    centre_id: SiteQuery = None,
    community_id: IdQuery = None,
    member_id: IdQuery = None,
    activity_id: IdQuery = None,
    unknown: Annotated[bool | None, Query(description="true: only unknown cards")] = None,
    walk_in: Annotated[bool | None, Query(description="true: only walk-in services")] = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> Conditions:
    where = site_conditions(principal, Attendance.centre_id, centre_id)
    where += equal(
        (Attendance.community_id, community_id),
        (Attendance.member_id, member_id),
        (Attendance.activity_id, activity_id),
    )
    if unknown is not None:
        where.append(
            Attendance.member_id.is_(None) if unknown else Attendance.member_id.is_not(None)
        )
    if walk_in is not None:
        where.append(
            Attendance.activity_id.is_(None) if walk_in else Attendance.activity_id.is_not(None)
        )
    if since is not None:
        where.append(Attendance.at >= since)
    if until is not None:
        where.append(Attendance.at < until)
    return where


add_list(
    router,
    "/attendance",
    table=Attendance,
    out=AttendanceOut,
    order_by=[Attendance.at.desc(), Attendance.event_id],
    filters=attendance_filters,
    name="list_attendance",
    doc="""Check-ins at centres as attendance, newest first: member (null for an unknown card) and
    activity (null for a walk-in service).""",
)


_NOT_NULL = frozenset({"community_id", "title", "theme", "kind", "starts_at", "ends_at"})


def _check(session: Session, values: dict[str, Any]) -> None:
    starts: datetime = values["starts_at"]
    ends: datetime = values["ends_at"]
    if ends <= starts:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "ends_at must be after starts_at"
        )
    if (values["kind"] == "eight_into") != (values.get("eight_into") is not None):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "eight_into names the programme of an eight_into activity, and only of one",
        )
    referenced(session, Community, values.get("community_id"), "community_id")
    referenced(session, Unit, values.get("unit_id"), "unit_id")
    referenced(session, VolunteerTeam, values.get("volunteer_team_id"), "volunteer_team_id")


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"refused by the records: {exc.orig}"
        ) from None
