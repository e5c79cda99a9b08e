"""Helpers for the hub tests: an edge that publishes and collects receipts, events, waiting."""

from __future__ import annotations

import base64
import functools
import hashlib
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from nacl.public import PrivateKey
from paho.mqtt.enums import CallbackAPIVersion

from demo.broker.mosquitto import MosquittoBroker
from hub.composition import HubIngest
from hub.core.card_keys import HubCardKeys
from hub.core.db import make_engine
from hub.core.private_files import write_private
from hub.ingest.cards import CardPolicy
from mqtt_contract import topics
from mqtt_contract.card_seal import seal_card
from mqtt_contract.models import (
    BaysData,
    BaysEvent,
    CheckinData,
    CheckinEvent,
    CounterData,
    CounterEvent,
    DeviceHealth,
    Health,
    Status,
    receipt_of,
)
from mqtt_contract.topics import Command, EventKind
from tests.services import ACCOUNTS, POSTGRES_ADMIN_URL, postgres_admin
from tests.users import bearer, user_token

StartWorker = Callable[..., HubIngest]

CARD_KEY = b"hub-test-card-key-0123456789"
CARD_PRIVATE_KEY = PrivateKey(hashlib.sha256(b"hub-test-card-private-key").digest())
"""The test hub's card key; ``card_key_file`` writes it where ``HUB_CARD_PRIVATE_KEY_FILE`` says."""
CARD_KEYS = HubCardKeys(CARD_KEY, CARD_PRIVATE_KEY)
CARDS = CardPolicy(CARD_KEYS, accept_city_hash=False)
"""A production hub's card policy, for tests that decode messages themselves."""
BOOT = uuid.UUID("00000000-0000-4000-8000-000000000001")
T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def wait_until(
    condition: Callable[[], object], timeout: float = 10.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def checkin(
    seq: int,
    *,
    site: str = "centre-01",
    device: str = "reader-1",
    boot: uuid.UUID = BOOT,
    ts: datetime | None = None,
    event_id: uuid.UUID | None = None,
    card: str = "0A1B2C3D4E",
) -> CheckinEvent:
    return CheckinEvent(
        id=event_id or uuid.uuid4(),
        site=site,
        device=device,
        boot=boot,
        seq=seq,
        ts=ts or T0 + timedelta(seconds=seq),
        data=CheckinData(
            card_sealed=seal_card(CARD_PRIVATE_KEY.public_key, card), decision="allowed"
        ),
    )


@functools.cache
def shared_card_key_file() -> Path:
    """One key file per test process, for fixtures that have no directory of their own."""
    return card_key_file(Path(tempfile.mkdtemp(prefix="yp-test-card-key-")))


def card_key_file(directory: Path) -> Path:
    """The test hub's card key in a 0600 file, for ``HubSettings.card_private_key_file``."""
    path = directory / "card-key"
    if not path.exists():
        write_private(path, base64.b64encode(bytes(CARD_PRIVATE_KEY)).decode() + "\n")
    return path


def counter(
    seq: int,
    *,
    count_in: int,
    count_out: int,
    site: str = "centre-01",
    device: str = "gate-1",
    device_boots: int = 1,
) -> CounterEvent:
    return CounterEvent(
        id=uuid.uuid4(),
        site=site,
        device=device,
        boot=BOOT,
        seq=seq,
        ts=T0 + timedelta(seconds=seq),
        data=CounterData(
            unit_id=1, device_boots=device_boots, count_in=count_in, count_out=count_out
        ),
    )


def bays(seq: int, occupied: str, *, site: str = "centre-01", device: str = "bays-1") -> BaysEvent:
    return BaysEvent(
        id=uuid.uuid4(),
        site=site,
        device=device,
        boot=BOOT,
        seq=seq,
        ts=T0 + timedelta(seconds=seq),
        data=BaysData(unit_id=2, bays=occupied),
    )


def event_topic(event: CheckinEvent | CounterEvent | BaysEvent) -> str:
    return topics.event(event.site, event.device, EventKind(event.kind))


def status(
    state: str, *, site: str = "centre-01", boot: uuid.UUID = BOOT, since: datetime | None = None
) -> Status:
    return Status(
        site=site,
        state=state,
        boot=boot,
        since=since or datetime.now(UTC),
        agent_version="0.1.0",
    )


def health(
    *,
    site: str = "centre-01",
    boot: uuid.UUID = BOOT,
    ts: datetime | None = None,
    devices: dict[str, str] | None = None,
    frame_errors: int = 0,
    outbox_depth: int = 0,
) -> Health:
    return Health(
        site=site,
        boot=boot,
        ts=ts or datetime.now(UTC),
        uptime_s=12.5,
        outbox_depth=outbox_depth,
        oldest_pending_s=None,
        agent_version="0.1.0",
        devices=[
            DeviceHealth(
                id=device,
                kind="card_reader",
                state=state,
                frames_ok=100,
                frame_errors=frame_errors,
                port_errors=1,
            )
            for device, state in (devices or {"reader-1": "ok"}).items()
        ],
    )


class EdgeClient:
    """Publishes as an edge account (username = site id) and collects that site's receipts."""

    def __init__(
        self,
        broker: MosquittoBroker,
        site: str = "centre-01",
        *,
        account: tuple[str, str] | None = None,
    ) -> None:
        self.site = site
        self._lock = threading.Lock()
        self.receipts: list[Any] = []
        self._subscribed = threading.Event()
        user, password = account or ACCOUNTS.edge(site)
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"test-edge-{site}-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.username_pw_set(user, password)
        self.client.max_inflight_messages_set(1000)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        if account is None:
            self.client.subscribe(topics.command_filter(site), qos=1)
            assert self._subscribed.wait(5), "edge client did not get its SUBACK"

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        if message.topic != topics.command(self.site, Command.RECEIPT):
            return  # other downlink (a test may publish junk under cmd/)
        with self._lock:
            self.receipts.append(receipt_of(message.payload))

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(10)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS, mqtt.error_string(info.rc)

    def publish_events(
        self, events: Sequence[CheckinEvent | CounterEvent | BaysEvent], window: int = 500
    ) -> None:
        """Publish at QoS 1 with a bounded window, as paho needs back-pressure."""
        pending: list[mqtt.MQTTMessageInfo] = []
        for event in events:
            pending.append(self.client.publish(event_topic(event), event.to_bytes(), qos=1))
            if len(pending) >= window:
                for info in pending:
                    info.wait_for_publish(10)
                pending.clear()
        for info in pending:
            info.wait_for_publish(10)

    def receipt_count(self) -> int:
        with self._lock:
            return len(self.receipts)

    def receipted(self) -> set[tuple[uuid.UUID, int]]:
        with self._lock:
            return {
                (r.boot, seq)
                for receipt in self.receipts
                for r in receipt.ranges
                for seq in range(r.first, r.last + 1)
            }

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Db:
    """Read the hub's tables directly, as a second connection would."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    def count(self, table: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())

    def rows(self, query: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(query), params))


class Outage:
    """Make the database really unavailable to the hub, then bring it back.

    SQLite: another connection holds an exclusive write lock (the hub's writes time out with
    "database is locked"). PostgreSQL: the database stops accepting connections and the hub's
    connections are terminated, as when the server goes away.
    """

    def __init__(self, url: str) -> None:
        self.url = sa.engine.make_url(url)
        self._lock: sqlite3.Connection | None = None
        self._down = False

    def down(self) -> None:
        self._down = True
        if self.url.get_backend_name() == "sqlite":
            self._lock = sqlite3.connect(str(self.url.database), isolation_level=None)
            self._lock.execute("BEGIN EXCLUSIVE")
            return
        postgres_admin(f'ALTER DATABASE "{self.url.database}" ALLOW_CONNECTIONS false')
        # A connection that passed its startup check just before the ALTER is not yet in
        # pg_stat_activity when a single terminate runs, and would outlive the outage: terminate
        # until the database has had no backend for three rounds in a row.
        admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        terminate = sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"
        )
        try:
            with admin.connect() as conn:
                quiet_rounds = 0
                while quiet_rounds < 3:
                    terminated = conn.execute(terminate, {"name": self.url.database}).scalar_one()
                    quiet_rounds = quiet_rounds + 1 if terminated == 0 else 0
                    time.sleep(0.02)
        finally:
            admin.dispose()

    def up(self) -> None:
        if not self._down:
            return
        self._down = False
        if self._lock is not None:
            self._lock.execute("ROLLBACK")
            self._lock.close()
            self._lock = None
            return
        postgres_admin(f'ALTER DATABASE "{self.url.database}" ALLOW_CONNECTIONS true')


class ApiServer:
    """The API app served by a real uvicorn on a free port, with an httpx client to it.

    (Starlette's TestClient now wants ``httpx2``; a real server needs nothing more and goes
    through the same HTTP stack as production.)"""

    def __init__(self, app: FastAPI, *, token: str | None = None, anonymous: bool = False) -> None:
        """Calls authenticate with ``token``, by default an operator's made for this server;
        ``anonymous``: with no credentials."""
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started or not self.thread.is_alive(), what="uvicorn")
        assert self.server.started, "uvicorn did not start"
        port = self.server.servers[0].sockets[0].getsockname()[1]
        if token is None and not anonymous:
            token = user_token(app.state.settings.database_url)
        self.token = token
        headers = {} if token is None else bearer(token)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, headers=headers)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params)

    def close(self) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(10)

    def __enter__(self) -> ApiServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
