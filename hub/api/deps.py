"""Dependencies of the routes, as ``Annotated`` aliases (as in full-stack-fastapi-template)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from hub.api.params import Limit, Offset
from hub.audit import Actor, act_as
from hub.core.settings import HubSettings
from hub.ingest import IngestStatus
from hub.live import LiveFeed
from hub.metrics import HubMetrics
from hub.telemetry.influx import InfluxSink


class RunningIngest(Protocol):
    """What the API reports on, of the ingest running in this process (``hub.composition``)."""

    @property
    def metrics(self) -> HubMetrics: ...

    @property
    def telemetry(self) -> InfluxSink | None: ...

    def status(self) -> IngestStatus: ...

    def registry_changed(self) -> None:
        """The venue registry was edited: reload it before the next readings."""


REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
"""An ``X-Request-ID`` the hub keeps (a proxy's); any other value is replaced by a fresh one."""


def request_id(request: Request) -> str:
    """The request's id in the audit log: the proxy's ``X-Request-ID`` if it is a sane one."""
    given = request.headers.get("x-request-id", "")
    return given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def request_actor(request: Request, rid: str) -> Actor:
    """Who the audit log names for a change made in this request: the authenticated user (set
    by ``hub.api.auth.current_principal``), else ``anonymous``."""
    principal = getattr(request.state, "principal", None)
    return Actor(
        name=principal.username if principal is not None else "anonymous",
        source="api",
        request_id=rid,
        request=f"{request.method} {request.url.path}"[:300],
    )


def get_session(request: Request) -> Iterator[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as session:
        # the user is known only once the route's dependencies have run: ask at the first flush
        rid = request_id(request)
        act_as(session, lambda: request_actor(request, rid))
        yield session


def get_settings(request: Request) -> HubSettings:
    settings: HubSettings = request.app.state.settings
    return settings


def get_ingest(request: Request) -> RunningIngest | None:
    ingest: RunningIngest | None = request.app.state.ingest
    return ingest


def get_metrics(request: Request) -> HubMetrics:
    metrics: HubMetrics = request.app.state.metrics
    return metrics


def get_live(request: Request) -> LiveFeed:
    live: LiveFeed = request.app.state.live
    return live


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[HubSettings, Depends(get_settings)]
IngestDep = Annotated[RunningIngest | None, Depends(get_ingest)]
MetricsDep = Annotated[HubMetrics, Depends(get_metrics)]
LiveDep = Annotated[LiveFeed, Depends(get_live)]

# paging, bounded in hub.api.params with the other numbers the API takes
OffsetQuery = Offset
LimitQuery = Limit
