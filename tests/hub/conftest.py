"""Fixtures for the hub: settings on a migrated database, ingest workers, edge clients."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from demo.broker.mosquitto import MosquittoBroker
from hub.composition import HubIngest, build_ingest
from hub.core.db import make_engine
from hub.core.settings import HubSettings
from tests.hub.support import CARD_KEY, Db, EdgeClient, Outage, StartWorker, card_key_file
from tests.migrated import MigratedTemplates
from tests.services import ACCOUNTS


@pytest.fixture
def db_settings(database_url: str, migrated: MigratedTemplates) -> HubSettings:
    """Settings on a migrated database, for tests that need no broker."""
    migrated.migrate(database_url)
    # The test events have fixed times (support.T0): they must not age out of the hub's window
    # as the years pass. The window's own tests (test_decode, test_worst_values) set theirs.
    return HubSettings(database_url=database_url, mode="demo", event_max_age_days=36_500)


@pytest.fixture
def hub_settings(
    db_settings: HubSettings, mosquitto: MosquittoBroker, tmp_path_factory: pytest.TempPathFactory
) -> HubSettings:
    user, password = ACCOUNTS.hub
    return db_settings.model_copy(
        update={
            "mqtt_url": mosquitto.url,
            "mqtt_username": user,
            "mqtt_password": SecretStr(password),
            "mqtt_client_id": f"hub-test-{uuid.uuid4().hex[:8]}",
            "mode": "production",
            "card_key": SecretStr(CARD_KEY.decode()),
            "card_private_key_file": card_key_file(tmp_path_factory.getbasetemp()),
            "batch_wait_ms": 20,
            "sqlite_busy_timeout_ms": 100,
        }
    )


@pytest.fixture
def start_worker(hub_settings: HubSettings) -> Iterator[StartWorker]:
    """Start an ingest worker (ready: connected and subscribed); all are stopped afterwards."""
    workers: list[HubIngest] = []

    def start(settings: HubSettings | None = None, **kwargs: Any) -> HubIngest:
        worker = build_ingest(settings or hub_settings, **kwargs)
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
def engine(db_settings: HubSettings) -> Iterator[Engine]:
    """An engine on the migrated database, for tests that read or write it directly."""
    engine = make_engine(db_settings.database_url)
    yield engine
    engine.dispose()


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
