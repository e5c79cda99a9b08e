"""When PostgreSQL committed each check-in, seen from outside the hub.

The benchmark adds a trigger to its own throwaway database: every inserted check-in sends
``NOTIFY`` with its card hash. PostgreSQL delivers a notification only once the transaction that
sent it has committed, so its arrival here is the commit moment plus one local socket hop. The
hub's code is untouched; the trigger costs the hub's transaction one queued notification per row.
psycopg stays in here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
import sqlalchemy as sa

from benchmarks._programs import BenchmarkError

CHANNEL = "bench_checkin_committed"

_INSTALL = f"""
CREATE FUNCTION bench_notify_checkin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', NEW.card_hash);
    RETURN NULL;
END $$;
CREATE TRIGGER bench_notify_checkin AFTER INSERT ON checkins
    FOR EACH ROW EXECUTE FUNCTION bench_notify_checkin();
"""


class CommitLog:
    def __init__(self, database_url: str) -> None:
        url = sa.make_url(database_url)
        if url.get_backend_name() != "postgresql":
            raise ValueError("commit times come from PostgreSQL notifications")
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._lock = threading.Lock()
        self._committed: dict[str, float] = {}
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="commit-log", daemon=True)
        self._error: BaseException | None = None

    def install(self, check: Callable[[], object], timeout: float = 30.0) -> None:
        """Add the trigger as soon as the hub's migration has made the check-ins table (the
        migration is one transaction: once the table shows, the schema is complete). ``check``
        runs while waiting and raises if the hub is gone."""
        deadline = time.monotonic() + timeout
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            while conn.execute("SELECT to_regclass('checkins')").fetchone() == (None,):
                check()
                if time.monotonic() > deadline:
                    raise BenchmarkError(f"the hub made no checkins table within {timeout:.0f} s")
                time.sleep(0.05)
            conn.execute(_INSTALL)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        if not self._listening.wait(timeout):
            raise BenchmarkError(f"could not LISTEN on {CHANNEL}: {self._error!r}")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def count(self) -> int:
        with self._lock:
            return len(self._committed)

    def committed_at(self, card_hash: str) -> float | None:
        """Wall-clock time the first check-in with this card hash was seen committed."""
        with self._lock:
            return self._committed.get(card_hash)

    def _listen(self) -> None:
        try:
            with psycopg.connect(self._conninfo, autocommit=True) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                self._listening.set()
                while not self._stop.is_set():
                    for note in conn.notifies(timeout=0.2):
                        now = time.time()
                        with self._lock:
                            self._committed.setdefault(note.payload, now)
        except psycopg.Error as exc:
            self._error = exc
