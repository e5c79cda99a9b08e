"""The system's own programs, run as ``community`` subprocesses exactly as they run in production.

Each process writes its log to a file in the benchmark's work directory; a benchmark that fails
shows the end of it. The environment is inherited, so ``HUB_BATCH_WAIT_MS=5 make bench`` measures a
hub with other settings.
"""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

from nacl.public import PrivateKey
from prometheus_client.parser import text_string_to_metric_families

from benchmarks._services import Accounts
from demo.broker.mosquitto import MosquittoBroker, free_port
from hub.core.card_keys import HubCardKeys
from hub.core.private_files import write_private


class BenchmarkError(RuntimeError):
    """The benchmark could not measure what it set out to: the message says what went wrong."""


def poll(condition: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Whether ``condition`` came true within ``timeout`` seconds (checked every ``interval``)."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.02
) -> None:
    if not poll(condition, timeout, interval):
        raise BenchmarkError(f"timed out after {timeout:.0f} s waiting for {what}")


class Program:
    """One ``community`` subprocess in its own session, logging to ``log_path``."""

    def __init__(self, name: str, args: list[str], env: Mapping[str, str], log_path: Path) -> None:
        self.name, self.args, self.env, self.log_path = name, args, dict(env), log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start it; returns the wall-clock time just before the process was spawned."""
        with self.log_path.open("ab") as log:
            started = time.time()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "community", *self.args],
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return started

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check_alive(self) -> None:
        if not self.alive():
            raise BenchmarkError(f"{self.name} exited:\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (a clean stop), then kill if it does not go."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, chars: int = 3000) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return self.log_path.read_text(errors="replace")[-chars:]


BENCH_CARD_PRIVATE_KEY = PrivateKey(hashlib.sha256(b"benchmark-card-private-key").digest())
"""The benchmark hub's card key: it opens the cards the edges seal (hub.org.cards)."""


def bench_card_keys(card_key: str) -> HubCardKeys:
    return HubCardKeys(card_key.encode(), BENCH_CARD_PRIVATE_KEY)


def hub_program(
    workdir: Path,
    database_url: str,
    broker: MosquittoBroker,
    accounts: Accounts,
    *,
    card_key: str,
    http_port: int | None = None,
) -> Program:
    """``community hub`` in production mode; ``http_port=None`` runs it with ``--no-api``.
    ``card_key`` is the city card key; the card private key is written beside it."""
    args = ["hub", "--database-url", database_url, "--mqtt-url", broker.url]
    args += ["--no-api"] if http_port is None else ["--http-port", str(http_port)]
    user, password = accounts.hub
    env = {
        "HUB_MQTT_USERNAME": user,
        "HUB_MQTT_PASSWORD": password,
        "HUB_MODE": "production",
        "HUB_CARD_KEY": card_key,
        "HUB_CARD_PRIVATE_KEY_FILE": str(card_key_file(workdir)),
        # The benchmark reads /metrics without a token: the hub listens on 127.0.0.1 only.
        "HUB_METRICS_PUBLIC": "true",
    }
    return Program("hub", args, env, workdir / "hub.log")


def card_key_file(workdir: Path) -> Path:
    path = workdir / "card-key"
    write_private(path, base64.b64encode(bytes(BENCH_CARD_PRIVATE_KEY)).decode())
    return path


def edge_program(
    workdir: Path,
    site: str,
    broker: MosquittoBroker,
    accounts: Accounts,
    *,
    card_key: str,
    ports: Mapping[str, Path],
) -> Program:
    """``community edge`` for one site, its card readers on the given serial ports (device id →
    path). The config file holds the broker password, so it is written readable by its owner only."""
    user, password = accounts.edge(site)
    lines = [
        f'site = "{site}"',
        'mode = "production"',
        f'outbox_path = "{edge_outbox(workdir)}"',
        f'site_card_key = "{bench_card_keys(card_key).site_key(site)}"',
        f'hub_card_public_key = "{bench_card_keys(card_key).public_key}"',
        "[mqtt]",
        f'url = "{broker.url}"',
        f'username = "{user}"',
        f'password = "{password}"',
    ]
    for device, port in ports.items():
        lines += ["[[devices]]", f'id = "{device}"', f'port = "{port}"']
    config = workdir / "edge.toml"
    config.touch(mode=0o600)
    config.write_text("\n".join(lines) + "\n")
    return Program(f"edge {site}", ["edge", "--config", str(config)], {}, workdir / "edge.log")


def edge_outbox(workdir: Path) -> Path:
    return workdir / "outbox.db"


def read_metrics(http_port: int) -> dict[str, float]:
    """The hub's own counters (batches, commit time); empty if its API does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return {}
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.labels
    }


__all__ = [
    "BenchmarkError",
    "Program",
    "edge_outbox",
    "edge_program",
    "free_port",
    "hub_program",
    "poll",
    "read_metrics",
    "wait_for",
]
