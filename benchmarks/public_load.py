"""The public venue page under load: 200 concurrent clients on ``/public/v1``, and the hub's
ingest throughput with and without that load, in the same run.

The hub runs as ``community hub`` runs it (ingest worker, API and dashboard in one process, a
subprocess of its own) on a private Mosquitto and a fresh database seeded with the demo's city
(``seed_city`` with seed 1: 52 venues; a tenth of its members and events, which the public
routes never read). The clients (asyncio, one ``httpx.AsyncClient`` each, one connection each)
run in this process, each in a loop, as the page's phones would: the list without an ETag (a
first visit), one venue, the list again with the ETag it got (the page's auto-refresh: a 304
while nothing changed). All come from 127.0.0.1, so the benchmark raises the per-address rate
limit (``HUB_PUBLIC_RATE_PER_MINUTE``, ``HUB_PUBLIC_RATE_BURST``) far above what they send:
the figures are the hub's, not the limiter's refusals.

Ingest: a burst of ``--events`` check-ins published at QoS 1 by two edge accounts to the
running hub (``benchmarks._burst_ingest``'s publisher and cards), timed from the first publish
to the last row committed (polled by ``SELECT count(*)``); once with the hub idle, once while the
clients run (the burst starts after ``--warmup`` seconds of load).

Usage: ``python -m benchmarks.public_load [--clients 200] [--seconds 30] [--events 5000]
[--database sqlite|postgresql]``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
import sqlalchemy as sa

from benchmarks import _burst_ingest
from benchmarks._programs import BenchmarkError, free_port, hub_program, wait_for
from benchmarks._report import SUMMARY_HEADER, machine, summary_row, table
from benchmarks._services import (
    Accounts,
    DatabaseKind,
    ServiceUnavailableError,
    fresh_database,
    private_broker,
    versions,
)
from demo.seed import CITY, seed_city
from hub.core.db import make_engine, upgrade

VENUES = [f"venue-{n:02d}" for n in range(1, 53)]
LIGHT_CITY = replace(CITY, members=480, activities=185, service_requests=320)
"""The demo city's 52 venues and structure; a tenth of its people and events."""
RATE_ENV = {"HUB_PUBLIC_RATE_PER_MINUTE": "60000", "HUB_PUBLIC_RATE_BURST": "10000"}
"""Every client is 127.0.0.1: the limit per address is raised far above the load."""


@dataclass
class Load:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    started: float = 0.0
    ended: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def per_s(self) -> float:
        return self.requests / (self.ended - self.started)


async def _client(http: httpx.AsyncClient, n: int, until: float, load: Load) -> None:
    etag = ""
    venue = VENUES[n % len(VENUES)]
    step = 0
    headers: dict[str, str]
    while time.monotonic() < until:
        if step % 3 == 0:
            path, headers = "/public/v1/venues", {}
        elif step % 3 == 1:
            path, headers = f"/public/v1/venues/{venue}", {}
        else:
            path, headers = "/public/v1/venues", {"If-None-Match": etag}
        step += 1
        started = time.perf_counter()
        try:
            response = await http.get(path, headers=headers)
        except httpx.HTTPError:
            load.errors += 1
            continue
        load.latencies_ms.append((time.perf_counter() - started) * 1000)
        load.statuses[response.status_code] = load.statuses.get(response.status_code, 0) + 1
        if path == "/public/v1/venues" and response.status_code == 200:
            etag = response.headers.get("etag", "")


async def _run_load(url: str, clients: int, seconds: float) -> Load:
    load = Load()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    https = [httpx.AsyncClient(base_url=url, timeout=30, limits=limits) for _ in range(clients)]
    try:
        load.started = time.monotonic()
        until = load.started + seconds
        await asyncio.gather(*(_client(h, n, until, load) for n, h in enumerate(https)))
        load.ended = time.monotonic()
    finally:
        await asyncio.gather(*(h.aclose() for h in https))
    return load


@dataclass(frozen=True)
class Ingest:
    events: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.events / self.seconds


def _ingest_burst(broker_url: str, accounts: Accounts, engine: sa.Engine, events: int) -> Ingest:
    before = _burst_ingest._burst_count(engine)
    started = time.monotonic()
    _burst_ingest._publish_burst(broker_url, accounts, events)
    wait_for(
        lambda: _burst_ingest._burst_count(engine) >= before + events,
        120,
        f"the hub to record {events} check-ins",
        interval=0.01,
    )
    return Ingest(events, time.monotonic() - started)


