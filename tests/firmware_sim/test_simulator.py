"""The simulated port, reader and scenario, seen from the other end of a real pty via pyserial."""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from edge.em4100 import FrameParser
from firmware_sim.card_reader import CardReaderSim
from firmware_sim.pty_port import PtyPort
from firmware_sim.scenario import FAULT_KINDS, RosterScenario
from tests.firmware_sim.support import wait_for

A = "0102030405"
ROSTER = ["0102030405", "AABBCCDDEE", "1234567890", "0000000001", "FEDCBA9876"]


def open_serial(path: Path | str) -> serial.Serial:
    """The edge's way of opening a reader."""
    return serial.Serial(str(path), baudrate=9600, bytesize=8, parity="N", stopbits=1, timeout=0.05)


def read_all(port: serial.Serial, quiet_s: float = 0.15) -> bytes:
    """Everything until the line has been quiet for ``quiet_s``."""
    data = b""
    last = time.monotonic()
    while time.monotonic() - last < quiet_s:
        chunk = port.read(4096)
        if chunk:
            data += chunk
            last = time.monotonic()
    return data


@pytest.fixture
def link(tmp_path: Path) -> Path:
    return tmp_path / "dev" / "serial" / "by-id" / "usb-sim-reader"


@pytest.fixture
def pty(link: Path) -> Iterator[PtyPort]:
    with PtyPort(link) as port:
        yield port


@pytest.fixture
def sim(link: Path) -> Iterator[CardReaderSim]:
    with CardReaderSim(link, seed=1) as s:
        yield s


# --- the port -------------------------------------------------------------------------------------


def test_stable_link_points_at_the_pty_and_carries_bytes_both_ways(
    pty: PtyPort, link: Path
) -> None:
    assert link.is_symlink()
    assert pty.device is not None
    assert os.readlink(link) == pty.device
    with open_serial(link) as agent:
        assert pty.write(b"\x02hello\x03") == 7
        assert agent.read(7) == b"\x02hello\x03"
        agent.write(b"LED on")
        agent.flush()
        got = b""
        deadline = time.monotonic() + 2
        while len(got) < 6 and time.monotonic() < deadline:
            got += pty.read(timeout=0.1)
        assert got == b"LED on"


def test_agent_closing_its_end_does_not_break_the_simulator(pty: PtyPort, link: Path) -> None:
    for _ in range(2):
        with open_serial(link) as agent:
            pty.write(b"x")
            assert agent.read(1) == b"x"
    # With only the agent holding the slave, these would fail with EIO.
    assert pty.write(b"y") == 1
    assert pty.read(timeout=0.05) == b""


def test_unplug_breaks_the_agent_and_removes_the_path(pty: PtyPort, link: Path) -> None:
    agent = open_serial(link)
    try:
        pty.unplug()
        assert not link.exists()
        assert not link.is_symlink()
        assert not pty.plugged
        with pytest.raises(serial.SerialException):
            agent.read(1)
    finally:
        agent.close()
    with pytest.raises(serial.SerialException):
        open_serial(link)
    assert pty.write(b"lost") == 0
    assert pty.bytes_dropped == 4


def test_replug_gives_a_new_pty_behind_the_same_path(pty: PtyPort, link: Path) -> None:
    pty.unplug()
    pty.replug()
    assert pty.plugged
    assert os.readlink(link) == pty.device
    with open_serial(link) as agent:
        pty.write(b"back")
        assert agent.read(4) == b"back"
    pty.replug()  # already plugged: nothing changes
    assert os.readlink(link) == pty.device


def test_writing_with_nobody_listening_never_blocks_and_keeps_the_newest(
    pty: PtyPort, link: Path
) -> None:
    started = time.monotonic()
    for _ in range(200):
        assert pty.write(bytes(1024)) == 1024
    assert time.monotonic() - started < 2
    assert pty.overruns > 0
    assert pty.bytes_dropped == 0
    # An agent that opens the port now gets what is sent from now on, nothing stale.
    with open_serial(link) as agent:
        pty.write(b"fresh")
        assert read_all(agent) == b"fresh"


def test_close_removes_the_path_and_cannot_be_replugged(link: Path) -> None:
    port = PtyPort(link)
    port.close()
    assert not link.is_symlink()
    with pytest.raises(RuntimeError, match="closed"):
        port.replug()


def test_a_stale_link_is_replaced_but_a_real_file_is_not(link: Path) -> None:
    link.parent.mkdir(parents=True)
    link.symlink_to("/dev/pts/nonexistent")
    with PtyPort(link) as port:
        assert os.readlink(link) == port.device
    link.write_text("not a link")
    with pytest.raises(FileExistsError):
        PtyPort(link)
    assert link.read_text() == "not a link"


