"""Fixtures for the records tests: a migrated database (SQLite and PostgreSQL) and a small city."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from hub.composition import build_store
from hub.ingest.store import RecordStore
from tests.hub.org.support import City


@pytest.fixture
def city(engine: Engine) -> Iterator[City]:
    city = City(engine)
    yield city
    city.close()


@pytest.fixture
def store(engine: Engine) -> RecordStore:
    return build_store(engine)
