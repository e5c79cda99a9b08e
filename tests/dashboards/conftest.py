"""Fixtures for the dashboard tests: Debian's chromium (one per session) and a hub with seeded
records on a real Mosquitto."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright
from pydantic import SecretStr

from demo.broker.mosquitto import MosquittoBroker
from hub.core.settings import HubSettings
from tests.dashboards.support import VENUES, DashboardHub, gate_readings, launch, seed_centres
from tests.hub.support import CARD_KEY, EdgeClient, shared_card_key_file, wait_until
from tests.migrated import MigratedTemplates
from tests.services import ACCOUNTS, make_broker


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """Package scope, not session: Playwright's sync API keeps an event loop running in this
    thread while it lives, which would break later tests that call ``asyncio.run``."""
    manager = sync_playwright().start()
    yield manager
    manager.stop()


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch(playwright)
    yield browser
    browser.close()


def _settings(
    database_url: str, broker: MosquittoBroker, migrated: MigratedTemplates
) -> HubSettings:
    migrated.migrate(database_url)
    user, password = ACCOUNTS.hub
    return HubSettings(
        database_url=database_url,
        mqtt_url=broker.url,
        mqtt_username=user,
        mqtt_password=SecretStr(password),
        mqtt_client_id=f"hub-dash-{uuid.uuid4().hex[:8]}",
        card_key=SecretStr(CARD_KEY.decode()),
        card_private_key_file=shared_card_key_file(),
        mode="production",
        batch_wait_ms=10,
        # live occupancy is recomputed this often (default 1000 ms): 500 keeps a reading's effect
        # on screen within the second however the reading falls in that interval
        occupancy_live_ms=500,
        # the seeded readers' one heartbeat keeps them online for the whole session, however
        # slowly a loaded machine runs it: the pages' labels must not change under a test
        heartbeat_timeout_s=86_400,
        # every page test reads the public routes (the venue maps) from one address
        public_rate_burst=10_000,
    )


def _with_venue_readings(running: DashboardHub, broker: MosquittoBroker) -> DashboardHub:
    """Today's gate counts at two venues, through MQTT and the hub's own derivation."""
    for site in VENUES:
        client = EdgeClient(broker, site)
        try:
            readings = gate_readings(site, 1)
            client.publish_events(readings)
            expected = (site, len(readings))
            wait_until(
                lambda expected=expected: (
                    running.count("counter_readings", expected[0]) == expected[1]
                ),
                10,
                f"{site}'s readings",
            )
        finally:
            client.close()
    wait_until(
        lambda: all(running.get(f"/api/v1/venues/{v}")["live"] for v in VENUES), 10, "occupancy"
    )
    return running


def _start(database_url: str, broker: MosquittoBroker, migrated: MigratedTemplates) -> DashboardHub:
    settings = _settings(database_url, broker, migrated)
    seed_centres(database_url)
    return _with_venue_readings(DashboardHub(settings), broker)


@pytest.fixture(scope="package")
def session_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    broker = make_broker(tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    yield broker
    broker.kill()


@pytest.fixture(scope="package")
def hub(
    tmp_path_factory: pytest.TempPathFactory,
    session_broker: MosquittoBroker,
    migrated: MigratedTemplates,
) -> Iterator[DashboardHub]:
    """A hub on SQLite, shared by the tests that only look: a small seeded city, this morning's
    taps at three centres and gate counts at two venues."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('hub') / 'hub.db'}"
    running = _start(database_url, session_broker, migrated)
    yield running
    running.close()


@pytest.fixture
def live_hub(
    tmp_path: Path, mosquitto: MosquittoBroker, migrated: MigratedTemplates
) -> Iterator[DashboardHub]:
    """The same, fresh for a test that publishes."""
    running = _start(f"sqlite:///{tmp_path / 'hub.db'}", mosquitto, migrated)
    yield running
    running.close()


@pytest.fixture
def pg_hub(
    migrated_postgres_url: str, mosquitto: MosquittoBroker, migrated: MigratedTemplates
) -> Iterator[DashboardHub]:
    """The same on PostgreSQL."""
    running = _start(migrated_postgres_url, mosquitto, migrated)
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
