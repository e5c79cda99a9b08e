"""The hub as a process: start, serve, survive kill -9 without loss or duplicates, stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from demo.broker.mosquitto import MosquittoBroker, free_port
from tests.hub.support import (
    BOOT,
    CARD_KEY,
    Db,
    EdgeClient,
    card_key_file,
    checkin,
    wait_until,
)
from tests.services import ACCOUNTS
from tests.users import bearer, user_token

MakeEdge = Callable[..., EdgeClient]


class HubProcess:
    def __init__(self, tmp_path: Path, database_url: str, broker: MosquittoBroker) -> None:
        self.port = free_port()
        self.log_path = tmp_path / "hub.log"
        self.args = [
            sys.executable,
            "-m",
            "hub.server",
            "--database-url",
            database_url,
            "--mqtt-url",
            broker.url,
            "--http-port",
            str(self.port),
        ]
        user, password = ACCOUNTS.hub
        self.env = {
            **os.environ,
            "HUB_MODE": "production",
            "HUB_MQTT_USERNAME": user,
            "HUB_MQTT_PASSWORD": password,
            "HUB_CARD_KEY": CARD_KEY.decode(),
            "HUB_CARD_PRIVATE_KEY_FILE": str(card_key_file(tmp_path)),
            "HUB_MQTT_CLIENT_ID": f"hub-proc-{uuid.uuid4().hex[:8]}",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            timeout=5,
            headers=bearer(user_token(database_url)),  # an operator's, made before the hub runs
        )

    def start(self, *extra: str) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*self.args, *extra], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        if "--no-api" not in extra:
            wait_until(self._ready, timeout=30, what="the hub to be ready")

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"hub exited:\n{self.log()}")
        try:
            return bool(self.http.get("/healthz").json()["broker"] == "connected")
        except (httpx.HTTPError, ValueError):
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def close(self) -> None:
        self.kill()
        self.http.close()


@pytest.fixture
def hub_process(
    tmp_path: Path, database_url: str, mosquitto: MosquittoBroker
) -> Iterator[HubProcess]:
    hub = HubProcess(tmp_path, database_url, mosquitto)
    yield hub
    hub.close()


def test_kill_minus_nine_mid_burst_loses_and_duplicates_nothing(
    hub_process: HubProcess, edge: MakeEdge, database_url: str
) -> None:
    hub_process.start()
    log = hub_process.log()
    assert "hub running: API on http://127.0.0.1:" in log
    assert ACCOUNTS.hub[1] not in log
    centre = edge()
    events = [checkin(seq) for seq in range(1, 3001)]
    publishing = threading.Thread(target=centre.publish_events, args=(events, 100))
    publishing.start()
    wait_until(lambda: centre.receipt_count() > 0, what="the first receipt")
    hub_process.kill()  # mid-stream: some batches committed, some acked, some neither
    receipted_at_kill = len(centre.receipted())
    publishing.join(30)
    assert 0 < receipted_at_kill < 3000

    hub_process.start()

    def recorded() -> int:
        page = hub_process.http.get("/api/v1/checkins", params={"limit": 1}).json()
        return int(page["count"])

    wait_until(lambda: recorded() == 3000, timeout=30, what="every event to be recorded")
    # A receipt still in the killed hub's memory is lost with it (its events were committed and
    # acknowledged): the edge resends what has no receipt, and duplicates are receipted again.
    expected = {(BOOT, seq) for seq in range(1, 3001)}
    centre.publish_events([e for e in events if (BOOT, e.seq) not in centre.receipted()])
    wait_until(lambda: centre.receipted() == expected, timeout=30, what="every receipt")
    db = Db(database_url)
    try:
        assert db.count("checkins") == 3000
    finally:
        db.engine.dispose()

    assert hub_process.process is not None
    hub_process.process.send_signal(signal.SIGTERM)
    assert hub_process.process.wait(15) == 0
    assert "ingest worker stopped" in hub_process.log()


def test_ingest_only_runs_and_stops_on_sigterm(
    hub_process: HubProcess, edge: MakeEdge, database_url: str
) -> None:
    hub_process.start("--no-api")
    wait_until(lambda: "subscribed to" in hub_process.log(), timeout=30, what="the subscription")
    centre = edge()
    centre.publish_events([checkin(1)])
    wait_until(lambda: centre.receipted() == {(BOOT, 1)}, timeout=30, what="a receipt")
    assert "hub running: API off (--no-api); ingest on" in hub_process.log()
    assert hub_process.process is not None
    hub_process.process.send_signal(signal.SIGTERM)
    assert hub_process.process.wait(15) == 0


def test_a_hub_without_hub_mode_is_production_and_refuses_to_start_without_secrets(
    tmp_path: Path,
) -> None:
    """Safe by default: no HUB_MODE is production, which has no default secret; the refusal
    names what is missing and the way out, and nothing was started (no database made)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    done = subprocess.run(
        [sys.executable, "-m", "community", "hub", "--database-url", f"sqlite:///{tmp_path}/h.db"],
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(b"community hub: invalid settings\n")
    assert b"production mode needs a broker password: set HUB_MQTT_PASSWORD" in done.stderr
    assert b"HUB_MODE=demo" in done.stderr
    assert not (tmp_path / "h.db").exists()
