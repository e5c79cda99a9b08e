"""Fixtures that start real services: a private Mosquitto per test, a fresh PostgreSQL database.

A service the tests need and cannot reach is an error, never a skip.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from demo.broker.mosquitto import MosquittoBroker
from tests.migrated import MigratedTemplates
from tests.services import ACCOUNTS, POSTGRES_ADMIN_URL, TEST_SITES, BrokerAccounts, make_broker

__all__ = ["ACCOUNTS", "TEST_SITES", "BrokerAccounts"]


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A private Mosquitto with auth and the contract's ACL, on a free port."""
    broker = make_broker(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.kill()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped afterwards."""
    name = f"yp_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required for the tests and is not reachable: {exc}")
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    """Migrated templates, once per test process: ``migrated.migrate(url)`` brings a fresh
    database to head by copying."""
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # schemathesis 4 under pytest 9 gives every operation's test the function's bare node id
    # (pytest 9 builds it from `originalname`); pytest-xdist schedules by node id, so all but one
    # operation would silently not run. Give each the parameters its name already carries:
    # "test_api_contract[GET /healthz]".
    for item in items:
        if item.name.endswith("]") and "[" not in item.nodeid and item.parent is not None:
            params = item.name[item.name.index("[") + 1 : -1]
            item._id = item.parent.id.child(item.name[: item.name.index("[")]).with_params(params)
