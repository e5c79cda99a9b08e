"""Fixtures for the site tests: a Mosquitto whose accounts come from the site registry, with the
dynamic-security plugin and an admin account, and the hub's settings in the environment the way
an operator's shell has them for ``community site``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from demo.broker.mosquitto import DynsecMosquitto
from hub.core.settings import HubSettings
from hub.sites.broker_config import registry_broker_config
from tests.hub.org.support import City
from tests.hub.support import CARD_KEY, card_key_file
from tests.services import ACCOUNTS

ADMIN = ("broker-admin", "admin-secret-0123")


def broker_settings(db_settings: HubSettings) -> HubSettings:
    return db_settings.model_copy(
        update={
            "mqtt_username": ACCOUNTS.hub[0],
            "mqtt_password": SecretStr(ACCOUNTS.hub[1]),
            "broker_admin_username": ADMIN[0],
            "broker_admin_password": SecretStr(ADMIN[1]),
        }
    )


@pytest.fixture
def mosquitto(
    db_settings: HubSettings, engine: Engine, tmp_path: Path
) -> Iterator[DynsecMosquitto]:
    """Replaces the suite's broker: the hub, the admin and the test publisher, and the sites the
    registry has (none at first; ``community site add`` creates them live)."""
    with Session(engine) as session:
        config = registry_broker_config(
            session, broker_settings(db_settings), extra=dict([ACCOUNTS.publisher])
        )
    broker = DynsecMosquitto(tmp_path / "mosquitto", config.dynsec)
    broker.start()
    yield broker
    broker.kill()


@pytest.fixture
def site_env(
    monkeypatch: pytest.MonkeyPatch,
    db_settings: HubSettings,
    mosquitto: DynsecMosquitto,
    tmp_path: Path,
) -> HubSettings:
    """What ``community site`` reads: the database, the broker and its admin, the card keys."""
    env = {
        "HUB_DATABASE_URL": db_settings.database_url,
        "HUB_MQTT_URL": mosquitto.url,
        "HUB_MQTT_USERNAME": ACCOUNTS.hub[0],
        "HUB_MQTT_PASSWORD": ACCOUNTS.hub[1],
        "HUB_BROKER_ADMIN_USERNAME": ADMIN[0],
        "HUB_BROKER_ADMIN_PASSWORD": ADMIN[1],
        "HUB_CARD_KEY": CARD_KEY.decode(),
        "HUB_CARD_PRIVATE_KEY_FILE": str(card_key_file(tmp_path)),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return HubSettings()


@pytest.fixture
def city(engine: Engine) -> Iterator[City]:
    """The records a site is tied to (``centre-01`` at first)."""
    city = City(engine)
    city.commit()
    yield city
    city.close()