def measure(
    workdir: Path, kind: DatabaseKind, *, clients: int, seconds: float, warmup: float, events: int
) -> tuple[Ingest, Ingest, Load, Load]:
    """Ingest idle, then load alone (``warmup`` s), then load with a burst of ingest."""
    accounts = Accounts.make([*_burst_ingest.SITES, *VENUES])
    with (
        private_broker(workdir / "mosquitto", accounts) as broker,
        fresh_database(kind, workdir) as database_url,
    ):
        upgrade(database_url)
        engine = make_engine(database_url)
        try:
            started = time.perf_counter()
            seed_city(engine, seed=1, key=b"benchmark-card-key-0123456789", scale=LIGHT_CITY)
            print(f"seeded the city in {time.perf_counter() - started:.1f} s", flush=True)
            port = free_port()
            hub = hub_program(
                workdir, database_url, broker, accounts, card_key=_burst_ingest.CARD_KEY,
                http_port=port,
            )  # fmt: skip
            hub.env.update(RATE_ENV)
            hub.start()
            try:
                url = f"http://127.0.0.1:{port}"
                wait_for(lambda: _answers(url), 60, "the hub's API")
                _ingest_burst(broker.url, accounts, engine, 100)  # warm: connected, subscribed
                idle = _ingest_burst(broker.url, accounts, engine, events)
                print(f"ingest idle: {idle.per_s:.0f} check-ins/s", flush=True)
                alone = asyncio.run(_run_load(url, clients, warmup))
                print(f"load alone: {alone.per_s:.0f} requests/s", flush=True)
                result: dict[str, Load] = {}
                runner = threading.Thread(
                    target=lambda: result.setdefault(
                        "load", asyncio.run(_run_load(url, clients, seconds))
                    )
                )
                runner.start()
                time.sleep(warmup)
                loaded = _ingest_burst(broker.url, accounts, engine, events)
                runner.join()
                hub.check_alive()
            finally:
                hub.stop()
        finally:
            engine.dispose()
    return idle, loaded, alone, result["load"]


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/public/v1/venues", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def render(idle: Ingest, loaded: Ingest, alone: Load, load: Load, clients: int) -> str:
    rows = [
        summary_row(f"load alone ({alone.requests} requests)", alone.latencies_ms),
        summary_row(f"load with the burst ({load.requests} requests)", load.latencies_ms),
    ]
    change = (loaded.per_s - idle.per_s) / idle.per_s * 100
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(load.statuses.items()))
    return "\n".join(
        [
            f"{clients} clients on /public/v1 (list, one venue, list with its ETag):",
            table(SUMMARY_HEADER, rows),
            f"requests/s: {alone.per_s:.0f} alone, {load.per_s:.0f} during the burst; "
            f"statuses {statuses}; transport errors {load.errors + alone.errors}",
            "",
            table(
                ["ingest of a burst", "check-ins", "seconds", "check-ins/s"],
                [
                    ["hub idle", str(idle.events), f"{idle.seconds:.2f}", f"{idle.per_s:.0f}"],
                    [
                        f"with {clients} public clients",
                        str(loaded.events),
                        f"{loaded.seconds:.2f}",
                        f"{loaded.per_s:.0f}",
                    ],
                ],
            ),
            f"ingest under the public load: {change:+.0f} %",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.public_load", description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0, help="load during the burst")
    parser.add_argument("--warmup", type=float, default=5.0, help="load alone, and before it")
    parser.add_argument("--events", type=int, default=5000, help="check-ins in each burst")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="yp-bench-public-"))
    print(f"machine: {machine()}")
    print(f"services: {versions()}", flush=True)
    try:
        idle, loaded, alone, load = measure(
            workdir,
            args.database,
            clients=args.clients,
            seconds=args.seconds,
            warmup=args.warmup,
            events=args.events,
        )
    except (BenchmarkError, ServiceUnavailableError) as exc:
        print(f"public load benchmark failed: {exc}", file=sys.stderr)
        print(f"logs kept in {workdir}", file=sys.stderr)
        return 1
    print(render(idle, loaded, alone, load, args.clients), flush=True)
    if args.keep:
        print(f"work directory and logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
