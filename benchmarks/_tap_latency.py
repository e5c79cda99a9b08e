"""Tap-to-committed latency through the whole chain, and the MQTT hop alone as its baseline.

Chain: a simulated EM4100 reader behind a pty → ``community edge`` (outbox commit, QoS 1 publish)
→ a private Mosquitto → ``community hub`` (batch, one transaction, commit) → the database. Each tap
is a distinct card, tapped at a steady rate; its clock starts just before the simulator writes the
first frame (``time.time()``; every process runs on this machine, so wall clocks agree).

Milestones per tap, matched to the tap by its card hash (the key is given to the edge; the hub
stores the edge's keyed hash as it comes):

* edge read the frame: the event's ``ts``, stamped by the edge when the first good frame arrived;
* hub received: the check-in's ``received_at``. It is stamped by the hub's MQTT client when the
  message arrives (hub/ingest/link.py), *before* batching and the transaction, so it is a lower
  bound of the commit moment, not the commit moment itself;
* hub committed: when PostgreSQL delivered the NOTIFY that a trigger on the benchmark's own
  database sends for each inserted check-in; PostgreSQL delivers it only once the transaction has
  committed (benchmarks/_commit_log.py). This is the figure the issue asks for;
* edge receipted: when the edge recorded the hub's receipt for the event in its outbox (the loop
  closed: the event may now be forgotten at the edge).

The database must be PostgreSQL (for the notification); the trigger goes on the table as soon as
the hub's own migration has made it, before the first tap.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import paho.mqtt.client as mqtt
import sqlalchemy as sa

from benchmarks import _receipt_path
from benchmarks._commit_log import CommitLog
from benchmarks._mqtt import BenchClient, checkin_message
from benchmarks._programs import (
    BenchmarkError,
    Program,
    bench_card_keys,
    edge_outbox,
    edge_program,
    free_port,
    hub_program,
    poll,
    read_metrics,
)
from benchmarks._services import Account, Accounts, fresh_database, private_broker
from firmware_sim.card_reader import CardReaderSim
from hub.ingest.models import Checkin
from mqtt_contract import topics
from mqtt_contract.credentials import card_hash
from mqtt_contract.models import parse_event
from mqtt_contract.topics import EventKind

SITE = "centre-01"
READER = "reader-1"
HOP_SITE = "bench-hop"
MILESTONES = ("edge read the frame", "hub received", "hub committed", "edge receipted")
COMMITTED = MILESTONES[2]
RECEIPT_PATH_COUNT = 30
RECEIPT_PATH_RATE = 10.0
WARM_UP_TIMEOUT_S = 40.0
COLLECT_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Tap:
    card: str
    card_hash: str
    tapped_at: float
    """Wall-clock time just before the simulator wrote the first frame."""


@dataclass
class LatencyResult:
    taps: int
    rate: float
    matched: int = 0
    """Taps found once in the database with every milestone."""
    extra_rows: int = 0
    """Check-ins beyond one per tapped card (a debounce or duplicate problem)."""
    milestones_ms: dict[str, list[float]] = field(default_factory=dict)
    """Milestone name → milliseconds from the tap, for each matched tap in tap order."""
    hop_ms: list[float] = field(default_factory=list)
    """Baseline: QoS 1 publish → subscriber receive on the same broker, same count and rate."""
    hub_metrics: dict[str, float] = field(default_factory=dict)
    """The hub's own /metrics at the end (batches, commit time)."""
    receipt_path_ms: dict[str, list[float]] = field(default_factory=dict)
    """The receipt path alone (``_receipt_path``), with paho's default socket and TCP_NODELAY."""


