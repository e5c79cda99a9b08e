"""Publishes every centre's allowlist, retained at QoS 1, on ``yp/v1/{site}/cmd/allowlist``.

At start, after every reconnect (a broker may have lost its retained messages) and whenever a
centre's list changes. Changes are found by looking at the records every ``interval_s`` seconds
(or at once after :meth:`wake`), so an import or an API change made by any hub process reaches the
edges without the processes talking to each other.

It keeps a connection of its own, through the hub's MQTT module like every hub connection, rather
than sharing ingest's: ingest's session is a shared subscriber with a wide receive window whose
PUBACKs go out in batches, while this one waits for the broker's acknowledgement of each retained
list (up to ``_PUBLISH_TIMEOUT_S``) and publishes everything again on each of its own reconnects.
Sharing would make a large allowlist wait behind, and hold up, ingest's acks; and a hub run with
``--no-ingest`` beside another hub could not publish allowlists at all.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from hub.core.card_keys import card_keys
from hub.core.db import make_engine
from hub.core.settings import HubSettings
from hub.mqtt import HubConnection, PublishError, Role, session_options
from hub.org.allowlist import current_allowlists
from mqtt_contract import topics
from mqtt_contract.topics import Command

log = logging.getLogger(__name__)

_PUBLISH_TIMEOUT_S = 10.0


class AllowlistPublisher:
    def __init__(self, settings: HubSettings, *, interval_s: float | None = None) -> None:
        self._engine = make_engine(
            settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms
        )
        self._interval_s = interval_s or settings.allowlist_interval_s
        self._keys = card_keys(settings)  # raises CardKeyError: a hub with a bad key file stops
        self._connection = HubConnection(
            "allowlists",
            session_options(settings, Role.ALLOWLISTS),
            settings.broker,
            on_connect=self._on_connect,
        )
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._published: dict[str, int] = {}  # site -> version the broker acknowledged
        self._thread = threading.Thread(target=self._run, name="hub-allowlists", daemon=True)

    def start(self) -> None:
        self._connection.start()
        self._thread.start()

    def wake(self) -> None:
        """Look at the records now (after a change this process made)."""
        self._wake.set()

    def published(self) -> dict[str, int]:
        """Site → the version the broker has acknowledged, for health and tests."""
        with self._lock:
            return dict(self._published)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(_PUBLISH_TIMEOUT_S + 2)
        self._connection.close()
        self._engine.dispose()

    # the connection's network thread -----------------------------------------------------------

    def _on_connect(self, _session_present: bool) -> None:
        with self._lock:
            self._published.clear()  # publish everything again on this connection
        self._wake.set()

    # our thread ---------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval_s)
            self._wake.clear()
            if self._stop.is_set() or not self._connection.connected:
                continue
            try:
                self._publish_due()
            except SQLAlchemyError as exc:
                log.warning("cannot read the allowlists now (%s); trying again", exc)
            except Exception:
                log.exception("allowlist publishing failed; trying again")

    def _publish_due(self) -> None:
        if self._keys is None:
            log.warning("no allowlists: they need HUB_CARD_KEY and HUB_CARD_PRIVATE_KEY_FILE")
            self._stop.set()
            return
        for allowlist, changed in current_allowlists(self._engine, self._keys):
            site = allowlist.site
            if changed:
                log.info(
                    "allowlist of %s is now version %d (%d cards)",
                    site,
                    allowlist.version,
                    len(allowlist.card_hashes),
                )
            if self.published().get(site) == allowlist.version:
                continue
            try:
                published = self._connection.publish_and_wait(
                    topics.command(site, Command.ALLOWLIST),
                    allowlist.to_bytes(),
                    timeout=_PUBLISH_TIMEOUT_S,
                    qos=1,
                    retain=True,
                )
            except PublishError as exc:
                log.warning("allowlist for %s not published (%s); will retry", site, exc)
                return
            if published:
                with self._lock:
                    self._published[site] = allowlist.version
