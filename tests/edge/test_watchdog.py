"""The agent speaks systemd's notify protocol: READY=1 once it runs, WATCHDOG=1 only while it is
healthy, STATUS= lines, STOPPING=1. Received on a unix datagram socket the test binds, as
systemd's own ``NOTIFY_SOCKET`` would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.broker.mosquitto import MosquittoBroker
from edge.agent import EdgeAgent
from edge.config import load_settings
from edge.sd_notify import Notifier, status_line
from edge.supervise import supervise
from firmware_sim.pty_port import PtyPort
from tests.hub.support import wait_until
from tests.services import ACCOUNTS


class NotifySocket:
    """What systemd listens on: one datagram per notification."""

    def __init__(self) -> None:
        # a short path: a unix socket's address holds at most 107 bytes
        self._dir = tempfile.TemporaryDirectory(prefix="notify-", dir="/tmp")
        self.path = str(Path(self._dir.name) / "sock")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.path)
        self.received: list[list[str]] = []

    def until(self, wanted: str, timeout: float = 20.0) -> list[list[str]]:
        """Datagrams until one holding the line ``wanted`` (that one included)."""
        got: list[list[str]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                lines = self._sock.recv(4096).decode().split("\n")
            except TimeoutError:
                break
            got.append(lines)
            self.received.append(lines)
            if wanted in lines or any(line.startswith(wanted) for line in lines):
                return got
        raise AssertionError(f"no {wanted!r} within {timeout} s; got {got}")

    def close(self) -> None:
        self._sock.close()
        self._dir.cleanup()


@pytest.fixture
def notify() -> Iterator[NotifySocket]:
    sock = NotifySocket()
    yield sock
    sock.close()


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[PtyPort]:
    with PtyPort(tmp_path / "serial" / "reader-1") as port:
        yield port


def edge_config(tmp_path: Path, port: Path, broker_url: str) -> Path:
    site, password = ACCOUNTS.edge("venue-01")
    path = tmp_path / "edge.toml"
    path.write_text(
        f'site = "{site}"\nmode = "production"\nsite_card_key = "0123456789abcdef0123"\n'
        'hub_card_public_key = "7/LxDwJf29tIPFzSlzdM0FGeZWnyUnBcUDjJ43IHaBw="\n'
        f'outbox_path = "{tmp_path / "outbox.db"}"\n'
        f'[mqtt]\nurl = "{broker_url}"\npassword = "{password}"\n'
        f'[[devices]]\nid = "reader-1"\nkind = "card_reader"\nport = "{port}"\n'
    )
    return path


def test_the_edge_process_tells_systemd_it_is_ready_and_feeds_the_watchdog(
    tmp_path: Path, notify: NotifySocket, reader: PtyPort, mosquitto: MosquittoBroker
) -> None:
    config = edge_config(tmp_path, reader.link, mosquitto.url)
    env = {**os.environ, "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"}
    agent = subprocess.Popen(
        [sys.executable, "-m", "community", "edge", "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = notify.until("READY=1")
        assert len(first) == 1, "something came before READY=1"
        assert first[0][1].startswith("STATUS=venue-01: 1 device(s), ")
        # With the watchdog at 1 s the agent says it is alive twice a second, with its status.
        fed = notify.until("WATCHDOG=1")
        fed += notify.until("STATUS=venue-01: 1 device(s), 0 pending, broker connected")
        fed += notify.until("WATCHDOG=1")
        assert sum("WATCHDOG=1" in lines for lines in fed) >= 2
        assert not any(line.startswith("STATUS=unhealthy") for lines in fed for line in lines)
    finally:
        agent.send_signal(signal.SIGTERM)
        _, err = agent.communicate(timeout=30)
    assert agent.returncode == 0, err
    assert notify.until("STOPPING=1")[-1] == ["STOPPING=1", "STATUS=stopping"]


def test_an_unhealthy_agent_stops_feeding_the_watchdog_and_says_why(
    tmp_path: Path, notify: NotifySocket, reader: PtyPort
) -> None:
    # No broker (a port nothing listens on): that is not the agent's ill health, it goes on.
    config = edge_config(tmp_path, reader.link, "mqtt://127.0.0.1:9")
    agent = EdgeAgent(load_settings(config))
    agent.start()
    stop = threading.Event()
    notifier = Notifier({"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000"})
    loop = threading.Thread(target=supervise, args=([agent], stop, notifier), daemon=True)
    loop.start()
    try:
        notify.until("READY=1")
        assert notify.until("WATCHDOG=1")[-1][1] == (
            "STATUS=venue-01: 1 device(s), 0 pending, broker not connected"
        )
        assert agent.problems() == []

        agent.readers[0].stop()  # its thread ends, as if it had died
        assert agent.problems() == ["venue-01: card reader reader-1 stopped"]
        unhealthy = "STATUS=unhealthy: venue-01: card reader reader-1 stopped"
        for _ in range(4):  # the first, and three more checks
            notify.until(unhealthy)
        stop.set()
        loop.join(10)
        notify.until("STOPPING=1")
        first = next(i for i, lines in enumerate(notify.received) if unhealthy in lines)
        after = notify.received[first:]
        assert not any("WATCHDOG=1" in lines for lines in after), after

        agent.outbox.close()  # an outbox that cannot be read is ill health too
        assert agent.problems()[-1].startswith("venue-01: the outbox does not answer: ")
    finally:
        stop.set()
        agent.stop()


def test_the_notifier_follows_systemds_environment(notify: NotifySocket) -> None:
    assert not Notifier({}).active
    assert not Notifier({}).send("READY=1")
    assert not Notifier({"NOTIFY_SOCKET": "vsock:2:1234"}).active  # not a unix socket
    # The watchdog is this process's only when WATCHDOG_PID names it (or is absent).
    assert Notifier({"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "30000000"}).watchdog_s == 30
    mine = {"WATCHDOG_PID": str(os.getpid()), "WATCHDOG_USEC": "2000000"}
    assert Notifier(mine).watchdog_s == 2
    assert Notifier({**mine, "WATCHDOG_PID": str(os.getpid() + 1)}).watchdog_s is None
    assert Notifier({"WATCHDOG_USEC": "soon"}).watchdog_s is None

    # An abstract socket ("@name"), as systemd's own is since v254.
    name = f"community-edge-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as abstract:
        abstract.bind("\0" + name)
        abstract.settimeout(10)
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).send("READY=1", status_line("a\nb  c"))
        assert abstract.recv(4096) == b"READY=1\nSTATUS=a b c"
    assert len(status_line("x" * 1000)) == len("STATUS=") + 200
    # A socket that went away: False, once logged, never raised.
    gone = Notifier({"NOTIFY_SOCKET": str(Path(notify.path).with_name("gone"))})
    assert not gone.send("WATCHDOG=1")


def test_a_publisher_stuck_on_its_outbox_stops_turning(
    tmp_path: Path, reader: PtyPort, mosquitto: MosquittoBroker
) -> None:
    """What ``problems`` reads as "the publisher has not turned": connected, its loop asks the
    outbox what is due on every turn, so an outbox that hangs (a dying SD card) stops it."""
    agent = EdgeAgent(load_settings(edge_config(tmp_path, reader.link, mosquitto.url)))
    agent.start()
    try:
        wait_until(lambda: agent.publisher.connected, what="the agent to connect")
        wait_until(lambda: agent.publisher.idle_s() < 0.6, what="the loop to turn")
        with agent.outbox._lock:  # the outbox's one lock: every read and write waits on it
            wait_until(lambda: agent.publisher.idle_s() > 1.0, what="the loop to stop turning")
        wait_until(lambda: agent.publisher.idle_s() < 0.6, what="the loop to turn again")
        assert agent.problems() == []
    finally:
        agent.stop()