def measure(
    workdir: Path,
    *,
    taps: int,
    rate: float,
    hold_s: float = 0.05,
) -> LatencyResult:
    if taps < 1 or rate <= 0 or not 0 < hold_s < 1 / rate:
        raise ValueError("need taps >= 1, rate > 0 and 0 < hold_s < 1/rate")
    card_key = secrets.token_hex(16)
    accounts = Accounts.make([SITE])
    result = LatencyResult(taps=taps, rate=rate)
    workdir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        broker = stack.enter_context(private_broker(workdir / "mosquitto", accounts))
        url = stack.enter_context(fresh_database("postgresql", workdir))
        commits = CommitLog(url)
        sim = stack.enter_context(CardReaderSim(workdir / f"{READER}.tty"))
        edge_dir = workdir / "edge"
        edge_dir.mkdir()
        http_port = free_port()
        hub = hub_program(workdir, url, broker, accounts, card_key=card_key, http_port=http_port)
        edge = edge_program(
            edge_dir, SITE, broker, accounts, card_key=card_key, ports={READER: sim.link}
        )
        for program in (hub, edge):
            program.start()
            stack.callback(program.stop)
        commits.install(hub.check_alive)  # once the hub has migrated; before the first tap
        commits.start()
        stack.callback(commits.close)
        _warm_up(sim, commits, [hub, edge])
        tapped = _tap_steadily(sim, card_key, taps, rate, hold_s)
        _collect(
            result,
            tapped,
            url=url,
            commits=commits,
            outbox=edge_outbox(edge_dir),
            programs=[hub, edge],
        )
        result.hub_metrics = read_metrics(http_port)
        edge.stop()
        hub.stop()
        result.hop_ms = measure_mqtt_hop(broker.url, accounts.bench, taps, rate)
        for label, nodelay in (("paho default", False), ("TCP_NODELAY", True)):
            result.receipt_path_ms[label] = _receipt_path.measure(
                broker.url,
                accounts.bench,
                count=min(taps, RECEIPT_PATH_COUNT),
                rate=RECEIPT_PATH_RATE,
                tcp_nodelay=nodelay,
            )
    return result


def _warm_up(sim: CardReaderSim, commits: CommitLog, programs: list[Program]) -> None:
    """Tap throwaway cards until one is committed: the reader is open, the edge and the hub are
    connected and subscribed. A tap before the edge opened its port is lost on the line."""
    deadline = time.monotonic() + WARM_UP_TIMEOUT_S
    k = 0
    while commits.count() == 0:
        for program in programs:
            program.check_alive()
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {p.name}:\n{p.log_tail(1500)}" for p in programs)
            raise BenchmarkError(f"no warm-up tap was committed:\n{logs}")
        sim.tap(f"FF{k:08X}", hold_s=0.05)
        k += 1
        poll(lambda: commits.count() > 0, 1.0)


def _tap_steadily(
    sim: CardReaderSim, card_key: str, taps: int, rate: float, hold_s: float
) -> list[Tap]:
    key = card_key.encode()
    tapped: list[Tap] = []
    start = time.monotonic() + 0.2
    for i in range(taps):
        _sleep_until(start + i / rate)
        card = f"{i + 1:010X}"
        at = time.time()
        sim.tap(card, hold_s=hold_s)
        tapped.append(Tap(card, card_hash(key, card), at))
    return tapped


@dataclass(frozen=True, slots=True)
class _Row:
    boot: UUID
    seq: int
    device_time: datetime
    received_at: datetime


