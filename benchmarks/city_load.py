"""The hub's CPU and memory while the whole city's venue sensors report (issue 4), against the same
hub idle in the same run.

52 venues with 10 sensors each (4 gate counters, 6 bay-sensor modules of 16 bays): 520 readings a
second, each a contract event on the venue's own edge account, plus a heartbeat per venue every
10 s (``benchmarks._city_sensors``). The hub (``community hub``, production mode, API on) runs on a
fresh database, a private Mosquitto carries the load. The hub's CPU (user + system time from
/proc, as % of one core) and resident memory are measured while idle, then under load after a
warm-up; the rows it recorded are counted afterwards, so a hub that fell behind shows as a drain
time rather than a flattering CPU figure. Target: ingest under 10 % of one core.

``python -m benchmarks.city_load [--database postgresql|sqlite] [--duration S]``;
``python -m benchmarks.city_load --load-only --broker mqtt://HOST:PORT --credentials FILE`` runs
only the load against a running system (``credentials.json`` of the demo holds every venue's
password under ``edges``) and prints what it sent.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import httpx
import sqlalchemy as sa

from benchmarks._city_sensors import (
    BAY_MODULES_PER_VENUE,
    COUNTERS_PER_VENUE,
    VENUES,
    CityLoad,
    LoadStats,
    venue_sites,
)
from benchmarks._programs import BenchmarkError, Program, free_port, hub_program, wait_for
from benchmarks._report import machine, table
from benchmarks._services import (
    POSTGRES_ADMIN_URL,
    Accounts,
    DatabaseKind,
    ServiceUnavailableError,
    fresh_database,
    private_broker,
    versions,
)
from benchmarks._venue_registry import register_venues
from hub.ingest.models import BayReading, CounterReading

TARGET_CPU_PCT = 10.0


@dataclass(frozen=True)
class Usage:
    """One process over one window."""

    cpu_pct: float
    """User + system CPU time over the window, as % of one core."""
    rss_mib: float
    """Resident memory at the end of the window."""
    rss_max_mib: float
    """Highest resident memory sampled during the window."""


@dataclass(frozen=True)
class CityLoadResult:
    database: str
    sensors: int
    idle: Usage
    load: Usage
    broker: Usage
    """Mosquitto over the same load window, for scale."""
    sent: LoadStats
    recorded: int
    drain_s: float
    """From the end of the load until the hub had recorded every reading sent."""

    @property
    def ingest_cpu_pct(self) -> float:
        return self.load.cpu_pct - self.idle.cpu_pct


def cpu_seconds(pid: int) -> float:
    """User + system time of a process so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise BenchmarkError(f"no VmRSS for process {pid}")


def sample(pids: list[int], seconds: float, every_s: float = 0.5) -> list[Usage]:
    """CPU and memory of each process over the next ``seconds``."""
    cpu0 = [cpu_seconds(p) for p in pids]
    peak = [rss_mib(p) for p in pids]
    t0 = time.monotonic()
    while (left := t0 + seconds - time.monotonic()) > 0:
        time.sleep(min(every_s, left))
        peak = [max(m, rss_mib(p)) for m, p in zip(peak, pids, strict=True)]
    elapsed = time.monotonic() - t0
    return [
        Usage(100 * (cpu_seconds(p) - c) / elapsed, rss_mib(p), max(m, rss_mib(p)))
        for p, c, m in zip(pids, cpu0, peak, strict=True)
    ]


def measure(
    workdir: Path,
    database: DatabaseKind,
    *,
    venues: int = VENUES,
    counters: int = COUNTERS_PER_VENUE,
    bay_modules: int = BAY_MODULES_PER_VENUE,
    idle_s: float = 20.0,
    warmup_s: float = 10.0,
    duration_s: float = 60.0,
    registry: bool = True,
) -> CityLoadResult:
    accounts = Accounts.make(venue_sites(venues))
    with ExitStack() as stack:
        broker = stack.enter_context(private_broker(workdir / "mosquitto", accounts))
        url = stack.enter_context(fresh_database(database, workdir))
        if registry:  # the venues registered: the hub derives occupancy as in service
            register_venues(url, venue_sites(venues))
        http_port = free_port()
        hub = hub_program(
            workdir, url, broker, accounts, card_key=secrets.token_hex(16), http_port=http_port
        )
        hub.start()
        stack.callback(hub.stop)
        _wait_ready(hub, http_port)
        assert hub.process is not None
        assert broker.process is not None
        pids = [hub.process.pid, broker.process.pid]
        (idle, _) = sample(pids, idle_s)
        load = CityLoad(broker.url, accounts.edges, venues=venues, counters=counters,
                        bay_modules=bay_modules)  # fmt: skip
        stack.callback(load.close)
        sent: list[LoadStats] = []
        runner = threading.Thread(target=lambda: sent.append(load.run(warmup_s + duration_s)))
        runner.start()
        try:
            time.sleep(warmup_s)
            hub.check_alive()
            loaded, broker_usage = sample(pids, duration_s)
        finally:
            load.stop()
            runner.join(30)
        if not sent:
            raise BenchmarkError("the load generator did not finish")
        ended = time.monotonic()
        engine = sa.create_engine(url)
        stack.callback(engine.dispose)
        wait_for(
            lambda: _recorded(engine) >= sent[0].readings,
            120,
            f"the hub to record all {sent[0].readings} readings (it has {_recorded(engine)})",
            interval=0.2,
        )
        drain_s = time.monotonic() - ended
        return CityLoadResult(
            database=database,
            sensors=load.sensors,
            idle=idle,
            load=loaded,
            broker=broker_usage,
            sent=sent[0],
            recorded=_recorded(engine),
            drain_s=drain_s,
        )


