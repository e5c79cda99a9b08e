"""Fixtures for the dashboard tests: Debian's chromium (one per session) and a hub with seeded
records on a real Mosquitto."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright
from pydantic import SecretStr

from hub.broker.mosquitto import MosquittoBroker
from hub.core.db import upgrade
from hub.core.settings import HubSettings
from tests.dashboards.support import DashboardHub, launch, seed_centres
from tests.hub.support import CARD_KEY, EdgeClient
from tests.services import ACCOUNTS


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    manager = sync_playwright().start()
    yield manager
    manager.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch(playwright)
    yield browser
    browser.close()


def _settings(database_url: str, broker: MosquittoBroker) -> HubSettings:
    upgrade(database_url)
    user, password = ACCOUNTS.hub
    return HubSettings(
        database_url=database_url,
        mqtt_url=broker.url,
        mqtt_username=user,
        mqtt_password=SecretStr(password),
        mqtt_client_id=f"hub-dash-{uuid.uuid4().hex[:8]}",
        card_key=SecretStr(CARD_KEY.decode()),
        mode="production",
        batch_wait_ms=10,
    )


@pytest.fixture
def hub(tmp_path: Path, mosquitto: MosquittoBroker) -> Iterator[DashboardHub]:
    """A hub on SQLite with three centres' morning of taps."""
    database_url = f"sqlite:///{tmp_path / 'hub.db'}"
    settings = _settings(database_url, mosquitto)
    seed_centres(database_url)
    running = DashboardHub(settings)
    yield running
    running.close()


@pytest.fixture
def pg_hub(postgres_url: str, mosquitto: MosquittoBroker) -> Iterator[DashboardHub]:
    """The same on PostgreSQL."""
    settings = _settings(postgres_url, mosquitto)
    seed_centres(postgres_url)
    running = DashboardHub(settings)
    yield running
    running.close()


@pytest.fixture
def edge(mosquitto: MosquittoBroker) -> Iterator[Callable[..., EdgeClient]]:
    clients: list[EdgeClient] = []

    def make(site: str = "centre-01", **kwargs: object) -> EdgeClient:
        client = EdgeClient(mosquitto, site, **kwargs)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
