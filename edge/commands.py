"""Command requests from the hub (``mqtt_contract.commands``): answered once, in order, off paho's
thread.

paho hands each request's bytes to :meth:`CommandRunner.offer`, which only queues them; the
runner's own thread parses, acts and answers. Every answer is written to the journal (SQLite beside
the outbox) before it is published, so a request seen again (the broker redelivers, the hub resends
to an edge that came back) is answered with the same reply and not acted on twice. A request past
its deadline is answered ``failed`` (``expired``) without acting.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from pydantic import JsonValue, ValidationError

from edge.outbox import OutboxError
from edge.private_files import create_private, make_private_dir
from mqtt_contract.commands import (
    MAX_ARGS_BYTES,
    CommandReply,
    CommandRequest,
    Operation,
    Outcome,
    request_of,
)

log = logging.getLogger(__name__)

QUEUE_SIZE = 100
"""Requests waiting for the runner; more are dropped (logged): the hub sends unanswered ones
again."""
MAX_REQUEST_BYTES = 4 * MAX_ARGS_BYTES
JOURNAL_KEEP = 1_000
"""Answers remembered, newest first; older ones are pruned with those past ``JOURNAL_KEEP_S``."""
JOURNAL_KEEP_S = 8 * 86_400.0
"""Longer than the longest deadline (7 days): a redelivery after that is answered ``expired``."""

Args = dict[str, JsonValue]


class CommandRefusedError(Exception):
    """The operation is refused; the message is the reason the hub records."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A handler's success: ``result`` for the reply, ``then`` to run after the reply is out (a
    restart must not cut its own answer off)."""

    result: Args = field(default_factory=dict)
    then: Callable[[], object] | None = None


Handler = Callable[[Args], Answer]


class CommandJournal:
    """Command id → the reply sent, in SQLite; thread-safe, bounded."""

    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS answered ("
        "id TEXT PRIMARY KEY, reply BLOB NOT NULL, answered_at REAL NOT NULL)"
    )

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        try:
            create_private(make_private_dir(path.parent) / path.name)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(self._SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise OutboxError(f"cannot open the command journal {path}: {exc}") from exc

    def answered(self, command_id: UUID) -> bytes | None:
        with self._lock:
            row = self._db.execute(
                "SELECT reply FROM answered WHERE id = ?", (str(command_id),)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def record(self, command_id: UUID, reply: bytes) -> None:
        now = time.time()
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO answered (id, reply, answered_at) VALUES (?, ?, ?)",
                (str(command_id), reply, now),
            )
            self._db.execute(
                "DELETE FROM answered WHERE answered_at < ? OR id NOT IN "
                "(SELECT id FROM answered ORDER BY answered_at DESC LIMIT ?)",
                (now - JOURNAL_KEEP_S, JOURNAL_KEEP),
            )

    def count(self) -> int:
        with self._lock:
            (n,) = self._db.execute("SELECT count(*) FROM answered").fetchone()
        return int(n)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def journal_beside(outbox_path: Path) -> Path:
    """Where an agent remembers its answers: next to its outbox (``outbox.commands.db``)."""
    return outbox_path.with_name(f"{outbox_path.stem}.commands.db")


class CommandRunner:
    def __init__(
        self,
        site: str,
        journal: CommandJournal,
        handlers: Mapping[Operation, Handler],
        publish_reply: Callable[[bytes], bool],
    ) -> None:
        self._site = site
        self._journal = journal
        self._handlers = handlers
        self._publish_reply = publish_reply
        self._queue: queue.Queue[bytes | None] = queue.Queue(QUEUE_SIZE)
        self._thread = threading.Thread(target=self._run, name=f"commands-{site}", daemon=True)
        # for health and tests: requests acted on, answered again from the journal, too late
        self.acted = 0
        self.repeats = 0
        self.expired_answers = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            log.warning("command runner of %s is busy; leaving it", self._site)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def offer(self, payload: bytes) -> None:
        """From paho's thread: queue a request's bytes, never block, never raise."""
        if len(payload) > MAX_REQUEST_BYTES:
            log.warning("ignoring a command request of %d bytes", len(payload))
            return
        try:
            self._queue.put_nowait(payload)
        except queue.Full:
            log.warning("command queue full: a request is dropped (the hub sends it again)")

    def _run(self) -> None:
        while (payload := self._queue.get()) is not None:
            try:
                self._handle(payload)
            except Exception:
                log.exception("command request not handled")

    def _handle(self, payload: bytes) -> None:
        try:
            request = request_of(payload)
        except ValidationError as exc:
            log.warning("ignoring a malformed command request: %s", _first_error(exc))
            return
        if request.site != self._site:
            log.warning("ignoring command %s addressed to site %s", request.id, request.site)
            return
        sent = self._journal.answered(request.id)
        if sent is not None:
            log.info(
                "command %s (%s) was answered before: same answer again", request.id, request.op
            )
            self.repeats += 1
            self._publish_reply(sent)
            return
        then = None
        if request.deadline <= datetime.now(UTC):
            reply = _reply(self._site, request, Outcome.FAILED, "expired")
            self.expired_answers += 1
        else:
            reply, then = self._act(request)
        data = reply.to_bytes()
        self._journal.record(request.id, data)
        log.info(
            "command %s (%s): %s%s",
            request.id,
            request.op,
            reply.outcome,
            f" ({reply.reason})" if reply.reason else "",
        )
        self._publish_reply(data)
        if then is not None:
            then()

    def _act(self, request: CommandRequest) -> tuple[CommandReply, Callable[[], object] | None]:
        handler = self._handlers.get(request.op)
        if handler is None:
            return _reply(
                self._site, request, Outcome.FAILED, f"operation {request.op} not supported"
            ), None
        self.acted += 1
        try:
            answer = handler(request.args)
        except CommandRefusedError as exc:
            return _reply(self._site, request, Outcome.FAILED, str(exc) or "refused"), None
        except Exception as exc:
            log.exception("command %s (%s) failed", request.id, request.op)
            return _reply(self._site, request, Outcome.FAILED, f"error: {exc}"), None
        try:
            return _reply(self._site, request, Outcome.DONE, result=answer.result), answer.then
        except ValidationError as exc:  # a result too large for the contract
            return _reply(
                self._site, request, Outcome.FAILED, f"result refused: {_first_error(exc)}"
            ), None


def _reply(
    site: str,
    request: CommandRequest,
    outcome: Outcome,
    reason: str | None = None,
    result: Args | None = None,
) -> CommandReply:
    return CommandReply(
        site=site,
        id=request.id,
        outcome=outcome,
        reason=None if reason is None else reason[:500],
        result=result or {},
        ts=datetime.now(UTC),
    )


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
