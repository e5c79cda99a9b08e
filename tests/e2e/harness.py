"""Runs the real programs as separate processes so a test can kill -9 any of them.

The broker is a private Mosquitto (tests/conftest.py), the hub and each edge agent are
``community`` subprocesses, and the card readers are firmware-sim simulators behind pty pairs in
the test process, opened by the edge agents by path.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from nacl.public import PrivateKey

from demo.broker.mosquitto import MosquittoBroker, free_port
from firmware_sim.card_reader import CardReaderSim
from hub.core.card_keys import HubCardKeys
from hub.core.private_files import write_private
from tests.services import ACCOUNTS
from tests.users import bearer, user_token

CARD_KEY = "e2e-card-key-0123456789"
CARD_KEYS = HubCardKeys(
    CARD_KEY.encode(), PrivateKey(hashlib.sha256(b"e2e-card-private-key").digest())
)


def card_config(site: str) -> str:
    """An edge's card lines: the site's own key and the hub's public key, never the city key."""
    return (
        f'site_card_key = "{CARD_KEYS.site_key(site)}"\n'
        f'hub_card_public_key = "{CARD_KEYS.public_key}"\n'
    )


def card_key_file(workdir: Path) -> Path:
    path = workdir / "card-key"
    write_private(path, base64.b64encode(bytes(CARD_KEYS.private_key)).decode())
    return path


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Program:
    """A ``community`` subprocess whose output goes to a log file the test can show."""

    def __init__(
        self,
        name: str,
        args: list[str],
        env: dict[str, str],
        log_path: Path,
        *,
        inherit_env: bool = True,
    ) -> None:
        """``env`` is added to the test's environment, or with ``inherit_env=False`` is the
        whole of the program's."""
        self.name, self.args, self.env, self.log_path = name, args, env, log_path
        self.inherit_env = inherit_env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start {self.name} at {time.time():.3f}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "community", *self.args],
                env={**os.environ, **self.env} if self.inherit_env else self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """kill -9: no clean shutdown of any kind."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


@dataclass
class EdgeSite:
    site: str
    workdir: Path
    broker_url: str
    devices: tuple[str, ...] = ("reader-1",)
    ca_file: Path | None = None
    """With an mqtts:// ``broker_url``: copied beside the config as ``broker-ca.crt`` and named
    by that relative path, as a site's bundle does."""
    sims: dict[str, CardReaderSim] = field(default_factory=dict)
    program: Program | None = None

    @property
    def outbox_path(self) -> Path:
        return self.workdir / "outbox.db"

    def start_sims(self) -> None:
        for device in self.devices:
            self.sims[device] = CardReaderSim(self.workdir / f"{device}.tty")

    def write_config(self) -> Path:
        user, password = ACCOUNTS.edge(self.site)
        lines = [
            f'site = "{self.site}"',
            'mode = "production"',
            f'outbox_path = "{self.outbox_path}"',
            card_config(self.site).rstrip(),
            "heartbeat_interval_s = 1.0",
            "resend_after_s = 3.0",
            "retention_s = 1e9",  # keep receipted events: they are the test's record
            "[mqtt]",
            f'url = "{self.broker_url}"',
            f'username = "{user}"',
            f'password = "{password}"',
        ]
        if self.ca_file is not None:
            (self.workdir / "broker-ca.crt").write_bytes(self.ca_file.read_bytes())
            lines.append('ca_file = "broker-ca.crt"')
        for device in self.devices:
            lines += [
                "[[devices]]",
                f'id = "{device}"',
                f'port = "{self.workdir / (device + ".tty")}"',
                # a held card's frames come every 100 ms, but a simulator starved by a loaded
                # machine can leave longer gaps; these tests are about delivery, not debounce
                "release_s = 2.0",
            ]
        path = self.workdir / "edge.toml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.sims:
            self.start_sims()
        config = self.write_config()
        self.program = Program(
            f"edge {self.site}", ["edge", "--config", str(config)], {}, self.workdir / "edge.log"
        )
        self.program.start()

    def committed_event_ids(self) -> set[str]:
        """Every event this edge ever committed (receipted rows are kept: retention is huge)."""
        if not self.outbox_path.exists():
            return set()
        with sqlite3.connect(self.outbox_path) as db:
            rows = db.execute("SELECT payload FROM outbox").fetchall()
        return {json.loads(payload)["id"] for (payload,) in rows}

    def pending(self) -> int:
        if not self.outbox_path.exists():
            return 0
        with sqlite3.connect(self.outbox_path) as db:
            (count,) = db.execute(
                "SELECT count(*) FROM outbox WHERE receipted_at IS NULL"
            ).fetchone()
        return int(count)

    def close(self) -> None:
        if self.program:
            self.program.stop()
        for sim in self.sims.values():
            sim.close()


class HubProcess:
    def __init__(
        self,
        workdir: Path,
        database_url: str,
        broker: MosquittoBroker,
        *,
        ca_file: Path | None = None,
    ) -> None:
        """With ``ca_file`` the hub dials the broker's TLS listener and verifies it with that CA."""
        self.http_port = free_port()
        user, password = ACCOUNTS.hub
        self.program = Program(
            "hub",
            [
                "hub",
                "--database-url",
                database_url,
                "--mqtt-url",
                broker.tls_url if ca_file else broker.url,
                "--http-port",
                str(self.http_port),
            ],
            {
                "HUB_MQTT_USERNAME": user,
                "HUB_MQTT_PASSWORD": password,
                "HUB_MODE": "production",
                "HUB_CARD_KEY": CARD_KEY,
                "HUB_CARD_PRIVATE_KEY_FILE": str(card_key_file(workdir)),
                "HUB_HEARTBEAT_TIMEOUT_S": "5",
                **({"HUB_MQTT_CA_FILE": str(ca_file)} if ca_file else {}),
            },
            workdir / "hub.log",
        )
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{self.http_port}",
            timeout=5,
            headers=bearer(user_token(database_url)),  # an operator's, made before the hub runs
        )

    def start(self, wait_ready: bool = True) -> None:
        self.program.start()
        if wait_ready:
            wait_for(self._ready, 30, "the hub to be ready\n" + self.program.log_tail())

    def _ready(self) -> bool:
        if not self.program.alive():
            raise AssertionError("hub exited:\n" + self.program.log_tail())
        try:
            health = self.http.get("/healthz").json()
        except (httpx.HTTPError, ValueError):
            return False
        return bool(health.get("broker") == "connected")

    def get(self, path: str, **params: object) -> object:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self.program.stop()
        self.http.close()