def _wait_ready(hub: Program, http_port: int) -> None:
    def ready() -> bool:
        hub.check_alive()
        try:
            health = httpx.get(f"http://127.0.0.1:{http_port}/healthz", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return False
        return bool(health.get("status") == "ok")  # (the detail is for operators)

    wait_for(ready, 60, "the hub to be ready", interval=0.2)


def _recorded(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        counters = conn.execute(sa.select(sa.func.count()).select_from(CounterReading))
        bays = conn.execute(sa.select(sa.func.count()).select_from(BayReading))
        return int(counters.scalar_one()) + int(bays.scalar_one())


def render(result: CityLoadResult) -> str:
    s = result.sent
    rows = [
        ["hub idle", f"{result.idle.cpu_pct:.1f}", f"{result.idle.rss_mib:.0f}",
         f"{result.idle.rss_max_mib:.0f}"],
        ["hub under city load", f"{result.load.cpu_pct:.1f}", f"{result.load.rss_mib:.0f}",
         f"{result.load.rss_max_mib:.0f}"],
        ["mosquitto under city load", f"{result.broker.cpu_pct:.1f}",
         f"{result.broker.rss_mib:.0f}", f"{result.broker.rss_max_mib:.0f}"],
    ]  # fmt: skip
    verdict = "within" if result.ingest_cpu_pct < TARGET_CPU_PCT else "OVER"
    return "\n".join(
        [
            f"database: {result.database}; {result.sensors} sensors; sent {s.readings} readings "
            f"in {s.elapsed_s:.0f} s ({s.rate:.0f}/s), {s.refused} refused by the client, "
            f"{s.heartbeats} heartbeats",
            table(["", "CPU % of a core", "RSS MiB", "peak RSS MiB"], rows),
            f"ingest: {result.ingest_cpu_pct:.1f} % of one core over idle ({verdict} the "
            f"{TARGET_CPU_PCT:g} % target); recorded {result.recorded} readings, all of them "
            f"{result.drain_s:.1f} s after the load stopped",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.load_only:
        return _load_only(args)
    databases: list[DatabaseKind] = args.databases or ["postgresql"]
    workdir = Path(tempfile.mkdtemp(prefix="yp-bench-city-"))
    print(f"machine: {machine()}")
    print(f"services: {versions(POSTGRES_ADMIN_URL)}", flush=True)
    try:
        for database in databases:
            result = measure(
                workdir / database,
                database,
                venues=args.venues,
                counters=args.counters,
                bay_modules=args.bay_modules,
                idle_s=args.idle,
                warmup_s=args.warmup,
                duration_s=args.duration,
                registry=not args.no_registry,
            )
            print(f"venue registry: {'off' if args.no_registry else 'on'}", flush=True)
            print(render(result), flush=True)
    except (BenchmarkError, ServiceUnavailableError) as exc:
        print(f"city_load: {exc}", file=sys.stderr)
        print(f"work directory kept: {workdir}", file=sys.stderr)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _load_only(args: argparse.Namespace) -> int:
    if not args.broker or not args.credentials:
        print("city_load: --load-only needs --broker and --credentials", file=sys.stderr)
        return 2
    passwords = json.loads(Path(args.credentials).read_text()).get("edges", {})
    load = CityLoad(args.broker, passwords, venues=args.venues, counters=args.counters,
                    bay_modules=args.bay_modules)  # fmt: skip
    try:
        print(f"{load.sensors} sensors on {args.venues} venues for {args.duration:g} s", flush=True)
        stats = load.run(args.duration)
    except KeyboardInterrupt:
        return 130
    finally:
        load.close()
    print(f"sent {stats.readings} readings ({stats.rate:.0f}/s), {stats.refused} refused")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.city_load", description=__doc__)
    parser.add_argument(
        "--database",
        dest="databases",
        action="append",
        choices=get_args(DatabaseKind),
        help="repeatable; default postgresql",
    )
    parser.add_argument("--venues", type=int, default=VENUES)
    parser.add_argument(
        "--no-registry",
        action="store_true",
        help="leave the venues unregistered: readings are recorded, no occupancy is derived",
    )
    parser.add_argument("--counters", type=int, default=COUNTERS_PER_VENUE, help="per venue")
    parser.add_argument("--bay-modules", type=int, default=BAY_MODULES_PER_VENUE, help="per venue")
    parser.add_argument("--idle", type=float, default=20.0, help="seconds measured idle")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of load not measured")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds measured under load")
    parser.add_argument("--load-only", action="store_true", help="only send the load")
    parser.add_argument("--broker", help="with --load-only: mqtt://host:port")
    parser.add_argument("--credentials", help="with --load-only: JSON with an 'edges' map")
    return parser


if __name__ == "__main__":
    sys.exit(main())
