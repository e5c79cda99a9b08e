"""The durable outbox: every event is committed here before anything tries to send it.

SQLite in WAL mode with ``synchronous=FULL``, so a committed event survives power loss. An event
leaves the pending set only when the hub's receipt for it arrives (a broker's PUBACK is not enough);
receipted rows are kept for ``retention_s`` as a local journal and then purged.

The sequence counter lives in the same database and is advanced in the same transaction as the
insert, so sequence numbers are monotonic for the site across restarts and never reused.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from edge.private_files import create_private, make_private_dir

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('seq', 0);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    boot TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at REAL NOT NULL,
    sent_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    receipted_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (seq) WHERE receipted_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_receipted ON outbox (receipted_at) WHERE receipted_at IS NOT NULL;
"""


class OutboxError(Exception):
    """The outbox database could not be used (disk full, file unreadable, ...)."""


@dataclass(frozen=True, slots=True)
class PendingEvent:
    seq: int
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class OutboxStats:
    pending: int
    oldest_pending_age_s: float | None
    total: int


class Outbox:
    """Thread-safe: the reader threads append, the publisher thread drains."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        try:
            # card hashes: private before SQLite writes a byte (its -wal and -shm take this mode)
            create_private(make_private_dir(path.parent) / path.name)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise OutboxError(f"cannot open outbox {path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def append(self, boot: UUID, build: Callable[[int], tuple[str, bytes]]) -> int:
        """Allocate the next sequence number, build (topic, payload) for it, commit; return seq."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    (seq,) = self._db.execute(
                        "UPDATE meta SET value = value + 1 WHERE key = 'seq' RETURNING value"
                    ).fetchone()
                    topic, payload = build(seq)
                    self._db.execute(
                        "INSERT INTO outbox (seq, boot, topic, payload, created_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (seq, str(boot), topic, payload, time.time()),
                    )
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise OutboxError(f"cannot append to outbox: {exc}") from exc
        return int(seq)

    def due(
        self, limit: int, resend_after_s: float, exclude: Iterable[int] = ()
    ) -> list[PendingEvent]:
        """Pending events never sent, or sent longer than ``resend_after_s`` ago, oldest first."""
        cutoff = time.time() - resend_after_s
        skip = set(exclude)
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, payload FROM outbox WHERE receipted_at IS NULL "
                "AND (sent_at IS NULL OR sent_at < ?) ORDER BY seq LIMIT ?",
                (cutoff, limit + len(skip)),
            ).fetchall()
        return [PendingEvent(s, t, bytes(p)) for s, t, p in rows if s not in skip][:limit]

    def mark_sent(self, seqs: Iterable[int]) -> None:
        now = time.time()
        with self._lock:
            self._db.executemany(
                "UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE seq = ?",
                [(now, s) for s in seqs],
            )

    def mark_unsent(self) -> None:
        """After a (re)connect: everything pending goes out again now instead of at its timeout."""
        with self._lock:
            self._db.execute("UPDATE outbox SET sent_at = NULL WHERE receipted_at IS NULL")

    def receipt(self, ranges: Iterable[tuple[UUID, int, int]]) -> int:
        """Mark receipted the events in the inclusive (boot, first, last) ranges; return how many."""
        now = time.time()
        changed = 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            for boot, first, last in ranges:
                cur = self._db.execute(
                    "UPDATE outbox SET receipted_at = ? WHERE seq BETWEEN ? AND ? AND boot = ? "
                    "AND receipted_at IS NULL",
                    (now, first, last, str(boot)),
                )
                changed += cur.rowcount
            self._db.execute("COMMIT")
        return changed

    def purge(self, retention_s: float) -> int:
        """Delete receipted events older than ``retention_s``."""
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM outbox WHERE receipted_at IS NOT NULL AND receipted_at < ?",
                (time.time() - retention_s,),
            )
        return cur.rowcount

    def stats(self) -> OutboxStats:
        with self._lock:
            pending, oldest = self._db.execute(
                "SELECT count(*), min(created_at) FROM outbox WHERE receipted_at IS NULL"
            ).fetchone()
            (total,) = self._db.execute("SELECT count(*) FROM outbox").fetchone()
        age = None if oldest is None else max(0.0, time.time() - oldest)
        return OutboxStats(pending=pending, oldest_pending_age_s=age, total=total)
