"""The venue sign driver writing a simulated sign (pymodbus's server) through a real pty line, the
same line and poller as the gate's counter: what the sign shows, bounded figures, a sign that
cannot be written (retried, degraded), and a sign blanked by a power loss (written again)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.modbus_master import RtuMaster
from edge.modbus_poller import ModbusPoller, PollOptions, Reading
from edge.modbus_rtu import RefusedError
from edge.serial_port import Backoff, SerialPort
from edge.sign import MAX_FIGURE, SignShows, VenueSign, alert_from_args
from edge.venue_sensors import PeopleCounter
from firmware_sim.modbus_line import ModbusLine
from firmware_sim.people_counter import PeopleCounterSim
from firmware_sim.sim_loop import SimLoop
from firmware_sim.venue_sign import VenueSignSim
from mqtt_contract.models import CapacityAlert, CounterData, DeviceHealth
from tests.firmware_sim.support import wait_for

FAST = PollOptions(poll_interval_s=0.02, timeout_s=0.05, degraded_after=3)
SLOW_SIGN = PollOptions(poll_interval_s=3600.0, timeout_s=0.05, degraded_after=3)
"""A sign read back only when asked (``poll_soon``): what it shows came from the alert."""


def alert(state: str, occupancy: int, capacity: int = 200) -> CapacityAlert:
    return CapacityAlert.model_validate(
        {
            "site": "venue-01",
            "venue": "venue-01",
            "state": state,
            "occupancy": occupancy,
            "capacity": capacity,
            "threshold_pct": 90.0,
            "at": datetime.now(UTC),
        }
    )


@pytest.fixture
def sim_sign() -> VenueSignSim:
    return VenueSignSim(3)


@pytest.fixture
def counter() -> PeopleCounterSim:
    return PeopleCounterSim(1, count_in=40, count_out=12)


@pytest.fixture
def line(tmp_path: Path, sim_sign: VenueSignSim, counter: PeopleCounterSim) -> Iterator[ModbusLine]:
    with SimLoop() as loop, ModbusLine(loop, tmp_path / "rs485", [counter, sim_sign]) as sim_line:
        yield sim_line


class Line:
    """The edge's side: one poller for the counter and the sign, as the agent builds it."""

    def __init__(self, link: Path, sign_options: PollOptions = FAST) -> None:
        self.sign = VenueSign("sign-1", 3)
        self.readings: list[Reading] = []
        self.poller = ModbusPoller(
            str(link),
            [(PeopleCounter("gate-1", 1), FAST), (self.sign, sign_options)],
            self.readings.append,
            backoff=Backoff(initial_s=0.01, max_s=0.05),
        )
        self.poller.start()

    def show(self, shows: SignShows) -> None:
        self.sign.show(shows)
        self.poller.poll_soon("sign-1")

    def health(self) -> DeviceHealth:
        return next(h for h in self.poller.health() if h.id == "sign-1")


@pytest.fixture
def edge_line(line: ModbusLine) -> Iterator[Line]:
    edge = Line(line.link)
    yield edge
    edge.poller.stop()


def test_an_alert_lights_the_sign_with_its_figures_and_a_clear_puts_it_out(
    edge_line: Line, sim_sign: VenueSignSim
) -> None:
    assert sim_sign.shows() == (False, 0, 0)
    edge_line.show(SignShows.of_alert(alert("raised", 188)))
    wait_for(lambda: sim_sign.shows() == (True, 188, 200), what="the lamp and the figures")
    assert edge_line.sign.wait_shown(5)
    assert edge_line.sign.shown() == SignShows(True, 188, 200)
    writes = sim_sign.state().writes
    assert writes == 2  # the figures, then the lamp: one request each
    edge_line.show(SignShows.of_alert(alert("cleared", 150)))
    wait_for(lambda: sim_sign.shows() == (False, 150, 200), what="the lamp out")
    # the counter on the same line is read all along, by the same poller
    assert any(
        isinstance(r.data, CounterData) and r.data.count_in == 40 for r in edge_line.readings
    )
    health = edge_line.health()
    assert (health.kind, health.state, health.frame_errors, health.timeouts) == ("sign", "ok", 0, 0)


def test_a_sign_that_shows_what_it_should_is_not_written_again(
    edge_line: Line, sim_sign: VenueSignSim
) -> None:
    edge_line.show(SignShows(True, 5, 6))
    assert edge_line.sign.wait_shown(5)
    writes = sim_sign.state().writes
    frames = edge_line.health().frames_ok
    wait_for(lambda: edge_line.health().frames_ok >= frames + 10, what="ten more read-backs")
    assert sim_sign.state().writes == writes
    edge_line.show(SignShows(True, 7, 6))  # only the figures changed: one write
    wait_for(lambda: sim_sign.shows() == (True, 7, 6), what="the new figure")
    assert sim_sign.state().writes == writes + 1


