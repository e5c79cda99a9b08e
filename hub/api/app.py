"""The FastAPI application factory.

The app keeps no state of its own beyond its engine, so any number of API processes can serve
behind a load balancer; the ingest worker is passed in only to report on it (health, metrics).
Plugging the live stream into ingest is the composition root's job (``hub.composition``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from hub.api.body_limit import BodyLimit
from hub.api.dashboard import add_dashboard
from hub.api.deps import RunningIngest
from hub.api.errors import add_error_handlers
from hub.api.main import IMPORTS_PREFIX, OUTLINES_PATH, api_router
from hub.api.rate_limit import RateLimiter
from hub.api.routes import health, metrics, public, public_requests
from hub.api.security_headers import SecurityHeaders
from hub.core.db import make_engine, session_factory
from hub.core.settings import HubSettings
from hub.live import LiveFeed, LivePublisher
from hub.metrics import HubMetrics
from hub.venues import outlines


def _version() -> str:
    try:
        return version("yuanping-community")
    except PackageNotFoundError:
        return "0.0.0"


def create_app(
    settings: HubSettings, *, ingest: RunningIngest | None = None, live: LiveFeed | None = None
) -> FastAPI:
    """``live`` feeds ``/api/v1/stream`` through ``app.state.live_publisher``."""
    engine = make_engine(
        settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms
    )
    live = live or LiveFeed(keepalive_s=settings.stream_keepalive_s)
    publisher = LivePublisher(live, engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        publisher.start()
        try:
            yield
        finally:
            live.close()
            publisher.stop()
            engine.dispose()

    app = FastAPI(
        title="Yuanping smart-community hub",
        summary="Check-ins, sites, devices and dead letters recorded from the edge agents.",
        version=_version(),
        lifespan=lifespan,
        docs_url=None,  # /docs comes with the dashboard, from the package (hub.api.dashboard.apidocs)
        redoc_url=None,
    )
    app.add_middleware(  # added first: the middlewares added after it also wrap its 413
        BodyLimit,
        default=settings.body_max_bytes,
        limits=[
            (IMPORTS_PREFIX, settings.import_max_bytes),
            (OUTLINES_PATH, outlines.MAX_BYTES),
        ],
    )
    app.add_middleware(SecurityHeaders, tile_url=settings.map_tile_url)
    add_error_handlers(app)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.ingest = ingest
    app.state.live = live
    app.state.live_publisher = publisher
    app.state.rate_limiter = RateLimiter()
    app.state.public_venues = public.recent_venues()
    app.state.metrics = ingest.metrics if ingest is not None else HubMetrics()
    app.include_router(health.router)  # unversioned: /healthz, /metrics
    app.include_router(metrics.router)
    app.include_router(api_router)
    app.include_router(public.router)  # anyone, by design: /public/v1, rate-limited
    app.include_router(public.pages)
    app.include_router(public_requests.router)  # /public/v1: no login, rate-limited
    add_dashboard(app)
    return app


def close_live_streams(app: FastAPI) -> None:
    """End the open live streams, so that the server can stop: it waits for open responses,
    and a stream never ends by itself."""
    live: LiveFeed = app.state.live
    live.close()
