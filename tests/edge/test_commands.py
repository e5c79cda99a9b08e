"""The edge's side of commands without a broker: the journal, the config changes it may take and
keep, and the runner's answers (the whole path over Mosquitto: tests/hub/test_commands.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge.commands import (
    JOURNAL_KEEP,
    MAX_REQUEST_BYTES,
    Answer,
    CommandJournal,
    CommandRunner,
    journal_beside,
)
from edge.config import ConfigError, EdgeSettings
from edge.config_override import changed, keep, override_beside, with_override
from mqtt_contract.commands import CommandReply, CommandRequest, Operation, reply_of
from tests.hub.support import CARD_KEYS, wait_until

SITE = "centre-01"


def settings(tmp_path: Path) -> EdgeSettings:
    return EdgeSettings(
        site=SITE,
        mode="demo",
        outbox_path=tmp_path / "outbox.db",
        site_card_key=CARD_KEYS.site_key(SITE),
        hub_card_public_key=CARD_KEYS.public_key,
        devices=[{"id": "reader-1", "port": "/dev/ttyUSB0"}],
    )


def test_the_journal_is_bounded(tmp_path: Path) -> None:
    journal = CommandJournal(journal_beside(tmp_path / "outbox.db"))
    ids = [uuid.uuid4() for _ in range(JOURNAL_KEEP + 5)]
    for command_id in ids:
        journal.record(command_id, b"{}")
    assert journal.count() == JOURNAL_KEEP
    assert journal.answered(ids[-1]) == b"{}"
    journal.close()


@pytest.mark.parametrize(
    "key", ["site", "site_card_key", "hub_card_public_key", "mqtt", "outbox_path", "mode"]
)
def test_config_never_changes_the_site_its_secrets_or_its_account(tmp_path: Path, key: str) -> None:
    with pytest.raises(ConfigError, match=f"{key} cannot be changed by a command"):
        changed(settings(tmp_path), {key: "x"})


def test_kept_changes_are_laid_over_the_file_at_start(tmp_path: Path) -> None:
    base = settings(tmp_path)
    keep(base, {"heartbeat_interval_s": 2.5})
    keep(base, {"devices": [{"id": "reader-2", "port": "/dev/ttyUSB1"}]})
    again = with_override(base)
    assert again.heartbeat_interval_s == 2.5
    assert [d.id for d in again.devices] == ["reader-2"]
    assert again.site_card_key == base.site_card_key
    assert override_beside(base.outbox_path).stat().st_mode & 0o077 == 0, "private"
    override_beside(base.outbox_path).write_text("[1, 2]")
    with pytest.raises(ConfigError, match=r"outbox\.config\.json"):
        with_override(base)


def _request(op: Operation, deadline: timedelta = timedelta(minutes=5), **args: Any) -> bytes:
    now = datetime.now(UTC)
    return CommandRequest(
        site=SITE, id=uuid.uuid4(), op=op, args=args, issued_at=now, deadline=now + deadline
    ).to_bytes()


def test_the_runner_answers_refuses_and_expires(tmp_path: Path) -> None:
    replies: list[CommandReply] = []
    journal = CommandJournal(tmp_path / "journal.db")
    runner = CommandRunner(
        SITE,
        journal,
        {Operation.PING: lambda _args: Answer({"pong": True})},
        lambda payload: replies.append(reply_of(payload)) is None,
    )
    runner.start()
    runner.offer(_request(Operation.PING))
    runner.offer(_request(Operation.ALERT, state="raised"))  # no handler: refused
    runner.offer(_request(Operation.PING, deadline=timedelta(seconds=-1)))
    runner.offer(b"x" * (MAX_REQUEST_BYTES + 1))  # dropped unread
    runner.offer(b"not json")
    wait_until(lambda: len(replies) == 3, what="three answers")
    runner.stop()
    journal.close()
    assert [(r.outcome, r.reason, r.result) for r in replies] == [
        ("done", None, {"pong": True}),
        ("failed", "operation alert not supported", {}),
        ("failed", "expired", {}),
    ]
    assert runner.acted == 1
    assert runner.expired_answers == 1
