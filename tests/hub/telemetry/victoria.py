"""A private VictoriaMetrics on a free port: a real server that speaks the InfluxDB 2 write API
(``/api/v2/write``) and gives back what landed (``/api/v1/export``)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Series:
    name: str
    labels: dict[str, str]
    values: list[float]
    timestamps: list[int]


class VictoriaMetrics:
    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        binary = shutil.which("victoria-metrics")
        if binary is None:
            raise RuntimeError(
                "victoria-metrics is not installed: run .ci/services victoria-metrics"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._log = (self.workdir / "vm.log").open("ab")
        self.process = subprocess.Popen(
            [
                binary,
                f"-httpListenAddr=127.0.0.1:{self.port}",
                f"-storageDataPath={self.workdir / 'data'}",
                "-retentionPeriod=100y",
                "-loggerLevel=ERROR",
                "-search.latencyOffset=0s",
                "-dedup.minScrapeInterval=1ms",  # as InfluxDB: same series and time, one point
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"victoria-metrics exited: see {self.workdir / 'vm.log'}")
            try:
                if httpx.get(f"{self.url}/health", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("victoria-metrics did not become healthy")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def export(self) -> list[Series]:
        """Every series with its samples, after flushing what was written to searchable storage."""
        httpx.get(f"{self.url}/internal/force_flush", timeout=10).raise_for_status()
        response = httpx.post(
            f"{self.url}/api/v1/export", data={"match[]": '{__name__!=""}'}, timeout=10
        )
        response.raise_for_status()
        series = []
        for line in response.text.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            labels = dict(item["metric"])
            name = labels.pop("__name__")
            series.append(Series(name, labels, item["values"], item["timestamps"]))
        return series
