"""What ingest calls out to, as small protocols: ingest knows these shapes and nothing of who
implements them (records, venues, telemetry, the live stream). The composition root
(``hub.composition``) registers the implementations.

Three moments of one batch:

- in its transaction (:class:`TransactionHook`): what must commit with the events or not at all;
- after its commit and before its acknowledgement (:class:`BeforeAck`): what must be derived
  before the broker may forget the messages (a hub killed in between gets them again);
- after the acknowledgement (:class:`CommitListener`): what only needs telling.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import Connection

from hub.ingest.events import EventRecord, Record, WriteResult


class TransactionHook(Protocol):
    def __call__(self, conn: Connection, new_events: Sequence[EventRecord]) -> None:
        """Runs inside the batch's transaction with the events recorded for the first time. An
        exception rolls the batch back: ``hub.core.db_errors.StoreUnavailableError`` (or a
        database error that means the same) retries it, anything else dead-letters its messages
        one by one like a write the database refused."""


class BeforeAck(Protocol):
    def after_commit(self, records: Sequence[Record]) -> None:
        """Runs on the ingest thread after the commit, before the ack; must be idempotent (a
        redelivered batch comes again). Raising ``StoreUnavailableError`` retries it with
        backoff and holds the ack; anything else is its own to log."""


class CommitListener(Protocol):
    def __call__(self, records: Sequence[Record], result: WriteResult) -> None:
        """Told of every committed batch after its ack and receipts, on the ingest thread: must
        return quickly and never block. An exception is logged and ingest goes on."""


class Service(Protocol):
    """Something that runs beside the worker: started before it takes messages, stopped after
    its last batch and before its broker connection closes."""

    def start(self) -> None: ...

    def stop(self) -> None: ...
