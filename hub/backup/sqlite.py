"""SQLite: SQLite's online backup API both ways, so the hub may go on writing while a backup is
made (the copy is one consistent moment), and a restore replaces the database's pages in one
step under SQLite's own lock."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from hub.backup.archive import sha256_of
from hub.backup.inventory import (
    Progress,
    hub_version,
    sqlite_counts,
    sqlite_revision,
    sqlite_tables,
)
from hub.backup.manifest import DATA_MEMBER, BackupError, Manifest
from hub.core.private_files import create_private, make_private_dir

_PAGES_PER_STEP = 4096  # 16 MiB at 4 KiB a page, for a restore's progress lines
_BUSY_SECONDS = 30


def database_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"{database_url}: not a SQLite database file")
    return Path(database)


@contextlib.contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, timeout=_BUSY_SECONDS, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def _copy(
    source: sqlite3.Connection, target: sqlite3.Connection, progress: Progress, *, live: bool
) -> None:
    """Copy every page. From a ``live`` database (the hub writing) in one step: SQLite restarts a
    stepwise backup whenever another connection writes to its source, so a busy hub could keep it
    from ever finishing; one step reads one snapshot (WAL: the writer is not blocked meanwhile)."""
    shown = [-1]

    def step(_status: int, remaining: int, total: int) -> None:
        percent = 100 * (total - remaining) // max(total, 1)
        if percent // 10 > shown[0]:
            shown[0] = percent // 10
            progress(f"copied {percent}% of {total} pages")

    if live:
        total = int(source.execute("PRAGMA page_count").fetchone()[0])
        progress(f"copying {total} pages")
        source.backup(target, pages=-1)
        progress("copied")
    else:
        source.backup(target, pages=_PAGES_PER_STEP, progress=step)


def dump(database_url: str, work: Path, progress: Progress) -> tuple[Manifest, Path]:
    path = database_path(database_url)
    if not path.is_file():
        raise BackupError(f"{path}: no such database")
    data = work / DATA_MEMBER["sqlite"]
    try:
        with _connect(path) as source, _connect(create_private(data)) as copy:
            _copy(source, copy, progress, live=True)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
            revision = sqlite_revision(copy)
            counts = sqlite_counts(copy, progress)
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: {exc}") from None
    manifest = Manifest(
        hub_version=hub_version(),
        alembic_revision=revision,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        database="sqlite",
        data_member=data.name,
        data_bytes=data.stat().st_size,
        data_sha256=sha256_of(data),
        tables=counts,
        server_version=sqlite3.sqlite_version,
    )
    return manifest, data


def verify(data: Path, progress: Progress) -> dict[str, int]:
    """Check the backup's database file is sound; its rows per table."""
    try:
        with _connect(data) as conn:
            result = conn.execute("PRAGMA integrity_check").fetchall()
            if result != [("ok",)]:
                lines = "; ".join(str(row[0]) for row in result[:5])
                raise BackupError(f"the backup's database fails SQLite's integrity check: {lines}")
            return sqlite_counts(conn, progress)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the backup's data is not a SQLite database: {exc}") from None


def target_tables(database_url: str) -> list[str]:
    path = database_path(database_url)
    if not path.exists():
        return []
    try:
        with _connect(path) as conn:
            return sqlite_tables(conn)
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: {exc}") from None


def restore(database_url: str, data: Path, progress: Progress) -> dict[str, int]:
    """Replace the database's content with the backup's; its counts afterwards."""
    path = database_path(database_url)
    try:
        make_private_dir(path.parent)
        with _connect(data) as source, _connect(create_private(path)) as target:
            _copy(source, target, progress, live=False)
            target.execute("PRAGMA journal_mode=WAL")  # the hub's mode (hub.core.db)
            return sqlite_counts(target, lambda _line: None)
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: {exc} (is the hub still running? stop it first)") from None
