"""Fixtures that start real services: a private Mosquitto per test, a fresh PostgreSQL database.

A service the tests need and cannot reach is an error, never a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.broker.mosquitto import MosquittoBroker, contract_acl

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

# Sites whose edges the test broker knows; username = site id, as in production.
TEST_SITES = ("centre-01", "centre-02", "centre-03")


@dataclass(frozen=True)
class BrokerAccounts:
    hub: tuple[str, str] = ("hub", "hub-secret")
    publisher: tuple[str, str] = ("publisher", "publisher-secret")

    @staticmethod
    def edge(site: str) -> tuple[str, str]:
        return site, f"{site}-secret"


ACCOUNTS = BrokerAccounts()


def make_broker(workdir: Path, **kwargs: int) -> MosquittoBroker:
    accounts = dict([ACCOUNTS.hub, ACCOUNTS.publisher, *(ACCOUNTS.edge(s) for s in TEST_SITES)])
    acl = contract_acl(hub_users=[ACCOUNTS.hub[0]], publishers=[ACCOUNTS.publisher[0]])
    return MosquittoBroker(workdir, accounts, acl, **kwargs)


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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url
