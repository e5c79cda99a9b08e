"""Liveness for load balancers and the e2e harness: database reachable, broker connected."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hub.api.auth import principal_unless_database_down
from hub.api.deps import IngestDep, RunningIngest, SessionDep
from hub.api.schemas.health import HealthOut, InfluxOut, IngestOut
from hub.auth import Permission, Principal

log = logging.getLogger(__name__)

BrokerState = Literal["connected", "disconnected", "not running"]

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=HealthOut,
    response_model_exclude_unset=True,  # anyone: {"status": ...} alone
    responses={503: {"model": HealthOut, "description": "the database is unreachable"}},
    # credentials are optional: anyone gets the status, an operator the detail
    openapi_extra={"security": [{}]},
)
def healthz(
    session: SessionDep,
    ingest: IngestDep,
    response: Response,
    principal: Annotated[Principal | None, Depends(principal_unless_database_down)],
) -> HealthOut:
    """503 only when the database is down; a lost broker is reported but the API still serves.
    Open to all, but only ``status`` unless the caller may read the system's state (operator):
    the detail says how the hub is built and where it fails."""
    database_error: str | None = None
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        database_error = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        log.warning("health check: database unreachable: %s", database_error)
    ingest_out: IngestOut | None = None
    broker: BrokerState = "not running"
    if ingest is not None:
        state = ingest.status()
        broker = "connected" if state.connected else "disconnected"
        ingest_out = IngestOut(
            running=state.running,
            session_present=state.session_present,
            queue_depth=state.queue_depth,
            failing_since=state.failing_since,
        )
    healthy = database_error is None and broker != "disconnected"
    if database_error is not None:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    if principal is None or not principal.can(Permission.SYSTEM_READ):
        return HealthOut(status="ok" if healthy else "degraded")
    return HealthOut(
        status="ok" if healthy else "degraded",
        database="ok" if database_error is None else "down",
        database_error=database_error,
        broker=broker,
        ingest=ingest_out,
        influx=_influx(ingest),
    )


def _influx(ingest: RunningIngest | None) -> InfluxOut | None:
    """The sink's state; a failing sink leaves the hub healthy (SQL is whole)."""
    sink = ingest.telemetry if ingest is not None else None
    if sink is None:
        return None
    return InfluxOut.model_validate(asdict(sink.status()))
