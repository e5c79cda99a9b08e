"""The card-reader driver reading the simulated reader through a real pty, opened by pyserial."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.card_reader import CardReader, Tap
from edge.serial_port import Backoff
from firmware_sim.card_reader import CardReaderSim
from firmware_sim.scenario import RosterScenario
from tests.firmware_sim.support import wait_for

A = "0102030405"
B = "AABBCCDDEE"

MakeReader = Callable[..., CardReader]


class Taps:
    """What on_tap received, appended from the reader thread."""

    def __init__(self) -> None:
        self.taps: list[Tap] = []

    def __call__(self, tap: Tap) -> None:
        self.taps.append(tap)

    @property
    def cards(self) -> list[str]:
        return [t.card for t in self.taps]


@pytest.fixture
def link(tmp_path: Path) -> Path:
    return tmp_path / "serial" / "by-id" / "usb-em4100-reader"


@pytest.fixture
def sim(link: Path) -> Iterator[CardReaderSim]:
    with CardReaderSim(link) as s:
        yield s


@pytest.fixture
def taps() -> Taps:
    return Taps()


@pytest.fixture
def make_reader(link: Path, taps: Taps) -> Iterator[MakeReader]:
    """Start a reader on the sim's link; it is stopped at the end of the test."""
    readers: list[CardReader] = []

    def make(wait_ok: bool = True, **kwargs: object) -> CardReader:
        kwargs.setdefault("on_tap", taps)
        kwargs.setdefault("backoff", Backoff(initial_s=0.01, max_s=0.1))
        reader = CardReader("reader-1", str(link), **kwargs)  # type: ignore[arg-type]
        readers.append(reader)
        reader.start()
        if wait_ok:
            wait_for(lambda: reader.health().state == "ok", what="reader to open the port")
        return reader

    yield make
    for reader in readers:
        reader.stop()


def all_frames_read(reader: CardReader, sim: CardReaderSim) -> Callable[[], bool]:
    return lambda: reader.health().frames_ok == sim.stats().frames


def frame_errors_reach(reader: CardReader, n: int) -> Callable[[], bool]:
    return lambda: reader.health().frame_errors >= n


def test_card_held_half_a_second_is_one_tap(
    sim: CardReaderSim, make_reader: MakeReader, taps: Taps
) -> None:
    reader = make_reader()
    before = datetime.now(UTC)
    sim.tap(A, hold_s=0.5)
    wait_for(all_frames_read(reader, sim), what="all frames")

    assert sim.stats().frames == 5
    assert taps.cards == [A]
    tap = taps.taps[0]
    assert tap.at.tzinfo is not None
    assert before <= tap.at <= datetime.now(UTC)
    # Reported on the first frame, not when the card is taken away.
    assert (tap.at - before).total_seconds() < 0.35
    health = reader.health()
    assert health.state == "ok"
    assert health.frames_ok == 5
    assert health.frame_errors == 0
    assert health.last_frame_at is not None
    assert health.last_frame_at >= tap.at


def test_same_card_after_release_is_a_second_tap(
    sim: CardReaderSim, make_reader: MakeReader, taps: Taps
) -> None:
    reader = make_reader(release_s=0.2)
    sim.tap(A, hold_s=0.2)
    time.sleep(0.6)  # the card is off the reader for well over release_s
    sim.tap(A, hold_s=0.2)
    wait_for(all_frames_read(reader, sim), what="all frames")
    assert taps.cards == [A, A]


def test_same_card_back_within_release_is_still_one_tap(
    sim: CardReaderSim, make_reader: MakeReader, taps: Taps
) -> None:
    reader = make_reader(release_s=1.5)  # wide margin, so a slow machine cannot split the tap
    sim.tap(A, hold_s=0.2)
    time.sleep(0.1)  # lifted and put back at once
    sim.tap(A, hold_s=0.2)
    wait_for(all_frames_read(reader, sim), what="all frames")
    assert taps.cards == [A]


def test_slow_on_tap_does_not_split_a_held_card(
    sim: CardReaderSim, make_reader: MakeReader, taps: Taps
) -> None:
    def slow_commit(tap: Tap) -> None:
        taps(tap)
        time.sleep(0.45)  # longer than release_s, while the card stays on the reader

    reader = make_reader(release_s=0.3, on_tap=slow_commit)
    sim.tap(A, hold_s=0.6)
    wait_for(all_frames_read(reader, sim), what="all frames")
    assert taps.cards == [A]


def test_another_card_is_a_new_tap_at_once(
    sim: CardReaderSim, make_reader: MakeReader, taps: Taps
) -> None:
    reader = make_reader(release_s=1.5)
    for card in (A, B, A):
        sim.tap(card, hold_s=0.1)
    wait_for(all_frames_read(reader, sim), what="all frames")
    assert taps.cards == [A, B, A]


