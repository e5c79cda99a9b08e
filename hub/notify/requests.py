"""Overdue service requests as notifications: the escalation job (``hub.org.escalation``) hears
of each request past its deadline; this turns it into one ``service_request_overdue`` event for
the service centre that serves the request's community (its staff are the community's side of
the workflow, docs/service-requests.md), and so for the operators; for the operators alone when
no centre serves it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select

from hub.notify.events import EventKind, NotifyEvent
from hub.org.escalation import Escalated
from hub.org.models import Community
from mqtt_contract.city import CITY_TZ


def overdue_event(engine: Engine, request: Escalated) -> NotifyEvent:
    with engine.connect() as conn:
        centre = conn.execute(
            select(Community.centre_id).where(Community.id == request.community_id)
        ).scalar_one_or_none()
    due = request.due_at.astimezone(CITY_TZ)
    return NotifyEvent(
        kind=EventKind.SERVICE_REQUEST_OVERDUE,
        key=f"{request.request_id}:{request.due_at.isoformat()}",  # once per deadline passed
        title=f"【服务事项逾期】第 {request.request_id} 号({request.category})",
        body=(
            f"服务事项第 {request.request_id} 号({request.category},状态 {request.status})"
            f"已超过处理期限 {due:%Y-%m-%d %H:%M},已升级到社区处理。"
        ),
        at=request.escalated_at,
        centre_id=centre,
    )


def forward_overdue(
    engine: Engine, emit: Callable[[NotifyEvent], None]
) -> Callable[[Escalated], None]:
    """The escalation job's callback that hands each overdue request to the notifier's ``emit``."""

    def forward(request: Escalated) -> None:
        emit(overdue_event(engine, request))

    return forward