def _collect(
    result: LatencyResult,
    tapped: list[Tap],
    *,
    url: str,
    commits: CommitLog,
    outbox: Path,
    programs: list[Program],
) -> None:
    """Wait (with a deadline) until every tap is committed and receipted at the edge, then fill in
    the milestones of the taps that made it."""
    engine = sa.create_engine(url)
    rows: dict[str, list[_Row]] = {}
    edge_receipted: dict[tuple[UUID, int], float] = {}

    def complete() -> bool:
        nonlocal rows, edge_receipted
        for program in programs:
            program.check_alive()
        rows = _checkins(engine, [t.card_hash for t in tapped])
        edge_receipted = _edge_receipted(outbox)
        return all(
            (found := rows.get(t.card_hash))
            and commits.committed_at(t.card_hash) is not None
            and (found[0].boot, found[0].seq) in edge_receipted
            for t in tapped
        )

    try:
        poll(complete, COLLECT_TIMEOUT_S, interval=0.25)
    finally:
        engine.dispose()
    series: dict[str, list[float]] = {name: [] for name in MILESTONES}
    for tap in tapped:
        found = rows.get(tap.card_hash, [])
        result.extra_rows += max(0, len(found) - 1)
        if not found:
            continue
        row = found[0]
        committed = commits.committed_at(tap.card_hash)
        receipted = edge_receipted.get((row.boot, row.seq))
        if committed is None or receipted is None:
            continue
        moments = (row.device_time.timestamp(), row.received_at.timestamp(), committed, receipted)
        for name, moment in zip(MILESTONES, moments, strict=True):
            series[name].append((moment - tap.tapped_at) * 1000)
        result.matched += 1
    result.milestones_ms = series


def _checkins(engine: sa.Engine, hashes: list[str]) -> dict[str, list[_Row]]:
    query = sa.select(
        Checkin.card_hash, Checkin.boot, Checkin.seq, Checkin.device_time, Checkin.received_at
    ).where(Checkin.site_id == SITE, Checkin.card_hash.in_(hashes))
    found: dict[str, list[_Row]] = {}
    with engine.connect() as conn:
        for digest, boot, seq, device_time, received_at in conn.execute(query):
            found.setdefault(digest, []).append(_Row(boot, seq, device_time, received_at))
    return found


def _edge_receipted(outbox: Path) -> dict[tuple[UUID, int], float]:
    """(boot, seq) → when the edge recorded the hub's receipt (the outbox keeps receipted rows)."""
    db = sqlite3.connect(f"file:{outbox}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT boot, seq, receipted_at FROM outbox WHERE receipted_at IS NOT NULL"
        ).fetchall()
    finally:
        db.close()
    return {(UUID(boot), int(seq)): float(at) for boot, seq, at in rows}


def measure_mqtt_hop(broker_url: str, account: Account, count: int, rate: float) -> list[float]:
    """Milliseconds from a QoS 1 ``publish()`` to the subscriber's ``on_message``, for ``count``
    check-in payloads at ``rate`` a second: what the broker and paho cost on their own."""
    arrivals: list[tuple[float, bytes]] = []
    all_in = threading.Event()

    def on_message(_c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        arrivals.append((time.time(), bytes(message.payload)))
        if len(arrivals) >= count:
            all_in.set()

    topic = topics.event(HOP_SITE, READER, EventKind.CHECKIN)
    boot = uuid.uuid4()
    seal = bench_card_keys(secrets.token_hex(16)).seal  # payloads the size of a real tap's
    payloads = [
        checkin_message(HOP_SITE, READER, boot, seq, seal(f"{seq:010X}"))[1] for seq in range(count)
    ]
    subscriber = BenchClient(broker_url, account, "bench-hop-sub", on_message=on_message)
    publisher = BenchClient(broker_url, account, "bench-hop-pub")
    sent_at: list[float] = []
    try:
        subscriber.connect()
        subscriber.subscribe([topic])
        publisher.connect()
        start = time.monotonic() + 0.2
        for seq, payload in enumerate(payloads):
            _sleep_until(start + seq / rate)
            sent_at.append(time.time())
            publisher.client.publish(topic, payload, qos=1)
        if not all_in.wait(COLLECT_TIMEOUT_S):
            raise BenchmarkError(f"the hop baseline got {len(arrivals)} of {count} messages")
    finally:
        publisher.close()
        subscriber.close()
    return [(at - sent_at[parse_event(p).seq]) * 1000 for at, p in arrivals]


def _sleep_until(deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