def test_figures_beyond_a_register_are_bounded(edge_line: Line, sim_sign: VenueSignSim) -> None:
    huge = alert("raised", 70_000, capacity=2**31 - 1)
    assert SignShows.of_alert(huge) == SignShows(True, MAX_FIGURE, MAX_FIGURE)
    edge_line.show(SignShows.of_alert(huge))
    wait_for(lambda: sim_sign.shows() == (True, 65_535, 65_535), what="the bounded figures")
    with pytest.raises(ValueError, match=r"0\.\.65535"):
        SignShows(True, 65_536, 10)
    assert SignShows.of_figures(False, -3, 10) == SignShows(False, 0, 10)


def test_a_silent_sign_is_retried_shown_degraded_and_written_when_it_answers(
    line: ModbusLine, edge_line: Line, sim_sign: VenueSignSim
) -> None:
    line.silence(3)
    edge_line.show(SignShows.of_alert(alert("raised", 190)))
    wait_for(lambda: edge_line.health().state == "degraded", what="the sign degraded")
    assert not edge_line.sign.wait_shown(0)
    assert sim_sign.state().writes == 0
    assert edge_line.health().timeouts >= 3
    line.speak(3)
    wait_for(lambda: sim_sign.shows() == (True, 190, 200), what="the write once it answers")
    wait_for(lambda: edge_line.health().state == "ok", what="the sign ok again")


def test_a_power_loss_blanks_the_sign_and_the_edge_writes_it_again(
    edge_line: Line, sim_sign: VenueSignSim
) -> None:
    edge_line.show(SignShows.of_alert(alert("raised", 181)))
    wait_for(lambda: sim_sign.shows() == (True, 181, 200), what="the alert shown")
    sim_sign.power_off()
    assert sim_sign.shows() == (False, 0, 0)
    sim_sign.power_on()
    wait_for(lambda: sim_sign.shows() == (True, 181, 200), what="the alert written again")


def test_a_new_alert_is_written_at_once_not_at_the_next_read_back(
    line: ModbusLine, sim_sign: VenueSignSim
) -> None:
    edge = Line(line.link, SLOW_SIGN)
    try:
        wait_for(lambda: edge.health().frames_ok >= 1, what="the first read-back")
        edge.show(SignShows(True, 9, 10))
        assert edge.sign.wait_shown(5), "poll_soon did not bring the sign's poll forward"
        assert sim_sign.shows() == (True, 9, 10)
    finally:
        edge.poller.stop()


def test_the_write_functions_against_the_simulated_sign(line: ModbusLine) -> None:
    """RtuMaster's 05 and 16 frames, answered by pymodbus's own server; a write outside the
    sign's registers is refused by the sign, a value outside 16 bits before it leaves."""
    stop = threading.Event()
    port = SerialPort(str(line.link), read_timeout_s=0.01)
    assert port.ensure_open(stop)
    master = RtuMaster(port)
    try:
        master.write_registers(3, 0, [12, 34], 0.5, stop)
        master.write_coil(3, 0, True, 0.5, stop)
        assert master.read_holding_registers(3, 0, 2, 0.5, stop) == [12, 34]
        assert master.read_coils(3, 0, 1, 0.5, stop) == [True]
        master.write_coil(3, 0, False, 0.5, stop)
        assert master.read_coils(3, 0, 1, 0.5, stop) == [False]
        with pytest.raises(RefusedError, match="illegal data address"):
            master.write_registers(3, 1, [1, 2], 0.5, stop)
        with pytest.raises(ValueError, match=r"0\.\.65535"):
            master.write_registers(3, 0, [65_536, 0], 0.5, stop)
        assert master.read_holding_registers(3, 0, 2, 0.5, stop) == [12, 34]
    finally:
        port.close()


def test_the_alert_commands_args_become_an_alert_or_say_why_not() -> None:
    now = datetime.now(UTC)
    made = alert_from_args(
        "venue-01", {"state": "raised", "occupancy": 70_000, "capacity": 200, "site": "x"}, now
    )
    assert (made.site, made.venue, made.state, made.at) == ("venue-01", "venue-01", "raised", now)
    assert SignShows.of_alert(made) == SignShows(True, MAX_FIGURE, 200)
    for bad, field in (
        ({"state": "raised", "capacity": 200}, "occupancy"),
        ({"state": "on", "occupancy": 1, "capacity": 200}, "state"),
        ({"state": "raised", "occupancy": -1, "capacity": 200}, "occupancy"),
        ({"state": "raised", "occupancy": 1, "capacity": 0}, "capacity"),
        ({"state": "raised", "occupancy": 1, "capacity": 2, "colour": "red"}, "colour"),
    ):
        with pytest.raises(ValueError, match=field):
            alert_from_args("venue-01", bad, now)