# --- the reader -----------------------------------------------------------------------------------


def test_tap_repeats_the_frame_while_held(sim: CardReaderSim, link: Path) -> None:
    with open_serial(link) as agent:
        started = time.monotonic()
        sim.tap(A, hold_s=0.35)
        assert time.monotonic() - started >= 0.35  # blocks for the hold
        parser = FrameParser()
        assert parser.feed(read_all(agent)) == [A] * 4  # at 0, 0.1, 0.2, 0.3 s
        assert parser.error_count == 0
        sim.tap(A, hold_s=0)
        assert parser.feed(read_all(agent)) == [A]  # however short, one frame
    assert sim.stats().taps == 2
    assert sim.stats().frames == 5


def test_faults_are_sent_and_counted(sim: CardReaderSim, link: Path) -> None:
    with open_serial(link) as agent:
        sim.bad_checksum(A)
        sim.half_frame(A)
        sim.noise(8)
        data = read_all(agent)
    assert FrameParser().feed(data) == []
    assert len(data) >= 14 + 2 + 8
    stats = sim.stats()
    assert (stats.bad_checksums, stats.half_frames, stats.noise, stats.faults) == (1, 1, 1, 3)
    assert stats.taps == 0


def test_tap_while_unplugged_is_lost(sim: CardReaderSim) -> None:
    sim.unplug()
    sim.tap(A, hold_s=0)
    sim.replug()
    stats = sim.stats()
    assert (stats.taps, stats.taps_lost, stats.frames, stats.unplugs) == (0, 1, 0, 1)


# --- the scenario ---------------------------------------------------------------------------------


def run_fast(sim: CardReaderSim, seed: int, count: int, fault_rate: float = 0.0) -> RosterScenario:
    scenario = RosterScenario(sim, ROSTER, interval_s=0, hold_s=0, seed=seed, fault_rate=fault_rate)
    scenario.run(count=count)
    return scenario


def test_scenario_order_is_random_but_fixed_by_the_seed(sim: CardReaderSim) -> None:
    first = run_fast(sim, seed=42, count=15).tapped
    again = run_fast(sim, seed=42, count=15).tapped
    other = run_fast(sim, seed=43, count=15).tapped
    assert first == again
    assert first != other
    assert first[:5] != ROSTER  # shuffled (true for this seed)


def test_scenario_taps_every_card_once_per_pass_never_twice_in_a_row(sim: CardReaderSim) -> None:
    for seed in range(20):
        tapped = run_fast(sim, seed=seed, count=20).tapped
        for start in range(0, 20, 5):
            assert sorted(tapped[start : start + 5]) == sorted(ROSTER)
        assert all(a != b for a, b in itertools.pairwise(tapped))


def test_scenario_with_no_count_does_one_pass(sim: CardReaderSim) -> None:
    scenario = RosterScenario(sim, [*ROSTER, ROSTER[0].lower()], interval_s=0, hold_s=0)
    assert sorted(scenario.run()) == sorted(ROSTER)  # the duplicate is dropped


def test_scenario_faults_between_taps(sim: CardReaderSim) -> None:
    scenario = run_fast(sim, seed=5, count=10, fault_rate=1.0)
    assert len(scenario.faults) == 9  # one in each pause
    assert set(scenario.faults) <= set(FAULT_KINDS)
    assert sim.stats().faults == 9
    assert sim.stats().taps == 10


def test_scenario_runs_until_stopped(sim: CardReaderSim) -> None:
    scenario = RosterScenario(sim, ROSTER, interval_s=0.02, hold_s=0)
    stop = threading.Event()
    result: list[str] = []
    thread = threading.Thread(target=lambda: result.extend(scenario.run(stop=stop)))
    thread.start()
    wait_for(lambda: len(scenario.tapped) >= 8, what="taps past one pass")
    stop.set()
    thread.join(2)
    assert not thread.is_alive()
    assert result == scenario.tapped
    assert len(result) >= 8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cards": []}, "empty"),
        ({"cards": ["nope"]}, "10 hex digits"),
        ({"fault_rate": 1.5}, "fault_rate"),
        ({"interval_s": -1.0}, "interval_s"),
    ],
)
def test_scenario_rejects_nonsense(
    sim: CardReaderSim, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"cards": ROSTER, **kwargs}
    with pytest.raises(ValueError, match=message):
        RosterScenario(sim, **args)  # type: ignore[arg-type]
