"""Commands to edges, end to end: the hub's dispatcher on a real Mosquitto, a real edge agent with
a card reader behind a pty, the hub's ingest recording what the edge reports."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from demo.broker.mosquitto import MosquittoBroker
from edge.agent import EdgeAgent
from edge.config import EdgeSettings
from edge.config_override import override_beside
from firmware_sim.card_reader import CardReaderSim
from hub.commands.dispatcher import MAX_REPLY_BYTES, CommandDispatcher
from hub.commands.models import EdgeCommand
from hub.commands.service import CommandError, create_command
from hub.composition import HubIngest
from hub.core.settings import HubSettings
from hub.ingest.models import Site
from hub.metrics import CommandMetrics, HubMetrics
from mqtt_contract import topics
from mqtt_contract.commands import CommandReply, Operation, Outcome
from tests.hub.support import CARD_KEYS, EdgeClient, StartWorker, wait_until
from tests.services import ACCOUNTS

SITE = "centre-01"
SLOW = 3600.0  # a heartbeat interval that shows no second beat within a test


class Box:
    """``community edge`` at a centre: an agent with a simulated reader behind a pty."""

    def __init__(self, workdir: Path, broker: MosquittoBroker) -> None:
        self.link = workdir / "reader-1.tty"
        self.outbox = workdir / "outbox.db"
        workdir.mkdir(parents=True, exist_ok=True)
        self.sim = CardReaderSim(self.link)
        self.settings = EdgeSettings(
            site=SITE,
            outbox_path=self.outbox,
            site_card_key=CARD_KEYS.site_key(SITE),
            hub_card_public_key=CARD_KEYS.public_key,
            heartbeat_interval_s=SLOW,
            mqtt={"url": broker.url, "password": ACCOUNTS.edge(SITE)[1]},
            devices=[{"id": "reader-1", "port": str(self.link)}],
        )
        self.agent: EdgeAgent | None = None

    def start(self) -> EdgeAgent:
        agent = EdgeAgent(self.settings)  # takes what earlier commands kept beside the outbox
        agent.start()
        wait_until(lambda: agent.publisher.connected, what="the edge to connect")
        wait_until(lambda: agent.readers[0].health().state == "ok", what="the reader to open")
        self.agent = agent
        return agent

    def stop(self) -> None:
        if self.agent is not None:
            self.agent.stop()
            self.agent = None

    def events(self) -> int:
        with closing(sqlite3.connect(self.outbox)) as conn:
            (n,) = conn.execute("SELECT count(*) FROM outbox").fetchone()
        return int(n)

    def tap(self, card: str) -> None:
        before = self.events()
        self.sim.tap(card, hold_s=0.2)
        wait_until(lambda: self.events() > before, what=f"the tap of {card}")

    def close(self) -> None:
        self.stop()
        self.sim.close()


@pytest.fixture
def box(tmp_path: Path, mosquitto: MosquittoBroker) -> Iterator[Box]:
    handle = Box(tmp_path / "edge", mosquitto)
    yield handle
    handle.close()


@pytest.fixture
def metrics() -> CommandMetrics:
    return CommandMetrics(HubMetrics().registry)


@pytest.fixture
def dispatcher(hub_settings: HubSettings, metrics: CommandMetrics) -> Iterator[CommandDispatcher]:
    handle = CommandDispatcher(hub_settings, metrics, interval_s=0.1)
    handle.start()
    assert handle.wait_ready(10), "the dispatcher did not connect and subscribe"
    yield handle
    handle.stop()


@pytest.fixture
def hub(start_worker: StartWorker) -> HubIngest:
    return start_worker()


def send(engine: Engine, op: Operation, args: dict[str, Any] | None = None, **kw: Any) -> uuid.UUID:
    with Session(engine) as session:
        command = create_command(session, site=kw.pop("site", SITE), op=op, args=args or {}, **kw)
        session.commit()
        return command.id


def command(engine: Engine, command_id: uuid.UUID) -> EdgeCommand:
    with Session(engine, expire_on_commit=False) as session:
        found = session.get(EdgeCommand, command_id)
        assert found is not None
        return found


def finished(engine: Engine, command_id: uuid.UUID) -> Callable[[], bool]:
    return lambda: command(engine, command_id).state in {"done", "failed", "expired"}


def heartbeat_at(engine: Engine) -> datetime | None:
    with Session(engine) as session:
        value = session.scalar(select(Site.heartbeat_at).where(Site.id == SITE))
    return None if value is None else value.replace(tzinfo=value.tzinfo or UTC)


def test_ping_round_trip(engine: Engine, dispatcher: CommandDispatcher, box: Box) -> None:
    agent = box.start()
    command_id = send(engine, Operation.PING)
    wait_until(finished(engine, command_id), what="the ping's answer")
    done = command(engine, command_id)
    assert done.state == "done", done.reason
    assert done.result is not None
    assert done.result["boot"] == str(agent.boot)
    assert done.result["heartbeat_interval_s"] == SLOW
    assert done.attempts == 1
    assert done.sent_at is not None
    assert done.finished_at is not None
    alert = send(engine, Operation.ALERT, {"state": "raised", "occupancy": 19, "capacity": 20})
    wait_until(finished(engine, alert), what="the alert's answer")
    refused = command(engine, alert)
    assert (refused.state, refused.reason) == ("failed", "this site has no sign")


def test_a_config_command_changes_the_heartbeat_seen_at_the_hub(
    engine: Engine, hub: HubIngest, dispatcher: CommandDispatcher, box: Box
) -> None:
    agent = box.start()
    wait_until(lambda: heartbeat_at(engine) is not None, what="the first heartbeat at the hub")
    box.tap("0A1B2C3D4E")
    command_id = send(engine, Operation.CONFIG, {"heartbeat_interval_s": 0.2})
    wait_until(finished(engine, command_id), what="the config's answer")
    done = command(engine, command_id)
    assert done.state == "done", done.reason
    applied_at = datetime.now(UTC)
    # at the old interval no second beat would come for an hour
    wait_until(
        lambda: (
            (beat := heartbeat_at(engine)) is not None and beat > applied_at + timedelta(seconds=1)
        ),
        what="heartbeats at the new interval",
    )
    assert box.agent is agent
    assert agent.settings.heartbeat_interval_s == 0.2
    assert agent.outbox.stats().total >= 1, "the outbox carried over"
    kept = json.loads(override_beside(box.outbox).read_text())
    assert kept == {"heartbeat_interval_s": 0.2}
    # ... and it survives `community edge` starting again
    box.stop()
    again = box.start()
    assert again.settings.heartbeat_interval_s == 0.2
    assert box.settings.heartbeat_interval_s == SLOW, "the config file is left as written"


def test_a_malformed_config_is_refused_and_the_edge_keeps_running(
    engine: Engine, hub: HubIngest, dispatcher: CommandDispatcher, box: Box
) -> None:
    agent = box.start()
    publisher = agent.publisher
    bad = send(engine, Operation.CONFIG, {"heartbeat_interval_s": -5})
    wait_until(finished(engine, bad), what="the refusal")
    refused = command(engine, bad)
    assert refused.state == "failed"
    assert refused.reason is not None
    assert "heartbeat_interval_s" in refused.reason
    assert "greater than 0" in refused.reason
    # a config a box must not take from afar: refused at the edge too (the hub checks keys, so
    # this one is sent as the hub would only if its check were skipped)
    clash = send(engine, Operation.CONFIG, {"devices": [{"id": "reader-1", "port": "/dev/a"}] * 2})
    wait_until(finished(engine, clash), what="the second refusal")
    assert "device ids must be unique" in (command(engine, clash).reason or "")
    assert agent.publisher is publisher, "nothing was restarted"
    assert agent.settings.heartbeat_interval_s == SLOW
    assert not override_beside(box.outbox).exists()
    box.tap("0A1B2C3D4E")  # still reading, still delivering
    wait_until(lambda: agent.outbox.stats().pending == 0, what="the tap to be receipted")


def test_the_hub_refuses_what_no_edge_should_take(engine: Engine) -> None:
    for op, args in [
        (Operation.CONFIG, {"site": "centre-02"}),
        (Operation.CONFIG, {"mqtt": {"password": "x"}}),
        (Operation.CONFIG, {}),
        (Operation.PING, {"x": 1}),
        (Operation.ALERT, {"state": "on"}),
    ]:
        with pytest.raises(CommandError, match="args"):
            send(engine, op, args)
    with pytest.raises(CommandError, match="deadline_s"):
        send(engine, Operation.PING, deadline_s=8 * 86_400)


def test_a_command_for_an_offline_edge_goes_when_it_returns(
    engine: Engine, hub: HubIngest, dispatcher: CommandDispatcher, box: Box
) -> None:
    box.start()
    box.stop()  # away, with its persistent session
    command_id = send(engine, Operation.PING)
    wait_until(lambda: command(engine, command_id).state == "sent", what="the broker to take it")
    agent = box.start()
    wait_until(finished(engine, command_id), what="the answer after the return")
    done = command(engine, command_id)
    assert done.state == "done"
    assert done.result is not None
    assert done.result["boot"] == str(agent.boot)


def test_a_command_for_an_edge_away_past_the_deadline_expires(
    engine: Engine, dispatcher: CommandDispatcher, metrics: CommandMetrics, box: Box
) -> None:
    box.start()
    box.stop()
    command_id = send(engine, Operation.PING, deadline_s=5)
    wait_until(finished(engine, command_id), timeout=15, what="the deadline")
    expired = command(engine, command_id)
    assert expired.state == "expired"
    assert expired.reason == "no answer by the deadline"
    assert metrics.expired._value.get() == 1
    agent = box.start()  # the broker delivers it now: the edge answers `expired`, acts not
    wait_until(lambda: agent.commands.expired_answers >= 1, what="the edge to see it late")
    assert agent.commands.acted == 0
    wait_until(
        lambda: metrics.replies.labels("late")._value.get() >= 1,
        what="the late answer to be ignored",
    )
    assert command(engine, command_id).state == "expired", "a final state stays"


def test_a_redelivered_request_is_answered_again_not_acted_on_twice(
    engine: Engine, dispatcher: CommandDispatcher, box: Box
) -> None:
    agent = box.start()
    first = agent.publisher
    command_id = send(engine, Operation.RESTART)
    wait_until(finished(engine, command_id), what="the restart's answer")
    assert command(engine, command_id).state == "done"
    wait_until(
        lambda: agent.publisher is not first and agent.publisher.connected,
        what="the edge to reconnect after restarting",
    )
    assert agent.commands.acted == 1
    restarted = agent.publisher
    # as if the answer had been lost: the hub sends the same request again after its backoff
    with Session(engine) as session:
        session.execute(
            update(EdgeCommand)
            .where(EdgeCommand.id == command_id)
            .values(state="sent", sent_at=datetime.now(UTC) - timedelta(hours=2), reason=None)
        )
        session.commit()
    wait_until(lambda: command(engine, command_id).attempts == 2, what="the resend")
    wait_until(finished(engine, command_id), what="the answer from the journal")
    assert command(engine, command_id).state == "done"
    assert agent.commands.repeats == 1
    assert agent.commands.acted == 1, "not restarted twice"
    assert agent.publisher is restarted


def test_hostile_replies_change_nothing(
    engine: Engine,
    dispatcher: CommandDispatcher,
    metrics: CommandMetrics,
    edge: Callable[..., EdgeClient],
) -> None:
    mine = send(engine, Operation.PING)
    theirs = edge("centre-02")
    wait_until(lambda: command(engine, mine).state == "sent", what="the command to go out")

    def reply(command_id: uuid.UUID, site: str = SITE) -> bytes:
        return CommandReply(
            site=site, id=command_id, outcome=Outcome.DONE, ts=datetime.now(UTC)
        ).to_bytes()

    # another edge answers for centre-01's command: on its own topic (the only one it may write)
    theirs.publish(topics.reply("centre-02"), reply(mine, "centre-02"))
    wait_until(lambda: metrics.replies.labels("wrong_site")._value.get() >= 1, what="wrong site")
    theirs.publish(topics.reply("centre-02"), reply(uuid.uuid4(), "centre-02"))
    wait_until(lambda: metrics.replies.labels("unknown")._value.get() >= 1, what="unknown id")
    theirs.publish(topics.reply("centre-02"), b"{" + b" " * (MAX_REPLY_BYTES + 1) + b"}")
    wait_until(lambda: metrics.replies.labels("oversized")._value.get() >= 1, what="oversized")
    theirs.publish(topics.reply("centre-02"), b"not json")
    wait_until(lambda: metrics.replies.labels("malformed")._value.get() >= 1, what="malformed")
    assert command(engine, mine).state == "sent", "still waiting for centre-01's answer"
    assert metrics.replies.labels("recorded")._value.get() == 0