def test_faults_give_no_taps_and_are_counted(
    sim: CardReaderSim, make_reader: MakeReader, taps: Taps
) -> None:
    reader = make_reader()
    sim.bad_checksum(A)
    wait_for(lambda: reader.health().frame_errors == 1, what="bad checksum counted")
    sim.half_frame(B)
    wait_for(lambda: reader.health().frame_errors == 2, what="half frame counted")
    sim.noise(32)
    wait_for(lambda: reader.health().frame_errors >= 3, what="noise counted")
    sim.tap(B, hold_s=0.1)
    sim.half_frame(A)  # cut short straight after a good frame
    sim.tap(A, hold_s=0.1)  # its STX resynchronises
    wait_for(all_frames_read(reader, sim), what="all frames")

    assert taps.cards == [B, A]
    health = reader.health()
    assert health.frames_ok == sim.stats().frames
    assert health.frame_errors >= sim.stats().faults == 4
    assert health.port_errors == 0


def test_roster_scenario_with_faults_gives_exactly_its_taps(
    sim: CardReaderSim, make_reader: MakeReader, taps: Taps
) -> None:
    reader = make_reader()
    roster = [A, B, "1234567890", "0000000001"]
    scenario = RosterScenario(sim, roster, interval_s=0.08, hold_s=0.05, fault_rate=0.6, seed=3)
    scenario.run(count=12)
    wait_for(all_frames_read(reader, sim), what="all frames")

    assert taps.cards == scenario.tapped
    assert len(scenario.faults) >= 3  # true for this seed
    health = reader.health()
    assert health.frame_errors >= len(scenario.faults)
    assert health.frames_ok == sim.stats().frames


def test_many_recent_errors_make_it_degraded_for_a_while(
    sim: CardReaderSim, make_reader: MakeReader
) -> None:
    reader = make_reader(degraded_errors=3, degraded_window_s=1.0)
    sim.bad_checksum(A)
    wait_for(frame_errors_reach(reader, 1), what="first error")
    assert reader.health().state == "ok"
    sim.bad_checksum(A)
    sim.bad_checksum(A)
    wait_for(frame_errors_reach(reader, 3), what="three errors")
    assert reader.health().state == "degraded"
    wait_for(lambda: reader.health().state == "ok", what="errors to age out of the window")
    assert reader.health().frame_errors == 3


def test_unplug_disconnects_and_replug_reconnects_by_itself(
    sim: CardReaderSim, make_reader: MakeReader, taps: Taps
) -> None:
    reader = make_reader()
    sim.tap(A, hold_s=0.1)
    wait_for(lambda: taps.cards == [A], what="first tap")

    sim.unplug()
    wait_for(lambda: reader.health().state == "disconnected", what="disconnected")
    assert reader.health().port_errors == 1
    sim.tap(B, hold_s=0.1)  # into the void
    assert sim.stats().taps_lost == 1

    sim.replug()
    wait_for(lambda: reader.health().state == "ok", what="reopened after replug")
    sim.tap(B, hold_s=0.1)
    wait_for(lambda: taps.cards == [A, B], what="tap after replug")
    assert reader.health().port_errors == 1


def test_reader_started_before_the_device_exists(
    link: Path, make_reader: MakeReader, taps: Taps
) -> None:
    reader = make_reader(wait_ok=False)
    wait_for(lambda: reader.health().port_errors == 1, what="failed open counted")
    assert reader.health().state == "disconnected"
    with CardReaderSim(link) as sim:
        wait_for(lambda: reader.health().state == "ok", what="opened once plugged in")
        sim.tap(A, hold_s=0.1)
        wait_for(lambda: taps.cards == [A], what="tap")
        assert reader.health().port_errors == 1


def test_on_tap_failure_is_logged_and_reading_goes_on(
    sim: CardReaderSim, make_reader: MakeReader, caplog: pytest.LogCaptureFixture
) -> None:
    delivered: list[str] = []

    def on_tap(tap: Tap) -> None:
        if not delivered:
            delivered.append("boom")
            raise RuntimeError("outbox is full")
        delivered.append(tap.card)

    reader = make_reader(on_tap=on_tap)
    with caplog.at_level(logging.ERROR, logger="edge.card_reader"):
        sim.tap(A, hold_s=0.1)
        sim.tap(B, hold_s=0.1)
        wait_for(lambda: delivered == ["boom", B], what="second tap delivered")
    [record] = [r for r in caplog.records if r.exc_info]
    assert "on_tap failed" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)
    assert reader.health().state == "ok"


@pytest.mark.parametrize("plugged", [True, False])
def test_stop_is_prompt_and_closes_the_port(
    sim: CardReaderSim, make_reader: MakeReader, plugged: bool
) -> None:
    reader = make_reader(backoff=Backoff(initial_s=5, max_s=5))
    if not plugged:
        sim.unplug()
        wait_for(lambda: reader.health().state == "disconnected", what="disconnected")
    started = time.monotonic()
    reader.stop()
    assert time.monotonic() - started < 1.0
    assert not any(t.name == "card-reader-reader-1" for t in threading.enumerate())
    assert reader.health().state == "disconnected"


def test_health_before_start_and_bad_ids(link: Path, taps: Taps) -> None:
    reader = CardReader("reader-1", str(link), taps)
    health = reader.health()
    assert (health.id, health.kind, health.state) == ("reader-1", "card_reader", "disconnected")
    assert (health.frames_ok, health.frame_errors, health.port_errors) == (0, 0, 0)
    assert health.last_frame_at is None
    with pytest.raises(ValueError, match="device id"):
        CardReader("Reader 1", str(link), taps)
