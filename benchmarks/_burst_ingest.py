"""Hub ingest rate for a burst of queued check-ins, and a bare MQTT drain as its baseline.

The situation: the hub was down while edges kept publishing. Its persistent session (registered
by running ``community hub`` once) and the baseline's session hold the same queued check-ins, each
published at QoS 1 by an edge account. Then:

* baseline: a bare paho MQTT 5 subscriber with manual acknowledgement and the hub's receive
  window drains its copy, acknowledging each message as it comes, with no database: the ceiling
  that the broker and a paho client set on this machine;
* the hub starts (``community hub``) and ingests its copy; the benchmark polls ``SELECT count(*)``
  and times the first committed rows to the last. The rate counts the rows committed after the
  first commit seen, over that time.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import sqlalchemy as sa

from benchmarks._mqtt import BenchClient, checkin_message
from benchmarks._programs import (
    BenchmarkError,
    Program,
    bench_card_keys,
    free_port,
    hub_program,
    read_metrics,
    wait_for,
)
from benchmarks._services import Account, Accounts, DatabaseKind, fresh_database, private_broker
from demo.broker.mosquitto import MosquittoBroker
from hub.core.settings import HubSettings
from hub.ingest.models import Checkin
from mqtt_contract import topics

SITES = ("centre-01", "centre-02")
PROBE_SITE = "bench-probe"
READER = "reader-1"
DRAIN_CLIENT_ID = "bench-drain"
RECEIVE_MAXIMUM: int = HubSettings.model_fields["receive_maximum"].default
POLL_S = 0.01
INGEST_TIMEOUT_S = 90.0
CARD_KEY = secrets.token_hex(16)


@dataclass(frozen=True)
class Rate:
    events: int
    span_s: float
    """From the first commit (or message) seen to the last."""
    per_s: float
    """Events after the first commit (or message) seen, divided by ``span_s``."""
    from_start_s: float
    """From starting the process (or connecting) to the last."""


@dataclass(frozen=True)
class BurstResult:
    database: str
    events: int
    publish_s: float
    """How long the edge accounts took to queue the burst (QoS 1, windowed)."""
    hub: Rate
    drain: Rate
    batches: int | None
    mean_commit_ms: float | None


def measure(workdir: Path, database: DatabaseKind, events: int) -> BurstResult:
    accounts = Accounts.make(SITES)
    with ExitStack() as stack:
        broker = stack.enter_context(private_broker(workdir / "mosquitto", accounts))
        url = stack.enter_context(fresh_database(database, workdir))
        engine = sa.create_engine(url)
        stack.callback(engine.dispose)
        _register_hub_session(workdir, url, broker, accounts, engine)
        _register_drain_session(broker.url, accounts.bench)
        publish_s = _publish_burst(broker.url, accounts, events)
        drain = _drain(broker.url, accounts.bench, events)
        http_port = free_port()
        hub = hub_program(workdir, url, broker, accounts, card_key=CARD_KEY, http_port=http_port)
        ingest, metrics = _ingest(hub, http_port, engine, events)
    batches = metrics.get("hub_batch_size_count")
    commits = metrics.get("hub_commit_seconds_count")
    return BurstResult(
        database=database,
        events=events,
        publish_s=publish_s,
        hub=ingest,
        drain=drain,
        batches=None if batches is None else int(batches),
        mean_commit_ms=(metrics["hub_commit_seconds_sum"] / commits * 1000 if commits else None),
    )


def _burst_count(engine: sa.Engine) -> int:
    query = sa.select(sa.func.count()).select_from(Checkin).where(Checkin.site_id.in_(SITES))
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def _register_hub_session(
    workdir: Path, url: str, broker: MosquittoBroker, accounts: Accounts, engine: sa.Engine
) -> None:
    """Run the hub once until it has recorded a probe check-in (so it is migrated, connected and
    subscribed), then stop it: the broker now queues for its session."""
    hub = hub_program(workdir, url, broker, accounts, card_key=CARD_KEY)
    hub.start()
    probe = BenchClient(broker.url, accounts.bench, "bench-probe")
    probe.connect()
    boot = uuid.uuid4()
    probe_query = (
        sa.select(sa.func.count()).select_from(Checkin).where(Checkin.site_id == PROBE_SITE)
    )
    seq = 0

    def probe_recorded() -> bool:
        nonlocal seq
        hub.check_alive()
        try:
            with engine.connect() as conn:
                if conn.execute(probe_query).scalar_one() > 0:
                    return True
        except sa.exc.DBAPIError:
            pass  # not migrated yet
        seq += 1
        probe.publish_all([checkin_message(PROBE_SITE, READER, boot, seq, _card(seq))])
        return False

    try:
        wait_for(probe_recorded, 60, "the hub to record a probe check-in", interval=0.5)
    finally:
        probe.close()
        hub.stop()


def _register_drain_session(broker_url: str, account: Account) -> None:
    client = BenchClient(broker_url, account, DRAIN_CLIENT_ID, manual_ack=True)
    client.connect()
    try:
        client.subscribe(topics.event_filters())
    finally:
        client.close()


def _publish_burst(broker_url: str, accounts: Accounts, events: int) -> float:
    """Queue ``events`` check-ins, split over the sites, each site as its own edge account."""
    started = time.monotonic()
    for index, site in enumerate(SITES):
        share = events // len(SITES) + (1 if index < events % len(SITES) else 0)
        boot = uuid.uuid4()
        client = BenchClient(broker_url, accounts.edge(site), f"bench-edge-{site}")
        client.connect()
        try:
            client.publish_all(
                checkin_message(site, READER, boot, seq, _card(seq)) for seq in range(1, share + 1)
            )
        finally:
            client.close()
    return time.monotonic() - started


class _Drain:
    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.received = 0
        self.first_at = 0.0
        self.last_at = 0.0
        self.done = threading.Event()

    def on_message(self, client: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        now = time.time()
        client.ack(message.mid, message.qos)
        self.received += 1
        if self.received == 1:
            self.first_at = now
        if self.received == self.expected:
            self.last_at = now
            self.done.set()


def _drain(broker_url: str, account: Account, events: int) -> Rate:
    drain = _Drain(events)
    client = BenchClient(
        broker_url,
        account,
        DRAIN_CLIENT_ID,
        on_message=drain.on_message,
        manual_ack=True,
        receive_maximum=RECEIVE_MAXIMUM,
    )
    started = time.time()
    client.connect()
    try:
        if not drain.done.wait(INGEST_TIMEOUT_S):
            raise BenchmarkError(f"the bare subscriber drained {drain.received} of {events}")
    finally:
        client.close()
    span = drain.last_at - drain.first_at
    return Rate(events, span, _per_s(events - 1, span), drain.last_at - started)


def _ingest(
    hub: Program, http_port: int, engine: sa.Engine, events: int
) -> tuple[Rate, dict[str, float]]:
    """Start the hub on the queued burst and time its commits from outside, by row count."""
    seen: list[tuple[float, int]] = []
    started = hub.start()
    try:
        for at, count in _poll_counts(engine, hub.check_alive):
            if count and (not seen or count != seen[-1][1]):
                seen.append((at, count))
            if count >= events:
                break
        metrics = read_metrics(http_port)
    finally:
        hub.stop()
    (first_at, first_count), (last_at, last_count) = seen[0], seen[-1]
    if last_count != events:
        raise BenchmarkError(f"the hub recorded {last_count} check-ins, {events} were queued")
    span = last_at - first_at
    return Rate(events, span, _per_s(events - first_count, span), last_at - started), metrics


def _poll_counts(engine: sa.Engine, check_alive: Callable[[], None]) -> Iterator[tuple[float, int]]:
    """(time, rows of the burst) every ``POLL_S``; the time is taken before the query, whose
    snapshot shows what had committed by then."""
    deadline = time.monotonic() + INGEST_TIMEOUT_S
    while time.monotonic() < deadline:
        check_alive()
        at = time.time()
        yield at, _burst_count(engine)
        time.sleep(POLL_S)
    raise BenchmarkError(f"the burst was not recorded within {INGEST_TIMEOUT_S:.0f} s")


def _card(seq: int) -> str:
    """The card sealed as an edge seals it: the hub opens each one (about 0.1 ms of CPU)."""
    return bench_card_keys(CARD_KEY).seal(f"{seq:010X}")


def _per_s(events: int, span_s: float) -> float:
    return events / span_s if span_s > 0 else float("inf")
