"""The serial port against a real pty that is unplugged and replugged."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.serial_port import Backoff, PortError, SerialPort
from firmware_sim.pty_port import PtyPort
from tests.firmware_sim.support import wait_for


@pytest.fixture
def pty(tmp_path: Path) -> Iterator[PtyPort]:
    with PtyPort(tmp_path / "serial" / "by-id" / "usb-reader") as port:
        yield port


@pytest.fixture
def serial_port(pty: PtyPort) -> Iterator[SerialPort]:
    port = SerialPort(str(pty.link), backoff=Backoff(initial_s=0.01, max_s=0.05))
    yield port
    port.close()


def read_until(port: SerialPort, stop: threading.Event, want: int) -> bytes:
    got = b""
    deadline = time.monotonic() + 5
    while len(got) < want and time.monotonic() < deadline:
        got += port.read(stop)
    return got


def test_backoff_doubles_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(initial_s=0.1, max_s=0.5)
    assert [backoff.next() for _ in range(5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    backoff.reset()
    assert backoff.next() == 0.1


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="initial_s"):
        Backoff(initial_s=1.0, max_s=0.5)


def test_reads_what_the_device_sends(pty: PtyPort, serial_port: SerialPort) -> None:
    stop = threading.Event()
    assert serial_port.read(stop) == b""  # opens it; nothing sent yet
    assert serial_port.is_open
    pty.write(b"\x02hello\x03")
    assert read_until(serial_port, stop, 7) == b"\x02hello\x03"
    assert serial_port.errors == 0


def test_unplug_raises_ours_then_reopens_after_replug(
    pty: PtyPort, serial_port: SerialPort
) -> None:
    stop = threading.Event()
    serial_port.read(stop)
    assert serial_port.is_open

    pty.unplug()
    with pytest.raises(PortError, match="failed"):
        serial_port.read(stop)
    assert not serial_port.is_open
    # Reopen attempts fail while unplugged: one outage, one error, however many attempts.
    for _ in range(10):
        assert serial_port.read(stop) == b""
    assert serial_port.errors == 1
    assert not serial_port.is_open

    pty.replug()
    wait_for(lambda: serial_port.read(stop) == b"" and serial_port.is_open, what="reopen")
    pty.write(b"again")
    assert read_until(serial_port, stop, 5) == b"again"
    assert serial_port.errors == 1


def test_missing_device_counts_one_error_and_waits_on_stop(tmp_path: Path) -> None:
    port = SerialPort(str(tmp_path / "nothing-here"), backoff=Backoff(initial_s=10, max_s=10))
    stop = threading.Event()
    assert port.read(stop) == b""  # first attempt fails: the next is due in 10 s
    assert port.errors == 1
    stop.set()
    started = time.monotonic()
    assert port.read(stop) == b""
    assert time.monotonic() - started < 1  # the wait is cut short by stop
    assert port.errors == 1
