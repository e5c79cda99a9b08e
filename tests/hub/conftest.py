"""Fixtures for the hub: settings on a migrated database, ingest workers, edge clients."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from hub.broker.mosquitto import MosquittoBroker
from hub.core.db import upgrade
from hub.core.settings import HubSettings
from hub.ingest import IngestWorker
from tests.hub.support import Db, EdgeClient, Outage, StartWorker
from tests.services import ACCOUNTS, make_broker


def keep_root(broker: MosquittoBroker) -> MosquittoBroker:
    """Run as root, Mosquitto drops to the ``mosquitto`` user, which cannot read the 0600 password
    file in pytest's 0700 tmp dir. Until hub/broker/mosquitto.py says ``user root`` itself when
    started by root, the hub tests add it (a no-op once the config has a ``user`` line)."""
    config = broker.config_path.read_text()
    if os.geteuid() == 0 and "\nuser " not in config:
        broker.config_path.write_text(config + "user root\n")
    return broker


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """The shared fixture, made to work when the tests run as root (as CI does)."""
    broker = keep_root(make_broker(tmp_path / "mosquitto"))
    broker.start()
    yield broker
    broker.kill()


@pytest.fixture
def db_settings(database_url: str) -> HubSettings:
    """Settings on a migrated database, for tests that need no broker."""
    upgrade(database_url)
    return HubSettings(database_url=database_url, mode="demo")


@pytest.fixture
def hub_settings(db_settings: HubSettings, mosquitto: MosquittoBroker) -> HubSettings:
    user, password = ACCOUNTS.hub
    return db_settings.model_copy(
        update={
            "mqtt_url": mosquitto.url,
            "mqtt_username": user,
            "mqtt_password": SecretStr(password),
            "mqtt_client_id": f"hub-test-{uuid.uuid4().hex[:8]}",
            "mode": "production",
            "batch_wait_ms": 20,
            "sqlite_busy_timeout_ms": 100,
        }
    )


@pytest.fixture
def start_worker(hub_settings: HubSettings) -> Iterator[StartWorker]:
    """Start an ingest worker (ready: connected and subscribed); all are stopped afterwards."""
    workers: list[IngestWorker] = []

    def start(settings: HubSettings | None = None, **kwargs: Any) -> IngestWorker:
        worker = IngestWorker(settings or hub_settings, **kwargs)
        workers.append(worker)
        worker.start()
        assert worker.wait_ready(10), "ingest worker did not connect and subscribe"
        return worker

    yield start
    for worker in workers:
        worker.stop(timeout=2)


@pytest.fixture
def edge(mosquitto: MosquittoBroker) -> Iterator[Callable[..., EdgeClient]]:
    clients: list[EdgeClient] = []

    def make(site: str = "centre-01", **kwargs: Any) -> EdgeClient:
        client = EdgeClient(mosquitto, site, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def db(db_settings: HubSettings) -> Iterator[Db]:
    handle = Db(db_settings.database_url)
    yield handle
    handle.engine.dispose()


@pytest.fixture
def outage(db_settings: HubSettings) -> Iterator[Outage]:
    handle = Outage(db_settings.database_url)
    yield handle
    handle.up()
