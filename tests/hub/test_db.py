"""Migrations and column types, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.orm import Session

from hub.core.db import head_revision, make_engine, upgrade
from hub.core.types import UTCDateTime
from hub.ingest.models import Site
from hub.server import migrate_main
from hub.tables import Base


def test_migrations_reach_head_idempotently_and_match_the_models(database_url: str) -> None:
    assert migrate_main(["--database-url", database_url]) == 0
    assert upgrade(database_url) == head_revision()
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            if conn.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_upgrading_a_database_with_records_keeps_them(database_url: str) -> None:
    assert upgrade(database_url, "0001") == "0001"
    engine = make_engine(database_url)
    at = sa.bindparam("t", datetime(2026, 11, 27, tzinfo=UTC), type_=UTCDateTime())
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO sites (id, first_seen, state) VALUES ('centre-01', :t, 'unknown')"
                ).bindparams(at)
            )
            conn.execute(
                sa.text(
                    "INSERT INTO devices (site_id, id, first_seen, kind, state, frames_ok,"
                    " frame_errors, port_errors) VALUES ('centre-01', 'reader-1', :t, 'card_reader',"
                    " 'ok', 5, 1, 0)"
                ).bindparams(at)
            )
        assert upgrade(database_url) == head_revision()
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT frames_ok, timeouts FROM devices")).one()
        assert tuple(row) == (5, 0)
    finally:
        engine.dispose()


def test_datetimes_are_stored_as_utc_and_come_back_aware(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    beijing = timezone(timedelta(hours=8))
    seen = datetime(2026, 11, 27, 16, 30, 15, 123456, tzinfo=beijing)
    try:
        with Session(engine) as session:
            session.add(Site(id="centre-01", first_seen=seen, state="unknown", boot=uuid.uuid4()))
            session.commit()
        with Session(engine) as session:
            site = session.get_one(Site, "centre-01")
            assert site.first_seen == seen
            assert site.first_seen.tzinfo is UTC
            assert site.first_seen.hour == 8
            # Comparisons in SQL see the same instant whatever offset the parameter has.
            found = session.scalar(
                sa.select(sa.func.count())
                .select_from(Site)
                .where(Site.first_seen >= datetime(2026, 11, 27, 8, 30, 15, tzinfo=UTC))
            )
            assert found == 1
        with Session(engine) as session:
            session.add(Site(id="centre-02", first_seen=datetime(2026, 11, 27), state="unknown"))
            with pytest.raises(sa.exc.StatementError, match="naive datetime"):
                session.commit()
    finally:
        engine.dispose()
