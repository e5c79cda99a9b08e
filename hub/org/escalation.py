"""Escalation of overdue service requests: a request not resolved by its deadline (``due_at``)
goes back to its community's attention once. The job marks it escalated, records the step in its
history, commits, and then tells the registered callbacks (``on_escalated``), which the
composition root connects to whoever notifies people (a callback that fails is logged; the
escalation stands and is not repeated).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hub.audit.context import SYSTEM, act_as
from hub.core.periodic import PeriodicJob
from hub.org.models import ServiceRequest, ServiceRequestEvent
from hub.org.requests import OPEN_STATUSES, now_utc

log = logging.getLogger(__name__)

BATCH = 500
"""Requests escalated in one transaction; the job goes on until none is left."""


@dataclass(frozen=True, slots=True)
class Escalated:
    """What a callback hears: the request (no summary, no contact), its community and unit."""

    request_id: int
    community_id: int
    unit_id: int | None
    category: str
    status: str
    due_at: datetime
    escalated_at: datetime


EscalationCallback = Callable[[Escalated], None]


def escalate_overdue(engine: Engine, *, now: datetime | None = None) -> list[Escalated]:
    """Mark every open request past its deadline, not escalated yet, as escalated; one step each."""
    at = now or now_utc()
    done: list[Escalated] = []
    while True:
        with Session(engine) as session:
            act_as(session, SYSTEM)
            rows = session.scalars(
                select(ServiceRequest)
                .where(
                    ServiceRequest.status.in_(OPEN_STATUSES),
                    ServiceRequest.due_at < at,
                    ServiceRequest.escalated_at.is_(None),
                )
                .order_by(ServiceRequest.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return done
            batch = []
            for request in rows:
                assert request.due_at is not None  # the query's condition
                request.escalated_at = at
                session.add(
                    ServiceRequestEvent(
                        request_id=request.id,
                        at=at,
                        actor="system",
                        kind="escalated",
                        unit_id=request.unit_id,
                        note=f"deadline {request.due_at.isoformat()}",
                    )
                )
                batch.append(
                    Escalated(
                        request.id,
                        request.community_id,
                        request.unit_id,
                        request.category,
                        request.status,
                        request.due_at,
                        at,
                    )
                )
            session.commit()
            done.extend(batch)


class EscalationJob(PeriodicJob):
    """Runs :func:`escalate_overdue` every ``interval_s`` (first soon after start) and hands each
    escalated request to the callbacks."""

    def __init__(self, engine: Engine, *, interval_s: float, first_run_s: float = 30.0) -> None:
        super().__init__(name="hub-escalation", interval_s=interval_s, first_run_s=first_run_s)
        self._engine = engine
        self._callbacks: list[EscalationCallback] = []

    def on_escalated(self, callback: EscalationCallback) -> None:
        self._callbacks.append(callback)

    def run_once(self, *, now: datetime | None = None) -> list[Escalated]:
        escalated = escalate_overdue(self._engine, now=now)
        for item in escalated:
            for callback in self._callbacks:
                try:
                    callback(item)
                except Exception:
                    log.exception("escalation callback failed for request %d", item.request_id)
        if escalated:
            log.info("escalated %d overdue service requests", len(escalated))
        return escalated

    def tick(self) -> None:
        self.run_once()
