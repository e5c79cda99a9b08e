"""Dependencies of the routes, as ``Annotated`` aliases (as in full-stack-fastapi-template)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from hub.api.params import Limit, Offset
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


def get_session(request: Request) -> Iterator[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as session:
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
