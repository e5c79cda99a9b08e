"""Run every benchmark of this package and print its figures.

Usage: ``python -m benchmarks.run [--only NAME ...] [--list]`` (``make bench``; ``make bench
ARGS="--only delivery"``). A benchmark's own options are given by running it directly, e.g.
``python -m benchmarks.delivery --help``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from collections.abc import Callable
from typing import cast

import benchmarks

BenchmarkMain = Callable[[list[str]], int]


def discover() -> dict[str, BenchmarkMain]:
    """Every module of the package that is not a helper (``_name``) and has ``main(argv)``."""
    found: dict[str, BenchmarkMain] = {}
    for info in pkgutil.iter_modules(benchmarks.__path__):
        if info.name.startswith("_") or info.name == "run":
            continue
        module = importlib.import_module(f"{benchmarks.__name__}.{info.name}")
        main = getattr(module, "main", None)
        if callable(main):
            found[info.name] = cast(BenchmarkMain, main)
    return dict(sorted(found.items()))


def main(argv: list[str] | None = None) -> int:
    available = discover()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(available),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(available)}",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(available))
        return 0
    failed: list[str] = []
    for name in args.only or list(available):
        print(f"\n##### benchmark: {name}\n", flush=True)
        started = time.monotonic()
        code = available[name]([])
        print(f"\n##### {name}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
