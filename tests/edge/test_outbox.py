from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from edge.outbox import Outbox

BOOT = uuid.uuid4()


def append(outbox: Outbox, n: int, boot: uuid.UUID = BOOT) -> list[int]:
    return [outbox.append(boot, lambda seq: ("t", f"event {seq}".encode())) for _ in range(n)]


def test_sequence_survives_restart_and_purge(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    outbox = Outbox(path)
    assert append(outbox, 3) == [1, 2, 3]
    outbox.receipt([(BOOT, 1, 3)])
    outbox.purge(retention_s=0)
    outbox.close()
    reopened = Outbox(path)
    assert append(reopened, 1, boot=uuid.uuid4()) == [4]
    reopened.close()


def test_builder_sees_its_sequence_number(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    seq = outbox.append(BOOT, lambda s: (f"topic/{s}", str(s).encode()))
    [event] = outbox.due(10, resend_after_s=30)
    assert (event.seq, event.topic, event.payload) == (seq, f"topic/{seq}", str(seq).encode())
    outbox.close()


def test_failed_build_commits_nothing(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")

    def broken(seq: int) -> tuple[str, bytes]:
        raise ValueError("bad event")

    with pytest.raises(ValueError, match="bad event"):
        outbox.append(BOOT, broken)
    assert outbox.stats().pending == 0
    assert append(outbox, 1) == [1]  # the failed attempt did not use up a sequence number
    outbox.close()


def test_only_receipts_release_events(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    append(outbox, 5)
    outbox.mark_sent([1, 2, 3, 4, 5])
    assert outbox.due(10, resend_after_s=30) == []  # sent, not yet due again
    assert outbox.stats().pending == 5  # a PUBACK is not a receipt
    assert outbox.receipt([(BOOT, 2, 3)]) == 2
    assert outbox.receipt([(uuid.uuid4(), 1, 5)]) == 0  # another boot's range names nothing here
    assert [e.seq for e in outbox.due(10, resend_after_s=0)] == [1, 4, 5]
    assert outbox.stats().pending == 3
    outbox.close()


def test_reconnect_resends_everything_pending(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    append(outbox, 3)
    outbox.mark_sent([1, 2, 3])
    outbox.mark_unsent()
    assert [e.seq for e in outbox.due(10, resend_after_s=3600)] == [1, 2, 3]
    assert [e.seq for e in outbox.due(10, resend_after_s=3600, exclude=[1])] == [2, 3]
    outbox.close()


def test_committed_rows_are_durable_settings(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    outbox = Outbox(path)
    append(outbox, 1)
    outbox.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
