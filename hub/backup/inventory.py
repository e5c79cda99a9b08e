"""What a database holds, for the manifest and for checking a restore: its schema revision and the
rows of every table, read in one transaction (so in one snapshot) by the caller."""

from __future__ import annotations

import importlib.metadata
import sqlite3
from collections.abc import Callable

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, text

from hub.backup.manifest import BackupError
from hub.core.db import alembic_config

DISTRIBUTION = "yuanping-community"

Progress = Callable[[str], None]


def hub_version() -> str:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"  # run from a source tree that was never installed


def postgres_tables(conn: Connection) -> list[str]:
    """The ordinary and partitioned tables of the current schema, not the partitions (a parent's
    count includes its partitions' rows)."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_class c"
            " WHERE c.relnamespace = current_schema()::regnamespace"
            " AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname"
        )
    )
    return [str(name) for (name,) in rows]


def postgres_counts(conn: Connection, progress: Progress) -> dict[str, int]:
    counts = {}
    progress("counting rows")
    for name in postgres_tables(conn):
        quoted = conn.dialect.identifier_preparer.quote(name)
        counts[name] = int(conn.execute(text(f"SELECT count(*) FROM {quoted}")).scalar_one())  # noqa: S608 - a catalog name, quoted
    progress(f"{sum(counts.values())} rows in {len(counts)} tables")
    return counts


def postgres_revision(conn: Connection) -> str:
    if "alembic_version" not in postgres_tables(conn):
        raise BackupError("the database has no schema revision (alembic_version): not a hub's")
    return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name"
    )
    return [str(name) for (name,) in rows]


def sqlite_counts(conn: sqlite3.Connection, progress: Progress) -> dict[str, int]:
    counts = {}
    progress("counting rows")
    for name in sqlite_tables(conn):
        quoted = '"' + name.replace('"', '""') + '"'
        counts[name] = int(conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0])  # noqa: S608 - a catalog name, quoted
    progress(f"{sum(counts.values())} rows in {len(counts)} tables")
    return counts


def sqlite_revision(conn: sqlite3.Connection) -> str:
    if "alembic_version" not in sqlite_tables(conn):
        raise BackupError("the database has no schema revision (alembic_version): not a hub's")
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    if row is None:
        raise BackupError("the database's alembic_version is empty")
    return str(row[0])


def check_revision(revision: str) -> str | None:
    """``None`` when ``revision`` is this code's head; otherwise the head, when ``revision`` is an
    older one that ``community hub migrate`` upgrades. ``BackupError`` when this code does not know
    it: the backup was made by a newer hub, whose schema this code cannot run on."""
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    if revision == head:
        return None
    try:
        known = script.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(
            f"the backup's schema revision {revision} is unknown to this hub "
            f"({hub_version()}, newest revision {head}): it was made by a newer hub; restore it "
            "with that version (or newer)"
        )
    return head


def compare_counts(expected: dict[str, int], found: dict[str, int]) -> list[str]:
    """The differences, one line each; empty when every table has the rows it should."""
    lines = []
    for name in sorted(expected.keys() | found.keys()):
        want, have = expected.get(name), found.get(name)
        if want != have:
            lines.append(
                f"{name}: backup {want if want is not None else 'none'}, "
                f"database {have if have is not None else 'none'}"
            )
    return lines
