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
from tests.services import (
    ACCOUNTS,
    POSTGRES_ADMIN_URL,
    TEST_SITES,
    BrokerAccounts,
    DatabaseDropper,
    make_broker,
    postgres_admin,
)

__all__ = ["ACCOUNTS", "TEST_SITES", "BrokerAccounts"]


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A private Mosquitto with auth and the contract's ACL, on a free port."""
    broker = make_broker(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.kill()


# Fixtures that migrate the database they are given (from the template) as their first step: a
# test that uses one gets its PostgreSQL database copied from the template at once, not made
# empty to be dropped and made again (a CREATE and a DROP DATABASE fewer).
MIGRATING_FIXTURES = frozenset({"db_settings", "migrated_postgres_url"})


@pytest.fixture(scope="session")
def database_dropper() -> Iterator[DatabaseDropper]:
    dropper = DatabaseDropper()
    yield dropper
    dropper.close()


@pytest.fixture
def postgres_url(
    request: pytest.FixtureRequest, database_dropper: DatabaseDropper
) -> Iterator[str]:
    """URL of a new PostgreSQL database, dropped afterwards: empty, or already migrated when a
    fixture of ``MIGRATING_FIXTURES`` (which would migrate it at once) is in the test's."""
    name = f"yp_test_{uuid.uuid4().hex[:12]}"
    try:
        if MIGRATING_FIXTURES.intersection(request.fixturenames):
            templates: MigratedTemplates = request.getfixturevalue("migrated")
            templates.copy_postgres(name)
        else:
            postgres_admin(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required for the tests and is not reachable: {exc}")
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name)
    yield url.render_as_string(hide_password=False)
    database_dropper.drop(name)


@pytest.fixture
def migrated_postgres_url(postgres_url: str, migrated: MigratedTemplates) -> str:
    """A new PostgreSQL database at head."""
    migrated.migrate(postgres_url)
    return postgres_url


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
