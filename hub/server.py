"""``community hub``: migrations, the ingest worker and the API in one process.

SIGTERM/SIGINT stop it cleanly (stop taking messages, finish the batch in hand, disconnect), but
nothing depends on that: a hub killed -9 at any moment loses nothing, because messages are
acknowledged only after their commit and every write is idempotent.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hub.api import App
from hub.api.app import close_live_streams
from hub.auth.users import active_operators
from hub.composition import build_hub
from hub.core.card_keys import CardKeyError, card_keys
from hub.core.db import make_engine, upgrade
from hub.core.settings import HubSettings

log = logging.getLogger(__name__)

_API_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 10.0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _configure_logging(args.log_level)
    if args.no_api and args.no_ingest:
        sys.stderr.write("community hub: --no-api and --no-ingest leave nothing to run\n")
        return 2
    overrides = {
        key: value
        for key, value in (
            ("database_url", args.database_url),
            ("mqtt_url", args.mqtt_url),
            ("http_host", args.http_host),
            ("http_port", args.http_port),
        )
        if value is not None
    }
    settings = _load_settings(overrides)
    if settings is None:
        return 2
    try:
        card_keys(settings)  # a hub whose card key file is set but unusable stops, saying why
    except CardKeyError as exc:
        log.error("%s", exc)
        return 2
    if not _migrate(settings):
        return 1
    if not args.no_api:
        _warn_without_operator(settings)
    return _Hub(settings, api=not args.no_api, ingest=not args.no_ingest).run()


def _warn_without_operator(settings: HubSettings) -> None:
    """Every API route needs a user: say how to make the first one."""
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as db:
            if active_operators(db) == 0:
                log.warning(
                    "no operator can log in yet: make one with "
                    "`community user add admin --role operator` (docs/security.md)"
                )
    finally:
        engine.dispose()


def migrate_main(argv: list[str] | None = None) -> int:
    """``community hub migrate``: upgrade the database to the latest revision and exit."""
    parser = argparse.ArgumentParser(
        prog="community hub migrate", description="Upgrade the hub's database to the latest schema."
    )
    parser.add_argument("--database-url", help="default: HUB_DATABASE_URL or sqlite:///data/hub.db")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    _configure_logging(args.log_level)
    overrides: dict[str, Any] = {"mode": "demo"}  # migrating needs no broker secret
    if args.database_url:
        overrides["database_url"] = args.database_url
    settings = _load_settings(overrides)
    if settings is None:
        return 2
    return 0 if _migrate(settings) else 1


def _migrate(settings: HubSettings) -> bool:
    """Upgrade the database to the latest revision; ``False`` (logged) when it cannot."""
    try:
        revision = upgrade(settings.database_url)
    except SQLAlchemyError as exc:
        log.error("cannot migrate %s: %s", settings.database_url_for_display(), exc)
        return False
    log.info("database %s is at revision %s", settings.database_url_for_display(), revision)
    return True


class _Hub:
    def __init__(self, settings: HubSettings, *, api: bool, ingest: bool) -> None:
        self.settings = settings
        self.stop_requested = threading.Event()
        parts = build_hub(settings, api=api, ingest=ingest)
        self.worker = parts.ingest
        self.allowlists = parts.allowlists
        self.commands = parts.commands
        self.server: uvicorn.Server | None = None
        self.app: App | None = parts.app
        self.api_thread: threading.Thread | None = None
        if parts.app is not None:
            app = parts.app
            config = uvicorn.Config(
                app,
                host=settings.http_host,
                port=settings.http_port,
                log_config=None,
                access_log=False,
                lifespan="on",
                # behind the TLS proxy: believe its X-Forwarded-Proto/-For, and no one else's
                proxy_headers=True,
                forwarded_allow_ips=settings.forwarded_allow_ips,
            )
            self.server = uvicorn.Server(config)

    def run(self) -> int:
        restore = _on_stop_signals(self._request_stop)
        try:
            if self.worker is not None:
                self.worker.start()
            if self.allowlists is not None:
                self.allowlists.start()
            if self.commands is not None:
                self.commands.start()
            where = self._start_api()
            if where is None:
                return 1
            log.info(
                "hub running: %s; ingest %s; %s",
                where,
                "on" if self.worker else "off (--no-ingest)",
                self.settings.describe(),
            )
            if warning := self.settings.plain_broker_warning():
                log.warning("%s", warning)
            return self._wait()
        finally:
            self._shutdown()
            restore()

    def _request_stop(self) -> None:
        self.stop_requested.set()

    def _start_api(self) -> str | None:
        if self.server is None:
            return "API off (--no-api)"
        server = self.server
        self.api_thread = threading.Thread(target=server.run, name="hub-api", daemon=True)
        self.api_thread.start()  # not the main thread: uvicorn leaves the signals to us
        deadline = time.monotonic() + _API_START_TIMEOUT_S
        while not server.started:
            if not self.api_thread.is_alive() or time.monotonic() > deadline:
                log.error(
                    "the API could not start on %s:%s",
                    self.settings.http_host,
                    self.settings.http_port,
                )
                return None
            time.sleep(0.02)
        host, port = server.servers[0].sockets[0].getsockname()[:2]
        return f"API on http://{host}:{port}"

    def _wait(self) -> int:
        while not self.stop_requested.wait(0.5):
            if self.api_thread is not None and not self.api_thread.is_alive():
                log.error("the API server stopped unexpectedly")
                return 1
        log.info("stopping")
        return 0

    def _shutdown(self) -> None:
        if self.server is not None and self.api_thread is not None:
            if self.app is not None:
                close_live_streams(self.app)  # uvicorn waits for open responses to end
            self.server.should_exit = True
            self.api_thread.join(_STOP_TIMEOUT_S)
        if self.allowlists is not None:
            self.allowlists.stop()
        if self.commands is not None:
            self.commands.stop()
        if self.worker is not None:
            self.worker.stop(timeout=_STOP_TIMEOUT_S)


def _on_stop_signals(handler: Callable[[], None]) -> Callable[[], None]:
    """Route SIGTERM and SIGINT to ``handler``; return what restores the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        handler()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def _load_settings(overrides: dict[str, Any]) -> HubSettings | None:
    try:
        return HubSettings(**overrides)
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        sys.stderr.write(f"community hub: invalid settings\n{problems}\n")
        return None


def _configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    else:
        root.setLevel(level.upper())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="community hub",
        description="Run the hub: database migrations, the MQTT ingest worker and the HTTP API. "
        "Settings come from HUB_* environment variables; these flags override them.",
        epilog="'community hub migrate' only upgrades the database.",
    )
    parser.add_argument("--no-api", action="store_true", help="run the ingest worker only")
    parser.add_argument("--no-ingest", action="store_true", help="serve the API only")
    parser.add_argument("--database-url", help="SQLAlchemy URL (HUB_DATABASE_URL)")
    parser.add_argument("--mqtt-url", help="broker URL, mqtt://host:port (HUB_MQTT_URL)")
    parser.add_argument("--http-host", help="API address (HUB_HTTP_HOST)")
    parser.add_argument("--http-port", type=int, help="API port, 0 for any free one")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING... (INFO)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
