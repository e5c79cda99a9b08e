"""Engines, sessions and migrations.

SQLite gets WAL (readers do not block the ingest writer) and foreign keys on every connection.
Alembic is configured in code, not from an ``alembic.ini``, so ``upgrade`` works from an installed
package wherever the process runs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from hub.core.private_files import create_private, make_private_dir

log = logging.getLogger(__name__)

MIGRATIONS = "hub:migrations"
_MIGRATION_LOCK_ID = 0x79_70_68_75_62  # PostgreSQL advisory lock: one migrator at a time


def make_engine(database_url: str, *, sqlite_busy_timeout_ms: int = 5000) -> Engine:
    """An engine for SQLite or PostgreSQL with the per-connection settings the hub relies on."""
    url = make_url(database_url)
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            # personal data: 0600 before SQLite writes a byte (its -wal and -shm take this mode)
            create_private(make_private_dir(Path(url.database).parent) / Path(url.database).name)
        connect_args["timeout"] = sqlite_busy_timeout_ms / 1000
        connect_args["check_same_thread"] = False
        engine = create_engine(url, connect_args=connect_args)
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = 5
    if "options" not in url.query:
        # times come back in UTC whatever the server's zone, so 9999-12-31 23:00 UTC is not
        # year 10000 in a session at +08 (the hub's SQL names the city's zone where it needs it)
        connect_args["options"] = "-c TimeZone=UTC"
    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "connect", _psycopg_on_connect)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable in WAL mode across process crashes
    finally:
        cursor.close()


def _psycopg_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Python lists go to PostgreSQL as binary arrays: the bulk inserts (``hub.core.bulk``) pass
    one list per column, and psycopg's text format for arrays costs four times as much CPU."""
    from psycopg.types.array import ListBinaryDumper  # noqa: PLC0415 (only with psycopg)

    from hub.core.pg_loaders import register_clamping_loaders  # noqa: PLC0415

    dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)
    register_clamping_loaders(dbapi_connection)  # a stored 'infinity' must not fail every read


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return config


@contextmanager
def _engine_for(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def upgrade(database_url: str, revision: str = "head") -> str | None:
    """Run the migrations up to ``revision``; return the revision the database is now at."""
    config = alembic_config()
    with _engine_for(database_url) as engine, engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:  # several hub processes may start at once
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
            connection.commit()
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by rebuilding it (copy, DROP, rename); with foreign keys on,
            # the DROP deletes the old table's rows first, and every ON DELETE CASCADE or SET
            # NULL pointing at it fires (0010 rebuilt venues: venue_occupancy and capacity_alerts
            # lost every row).
            # The pragma is a no-op inside a transaction: it goes first, before any write.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            config.attributes["connection"] = connection
            before = MigrationContext.configure(connection).get_current_revision()
            command.upgrade(config, revision)
            if sqlite and MigrationContext.configure(connection).get_current_revision() != before:
                _check_foreign_keys(connection)  # a scan of every table: only after a change
            connection.commit()
            current = MigrationContext.configure(connection).get_current_revision()
        finally:
            if sqlite:
                connection.rollback()  # no-op after the commit; the pragma needs no transaction
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            if postgres:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": _MIGRATION_LOCK_ID}
                )
                connection.commit()
    return current


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _check_foreign_keys(connection: Connection) -> None:
    """With SQLite's foreign keys off during the migrations, check them before committing."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        table, rowid, parent, _ = broken[0]
        raise RuntimeError(
            f"the migrations left {len(broken)} rows whose foreign keys point nowhere, the first "
            f"in {table} (rowid {rowid}) to {parent}: restore the backup made before upgrading"
        )
