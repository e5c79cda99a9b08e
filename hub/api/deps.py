"""Dependencies of the routes, as ``Annotated`` aliases (as in full-stack-fastapi-template)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session, sessionmaker

from hub.core.settings import HubSettings
from hub.ingest import IngestWorker
from hub.live import LiveFeed
from hub.metrics import HubMetrics

MAX_LIMIT = 1000


def get_session(request: Request) -> Iterator[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as session:
        yield session


def get_settings(request: Request) -> HubSettings:
    settings: HubSettings = request.app.state.settings
    return settings


def get_ingest(request: Request) -> IngestWorker | None:
    ingest: IngestWorker | None = request.app.state.ingest
    return ingest


def get_metrics(request: Request) -> HubMetrics:
    metrics: HubMetrics = request.app.state.metrics
    return metrics


def get_live(request: Request) -> LiveFeed:
    live: LiveFeed = request.app.state.live
    return live


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[HubSettings, Depends(get_settings)]
IngestDep = Annotated[IngestWorker | None, Depends(get_ingest)]
MetricsDep = Annotated[HubMetrics, Depends(get_metrics)]
LiveDep = Annotated[LiveFeed, Depends(get_live)]

OffsetQuery = Annotated[int, Query(ge=0, description="rows to skip, for paging")]
LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"rows per page, at most {MAX_LIMIT}")
]
