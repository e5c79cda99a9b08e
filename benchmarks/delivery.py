"""Delivery benchmarks (issue 2), each against a baseline measured in the same run:

* latency: tap-to-committed latency through the whole chain (simulated reader → pty → edge →
  Mosquitto → hub → PostgreSQL), against the MQTT hop alone;
* burst: the hub's ingest rate for a burst of queued check-ins, on PostgreSQL and SQLite, against
  a bare MQTT subscriber draining the same queue with no database.

Method and figures: docs/benchmarks.md. Every service is private to the run: a Mosquitto on a
free port, a fresh PostgreSQL database under TEST_POSTGRES_URL, the system's own programs as
subprocesses.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import get_args

from benchmarks import _burst_ingest, _tap_latency
from benchmarks._programs import BenchmarkError
from benchmarks._report import SUMMARY_HEADER, machine, summary_row, table
from benchmarks._services import (
    POSTGRES_ADMIN_URL,
    DatabaseKind,
    ServiceUnavailableError,
    versions,
)
from hub.core.settings import HubSettings

PARTS = ("latency", "burst")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="yp-bench-delivery-"))
    print(f"machine: {machine()}")
    print(f"services: {versions(POSTGRES_ADMIN_URL)}", flush=True)
    ok = True
    try:
        if "latency" in args.only:
            latency = _tap_latency.measure(
                workdir / "latency",
                taps=args.taps,
                rate=args.rate,
                hold_s=args.hold,
            )
            print(render_latency(latency), flush=True)
            ok = latency.matched == latency.taps and not latency.extra_rows
        if "burst" in args.only:
            results = [
                _burst_ingest.measure(workdir / f"burst-{kind}-{run}", kind, args.burst)
                for run in range(1, args.repeat + 1)
                for kind in args.databases
            ]
            print(render_burst(results), flush=True)
    except (BenchmarkError, ServiceUnavailableError) as exc:
        print(f"delivery benchmark failed: {exc}", file=sys.stderr)
        print(f"logs kept in {workdir}", file=sys.stderr)
        return 1
    if args.keep or not ok:
        print(f"work directory and logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


def render_latency(result: _tap_latency.LatencyResult) -> str:
    lines = [
        "",
        f"Tap-to-committed latency: {result.taps} taps of distinct cards at {result.rate:g}/s "
        "on one reader, PostgreSQL",
        f"matched {result.matched} of {result.taps} taps by card hash"
        + (f"; {result.extra_rows} extra check-in rows" if result.extra_rows else ""),
        "",
    ]
    rows = [
        summary_row(f"tap → {name}", values)
        for name, values in result.milestones_ms.items()
        if values
    ]
    rows.append(summary_row("baseline: MQTT hop alone (QoS 1 publish → receive)", result.hop_ms))
    lines.append(table(["milliseconds from the first frame", *SUMMARY_HEADER[1:]], rows))
    lines.append(_hub_line(result.hub_metrics))
    committed = result.milestones_ms.get(_tap_latency.COMMITTED, [])
    if committed:
        stages = _stages(result.milestones_ms)
        lines += ["", table(["where the time goes (per tap)", *SUMMARY_HEADER[1:]], stages)]
    if result.receipt_path_ms:
        header = ["receipt path alone: ack, 5 ms, publish back", *SUMMARY_HEADER[1:]]
        rows = [summary_row(f"  {k}", v) for k, v in result.receipt_path_ms.items()]
        lines += ["", table(header, rows)]
    return "\n".join(lines)


def _hub_line(metrics: dict[str, float]) -> str:
    """What the hub says about its own batches, and the batch wait it ran with."""
    wait = os.environ.get("HUB_BATCH_WAIT_MS", HubSettings.model_fields["batch_wait_ms"].default)
    batches = metrics.get("hub_batch_size_count", 0)
    if not batches:
        return f"hub batch wait {wait} ms (hub /metrics not read)"
    size = metrics["hub_batch_size_sum"] / batches
    commit = metrics["hub_commit_seconds_sum"] / metrics["hub_commit_seconds_count"] * 1000
    return (
        f"hub: batch wait {wait} ms (HUB_BATCH_WAIT_MS), {batches:.0f} batches of "
        f"{size:.1f} messages on average, {commit:.1f} ms mean write+commit per batch"
    )


def _stages(series: dict[str, list[float]]) -> list[list[str]]:
    names = list(series)
    rows = [summary_row(f"tap → {names[0]} (pty, parse)", series[names[0]])]
    for before, after in itertools.pairwise(names):
        deltas = [b - a for a, b in zip(series[before], series[after], strict=True)]
        rows.append(summary_row(f"{before} → {after}", deltas))
    return rows


def render_burst(results: list[_burst_ingest.BurstResult]) -> str:
    if not results:
        return ""
    header = ["", "first→last s", "events/s", "from start s", "events/s", "batches", "commit ms"]
    rows: list[list[str]] = []
    for r in results:
        rows.append(
            [
                f"hub on {r.database}",
                f"{r.hub.span_s:.2f}",
                f"{r.hub.per_s:,.0f}",
                f"{r.hub.from_start_s:.2f}",
                f"{r.events / r.hub.from_start_s:,.0f}",
                "?" if r.batches is None else str(r.batches),
                "?" if r.mean_commit_ms is None else f"{r.mean_commit_ms:.1f}",
            ]
        )
        rows.append(
            [
                "  baseline: bare paho drain",
                f"{r.drain.span_s:.2f}",
                f"{r.drain.per_s:,.0f}",
                f"{r.drain.from_start_s:.2f}",
                f"{r.events / r.drain.from_start_s:,.0f}",
                "",
                "",
            ]
        )
    medians: list[list[str]] = []
    for kind in dict.fromkeys(r.database for r in results):
        runs = [r for r in results if r.database == kind]
        medians.append(
            [
                f"hub on {kind} ({len(runs)} runs)",
                f"{statistics.median(r.hub.per_s for r in runs):,.0f}",
                f"{statistics.median(r.events / r.hub.from_start_s for r in runs):,.0f}",
                f"{statistics.median(r.drain.per_s for r in runs):,.0f}",
            ]
        )
    first = results[0]
    return "\n".join(
        [
            "",
            f"Hub ingest of a burst of {first.events:,} queued check-ins "
            f"({len(_burst_ingest.SITES)} edge accounts, QoS 1, queued in about "
            f"{first.publish_s:.1f} s while the hub was stopped)",
            "first→last: first commit seen to the last (events/s: rows after the first commit / "
            "that time); from start: process start (baseline: connect) to the last row; "
            "commit ms: mean per batch (hub /metrics)",
            "",
            table(header, rows),
            "",
            table(
                ["median", "hub events/s", "from start events/s", "baseline drain events/s"],
                medians,
            ),
        ]
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.delivery", description=__doc__)
    parser.add_argument(
        "--only", nargs="+", choices=PARTS, default=list(PARTS), help="which parts to run"
    )
    parser.add_argument("--taps", type=int, default=300, help="taps to time (300)")
    parser.add_argument("--rate", type=float, default=5.0, help="taps a second (5)")
    parser.add_argument(
        "--hold", type=float, default=0.05, help="seconds each card is held (0.05: one frame)"
    )
    parser.add_argument("--burst", type=int, default=10_000, help="queued check-ins (10000)")
    parser.add_argument(
        "--databases",
        nargs="+",
        choices=get_args(DatabaseKind),
        default=["postgresql", "sqlite"],
        help="databases for the burst (postgresql sqlite)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="burst runs per database (3)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    return parser


if __name__ == "__main__":
    sys.exit(main())
