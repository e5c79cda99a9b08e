"""Figures as the benchmarks print them: percentiles and plain-text tables."""

from __future__ import annotations

import contextlib
import math
import os
import platform
from collections.abc import Sequence
from pathlib import Path

PERCENTILES = (50, 90, 99)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``p`` % of values at or below it
    (p99 of 300 values is the 3rd largest)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_row(label: str, values_ms: Sequence[float]) -> list[str]:
    """``label, p50, p90, p99, max`` in milliseconds."""
    cells = [percentile(values_ms, p) for p in PERCENTILES] + [max(values_ms)]
    return [label, *(f"{v:.1f}" for v in cells)]


SUMMARY_HEADER = ["", *(f"p{p} ms" for p in PERCENTILES), "max ms"]


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned first column, right-aligned figures."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first, rest = cells[0], cells[1:]
        parts = [first.ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def machine() -> str:
    """Cores, CPU model, memory and the load when the run began (others may share the machine)."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024**2:.0f} GiB"
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({model}){memory}, load average {load}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )
