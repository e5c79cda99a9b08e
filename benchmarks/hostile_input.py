"""Hostile input against a running hub (issue 8, items 6 and 7): what it costs the hub in memory
and how fast it keeps answering ``/healthz``.

The hub runs as ``community hub --no-ingest`` (the API alone, production code, no broker), on a
fresh database; its resident memory is sampled every 10 ms from outside (/proc).

* **Bodies**: ``--posts`` clients at once each send ``--post-mb`` MB to the unauthenticated
  ``POST /api/v1/session``, first with a ``Content-Length``, then chunked (no length). Once with
  the hub's defaults (64 KiB for JSON), once with the limit lifted to 2 GiB
  (``HUB_BODY_MAX_BYTES``), which is how every route behaved before the limit. Printed: what
  each client was answered, how much of its body got through before the hub closed the
  connection, and the hub's peak memory above idle.
* **Imports**: on the seeded city, a prober asks ``GET /healthz`` every 100 ms while (1) nothing
  else happens (the baseline), (2) zip bombs are uploaded back to back (``--bomb-mb`` MB of
  sheet XML, as in the issue, and the same bomb with a header that lies about its size), (3) the
  costliest file the bounds let through is read (3.7 million XML tags in 61 MB of sheet, no
  data row), (4) the largest import the bounds allow runs (50,000 new members from an .xlsx), while
  a second import is tried. Printed: the latency of ``/healthz`` in each phase, the hub's peak
  memory, and each upload's answer and time.

Usage: ``python -m benchmarks.hostile_input [--database sqlite|postgresql] [--post-mb 200]
[--posts 4] [--bomb-mb 1100] [--rows 50000] [--no-unlimited]``.
"""

from __future__ import annotations

import argparse
import io
import socket
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO

import httpx
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarks._programs import BenchmarkError, Program, wait_for
from benchmarks._report import SUMMARY_HEADER, machine, summary_row, table
from benchmarks._services import DatabaseKind, fresh_database, versions
from benchmarks.city_load import cpu_seconds, rss_mib
from demo.broker.mosquitto import free_port
from demo.seed import seed_city
from hub.auth import Role
from hub.auth.users import add_user
from hub.core.db import make_engine, upgrade
from hub.org.models import Community, Unit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET = "xl/worksheets/sheet1.xml"
CARD_KEY = b"benchmark-card-key-0123456789"
MB = 1024 * 1024


class Hub:
    """``community hub --no-ingest`` on ``database_url``, with its memory sampled from outside."""

    def __init__(self, workdir: Path, database_url: str, env: dict[str, str]) -> None:
        self.port = free_port()
        args = ["hub", "--no-ingest", "--database-url", database_url]
        env = {"HUB_MODE": "demo", **env}
        self.program = Program(
            "hub", [*args, "--http-port", str(self.port)], env, workdir / "hub.log"
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.peak = 0.0
        self._sampling = False

    def start(self) -> None:
        self.program.start()

        def ready() -> bool:
            self.program.check_alive()
            try:
                return httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, 60, "the hub's API")
        self._sampling = True
        threading.Thread(target=self._sample, daemon=True).start()

    @property
    def pid(self) -> int:
        assert self.program.process is not None
        return self.program.process.pid

    def _sample(self) -> None:
        while self._sampling and self.program.alive():
            try:
                self.peak = max(self.peak, rss_mib(self.pid))
            except (OSError, BenchmarkError):
                return
            time.sleep(0.01)

    @contextmanager
    def watched(self) -> Iterator[dict[str, float]]:
        """Yields a dict that on exit holds the hub's idle and peak memory (MiB) and the CPU
        seconds it used meanwhile."""
        figures = {"idle": rss_mib(self.pid)}
        self.peak = figures["idle"]
        cpu = cpu_seconds(self.pid)
        yield figures
        time.sleep(0.05)
        figures["peak"] = self.peak
        figures["cpu"] = cpu_seconds(self.pid) - cpu

    def stop(self) -> None:
        self._sampling = False
        self.program.stop()


# Bodies


@dataclass
class PostResult:
    status: int | None = None
    sent: int = 0
    seconds: float = 0.0


def post_raw(port: int, size: int, *, chunked: bool) -> PostResult:
    """POST ``size`` bytes to /api/v1/session over a raw socket, 1 MiB at a time, reading the
    answer alongside; stops sending when the hub closes the connection."""
    result = PostResult()
    started = time.perf_counter()
    connection = socket.create_connection(("127.0.0.1", port), timeout=120)
    length = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % size
    head = b"POST /api/v1/session HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
    chunk = b"x" * MB

    def send() -> None:
        try:
            connection.sendall(head + length + b"\r\n\r\n")
            while result.sent < size:
                piece = chunk[: size - result.sent]
                connection.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                result.sent += len(piece)
            if chunked:
                connection.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # closed by the hub

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    answer = b""
    try:
        while b"\r\n" not in answer and (data := connection.recv(65536)):
            answer += data
    except OSError:
        pass
    if answer.startswith(b"HTTP/1.1 "):
        result.status = int(answer.split()[1])
    connection.close()
    sender.join(120)
    result.seconds = time.perf_counter() - started
    return result


def _post_into(results: list[PostResult], port: int, size: int, chunked: bool) -> None:
    results.append(post_raw(port, size, chunked=chunked))


def bodies(workdir: Path, args: argparse.Namespace) -> None:
    size = args.post_mb * MB
    configs: list[tuple[str, dict[str, str]]] = [("limit 64 KiB (default)", {})]
    if not args.no_unlimited:
        configs.append(("limit lifted (2 GiB: as before)", {"HUB_BODY_MAX_BYTES": str(2**31)}))
    rows = []
    with fresh_database("sqlite", workdir) as url:
        upgrade(url)
        for label, env in configs:
            hub = Hub(workdir, url, env)
            hub.start()
            try:
                for chunked in (False, True):
                    with hub.watched() as memory:
                        results: list[PostResult] = []
                        post = partial(_post_into, results, hub.port, size, chunked)
                        threads = [threading.Thread(target=post) for _ in range(args.posts)]
                        for thread in threads:
                            thread.start()
                        for thread in threads:
                            thread.join()
                    statuses = sorted({str(r.status) for r in results})
                    rows.append(
                        [
                            label,
                            "chunked" if chunked else "Content-Length",
                            "/".join(statuses),
                            f"{max(r.sent for r in results) / MB:.1f}",
                            f"{max(r.seconds for r in results):.2f}",
                            f"{memory['idle']:.0f}",
                            f"{memory['peak'] - memory['idle']:.0f}",
                        ]
                    )
                    print(f"  {label}, {rows[-1][1]}: done", flush=True)
            finally:
                hub.stop()
    print(
        f"\n{args.posts} clients at once, each sending {args.post_mb} MB to POST /api/v1/session\n"
        + table(
            [
                "hub",
                "body",
                "answers",
                "MB sent (most)",
                "s (slowest)",
                "idle MiB",
                "peak above idle MiB",
            ],
            rows,
        )
    )


# Imports


def workbook_bytes(rows: Iterator[list[object]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_sheet(write: Callable[[IO[bytes]], None], level: int) -> bytes:
    """A valid workbook (header code, name) whose sheet's rows are what ``write`` writes."""
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes(iter([["code", "name"]]))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for info in source.infolist():
            if info.filename != SHEET:
                archive.writestr(info, source.read(info))
                continue
            part = zipfile.ZipInfo(SHEET, info.date_time)
            part.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(part, "w") as sheet:  # under 2 GiB: no zip64
                sheet.write(
                    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                    b'main"><sheetData><row><c t="inlineStr"><is><t>code</t></is></c>'
                    b'<c t="inlineStr"><is><t>name</t></is></c></row>'
                )
                write(sheet)
                sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def zip_bomb(megabytes: int) -> bytes:
    row = b'<row><c t="inlineStr"><is><t>M00001</t></is></c><c t="inlineStr"><is><t>name</t></is></c></row>'
    chunk = row * (MB // len(row))

    def write(sheet: IO[bytes]) -> None:
        for _ in range(megabytes):
            sheet.write(chunk)

    return with_sheet(write, level=1)  # level 9 packs tighter but takes far longer to build


def lying(bomb: bytes, size: int = 100_000) -> bytes:
    """The bomb with its sheet's entry in the zip directory claiming ``size`` bytes."""
    out = bytearray(bomb)
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        length = int.from_bytes(out[at + 28 : at + 30], "little")
        if out[at + 46 : at + 46 + length] == SHEET.encode():
            out[at + 24 : at + 28] = size.to_bytes(4, "little")
            return bytes(out)
        at = out.find(b"PK\x01\x02", at + 4)
    raise BenchmarkError("the bomb has no sheet")


def costliest() -> bytes:
    """Just within the bounds of 50,000 rows: 3.7 million tags of empty rows, 61 MB."""

    def write(sheet: IO[bytes]) -> None:
        for start in range(2, 3_700_000, 100_000):
            sheet.write(b"".join(b'<row r="%d"/>' % n for n in range(start, start + 100_000)))

    return with_sheet(write, level=6)


def members_file(rows: int, units: list[str], communities: list[str]) -> bytes:
    def lines() -> Iterator[list[object]]:
        yield ["编号", "姓名", "单位编号", "社区编号", "在职", "报到日期"]
        for n in range(rows):
            yield [
                f"B{n:06d}",
                "王晓东",
                units[n % len(units)],
                communities[n % len(communities)],
                "是",
                "2026-03-01",
            ]

    return workbook_bytes(lines())


@dataclass
class Prober:
    """``GET /healthz`` every 100 ms on its own connection; latencies (ms) by phase."""

    base: str
    phase: str = "idle"
    latencies: dict[str, list[float]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    running: bool = True

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as http:
            while self.running:
                phase = self.phase
                started = time.perf_counter()
                try:
                    ok = http.get("/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = (time.perf_counter() - started) * 1000
                if ok:
                    self.latencies.setdefault(phase, []).append(elapsed)
                else:
                    self.failures[phase] = self.failures.get(phase, 0) + 1
                time.sleep(max(0.0, 0.1 - elapsed / 1000))


def upload(base: str, token: str, data: bytes, kind: str = "members") -> tuple[int, str, float]:
    started = time.perf_counter()
    response = httpx.post(
        f"{base}/api/v1/imports/{kind}?format=xlsx",
        content=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": XLSX},
        timeout=600,
    )
    seconds = time.perf_counter() - started
    body = response.json()
    reason = (
        body["errors"][0]["reason"]
        if body.get("errors")
        else body.get("detail") or f"{body.get('created')} created"
    )
    return response.status_code, str(reason)[:90], seconds


def imports(workdir: Path, kind: DatabaseKind, args: argparse.Namespace) -> None:
    print("  building the files ...", flush=True)
    bomb = zip_bomb(args.bomb_mb)
    liar = lying(bomb)
    worst = costliest()
    with fresh_database(kind, workdir) as url:
        print(f"  {kind}: {versions(url)}", flush=True)
        upgrade(url)
        engine = make_engine(url)
        try:
            seed_city(engine, seed=1, key=CARD_KEY)
            with Session(engine) as db:
                token = add_user(db, "bench-operator", Role.OPERATOR).token
                units = list(db.scalars(select(Unit.code)))
                communities = list(db.scalars(select(Community.code)))
        finally:
            engine.dispose()
        legit = members_file(args.rows, units, communities)
        sizes = [
            f"bomb {len(bomb) / MB:.1f} MB ({args.bomb_mb} MB of sheet)",
            f"lying bomb {len(liar) / MB:.1f} MB",
            f"costliest allowed {len(worst) / MB:.1f} MB",
            f"{args.rows} members {len(legit) / MB:.1f} MB",
        ]
        print(f"  uploads: {', '.join(sizes)}", flush=True)
        hub = Hub(workdir, url, {"HUB_CARD_KEY": CARD_KEY.decode()})
        hub.start()
        prober = Prober(hub.base)
        probing = threading.Thread(target=prober.run, daemon=True)
        probing.start()
        uploads: list[list[str]] = []
        memory: dict[str, dict[str, float]] = {}
        try:

            def phase(name: str, work: Callable[[], None]) -> None:
                prober.phase = name
                with hub.watched() as figures:
                    work()
                memory[name] = figures
                print(f"  {name}: done", flush=True)

            def record(label: str, result: tuple[int, str, float]) -> None:
                uploads.append([label, str(result[0]), f"{result[2]:.2f}", result[1]])

            def bombs() -> None:
                deadline = time.monotonic() + args.seconds
                while time.monotonic() < deadline:
                    record("bomb", upload(hub.base, token, bomb))
                    record("lying bomb", upload(hub.base, token, liar))

            def legit_import() -> None:
                done: list[tuple[int, str, float]] = []
                running = threading.Thread(
                    target=lambda: done.append(upload(hub.base, token, legit))
                )
                running.start()
                time.sleep(1)  # the first is being read: a second is turned away
                record("second import meanwhile", upload(hub.base, token, b"code\n", "units"))
                running.join()
                record(f"{args.rows} members", done[0])

            phase("idle", lambda: time.sleep(args.seconds))
            phase("zip bombs, back to back", bombs)
            phase(
                "costliest file allowed",
                lambda: record("costliest", upload(hub.base, token, worst)),
            )
            phase(f"import of {args.rows} members", legit_import)
        finally:
            prober.running = False
            probing.join(30)
            hub.stop()
    rows = []
    for name, figures in memory.items():
        latencies = prober.latencies.get(name, [])
        failed = prober.failures.get(name, 0)
        cells = summary_row(name, latencies)[1:] if latencies else ["-"] * 4
        rows.append(
            [
                name,
                *cells,
                f"{len(latencies)}/{failed}",
                f"{figures['cpu']:.1f}",
                f"{figures['peak'] - figures['idle']:.0f}",
            ]
        )
    print(
        "\nGET /healthz every 100 ms, by phase\n"
        + table([*SUMMARY_HEADER, "ok/failed", "hub CPU s", "peak above idle MiB"], rows)
    )
    print("\nuploads\n" + table(["upload", "status", "s", "answer"], uploads))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hostile_input", description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--post-mb", type=int, default=200)
    parser.add_argument("--posts", type=int, default=4)
    parser.add_argument("--no-unlimited", action="store_true", help="skip the lifted limit")
    parser.add_argument("--bomb-mb", type=int, default=1100)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="of idle and of bombs")
    args = parser.parse_args(argv)
    print(f"hostile input benchmark: {machine()}", flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="yp-bench-hostile-") as tmp:
            (Path(tmp) / "bodies").mkdir()
            (Path(tmp) / "imports").mkdir()
            bodies(Path(tmp) / "bodies", args)
            imports(Path(tmp) / "imports", args.database, args)
    except BenchmarkError as exc:
        print(f"hostile_input: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
