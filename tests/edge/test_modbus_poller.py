"""The Modbus poller reading simulated venue sensors through real pty pairs, opened by pyserial.

The simulator (pymodbus's server behind a fault-injecting bridge) counts what it put on the line;
the poller's health must account for every fault, and its readings must be the registers' values.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge.modbus_poller import ModbusPoller, PollOptions, Reading
from edge.serial_port import Backoff
from edge.venue_sensors import BaySensor, PeopleCounter, VenueSensor
from firmware_sim.bay_sensor import BaySensorSim
from firmware_sim.modbus_line import ModbusLine
from firmware_sim.people_counter import STATUS_TAMPER, PeopleCounterSim
from firmware_sim.sim_loop import SimLoop
from mqtt_contract.models import BaysData, CounterData, DeviceHealth
from mqtt_contract.topics import EventKind
from tests.firmware_sim.support import wait_for

FAST = PollOptions(poll_interval_s=0.02, keepalive_s=60.0, timeout_s=0.05, degraded_after=3)


class Readings:
    """What on_reading received, appended from the poller thread."""

    def __init__(self) -> None:
        self.items: list[Reading] = []
        self._lock = threading.Lock()

    def __call__(self, reading: Reading) -> None:
        with self._lock:
            self.items.append(reading)

    def of(self, device_id: str) -> list[CounterData | BaysData]:
        with self._lock:
            return [r.data for r in self.items if r.device_id == device_id]

    def last(self, device_id: str) -> CounterData | BaysData | None:
        items = self.of(device_id)
        return items[-1] if items else None


@pytest.fixture
def loop() -> Iterator[SimLoop]:
    with SimLoop() as sim_loop:
        yield sim_loop


@pytest.fixture
def counter() -> PeopleCounterSim:
    return PeopleCounterSim(1, count_in=70_000, count_out=65_536, boots=4)


@pytest.fixture
def bays() -> BaySensorSim:
    return BaySensorSim(2, bays=20)


@pytest.fixture
def line(
    loop: SimLoop, tmp_path: Path, counter: PeopleCounterSim, bays: BaySensorSim
) -> Iterator[ModbusLine]:
    with ModbusLine(loop, tmp_path / "serial" / "venue-01-rs485", [counter, bays]) as sim_line:
        yield sim_line


@pytest.fixture
def readings() -> Readings:
    return Readings()


MakePoller = Callable[..., ModbusPoller]


@pytest.fixture
def make_poller(line: ModbusLine, readings: Readings) -> Iterator[MakePoller]:
    pollers: list[ModbusPoller] = []

    def make(sensors: list[VenueSensor] | None = None, options: PollOptions = FAST) -> ModbusPoller:
        sensors = sensors or [PeopleCounter("counter-1", 1), BaySensor("bays-1", 2, 20)]
        poller = ModbusPoller(
            str(line.link),
            [(s, options) for s in sensors],
            readings,
            backoff=Backoff(initial_s=0.01, max_s=0.05),
        )
        pollers.append(poller)
        poller.start()
        return poller

    yield make
    for poller in pollers:
        poller.stop()


def health_of(poller: ModbusPoller, device_id: str) -> DeviceHealth:
    return next(h for h in poller.health() if h.id == device_id)


def test_registers_arrive_as_the_contract_payloads(
    make_poller: MakePoller, readings: Readings, counter: PeopleCounterSim, bays: BaySensorSim
) -> None:
    counter.set_status(STATUS_TAMPER)
    bays.set_bays("10000000000000000011")
    poller = make_poller()
    wait_for(lambda: readings.last("bays-1") is not None and readings.last("counter-1") is not None)
    assert readings.last("counter-1") == CounterData(
        unit_id=1, device_boots=4, count_in=70_000, count_out=65_536, status=STATUS_TAMPER
    )
    assert readings.last("bays-1") == BaysData(unit_id=2, bays="10000000000000000011")
    kinds = {r.device_id: r.kind for r in readings.items}
    assert kinds == {"counter-1": EventKind.COUNTER, "bays-1": EventKind.BAYS}
    health = {h.id: h for h in poller.health()}
    assert health["counter-1"].kind == "people_counter"
    assert health["bays-1"].kind == "bay_sensor"
    assert all(h.state == "ok" and h.frames_ok >= 1 and h.last_frame_at for h in health.values())


def test_only_changes_and_keepalives_are_handed_over(
    make_poller: MakePoller, readings: Readings, counter: PeopleCounterSim
) -> None:
    keepalive = PollOptions(poll_interval_s=0.02, keepalive_s=0.5, timeout_s=0.05)
    poller = make_poller([PeopleCounter("counter-1", 1)], keepalive)
    wait_for(lambda: health_of(poller, "counter-1").frames_ok >= 10, what="ten polls")
    assert len(readings.of("counter-1")) == 1  # ten polls of the same registers: one reading
    counter.count(entered=3)
    wait_for(lambda: len(readings.of("counter-1")) == 2, what="the change")
    assert readings.of("counter-1")[-1].count_in == 70_003  # type: ignore[union-attr]
    wait_for(lambda: len(readings.of("counter-1")) == 3, what="a keepalive")
    assert readings.of("counter-1")[-1] == readings.of("counter-1")[-2]


def test_crc_errors_are_counted_retried_and_do_not_become_readings(
    make_poller: MakePoller, readings: Readings, line: ModbusLine, counter: PeopleCounterSim
) -> None:
    poller = make_poller([PeopleCounter("counter-1", 1)])
    wait_for(lambda: readings.last("counter-1") is not None)
    line.corrupt_next(1)
    counter.count(entered=1)
    wait_for(lambda: len(readings.of("counter-1")) == 2, what="the reading after a CRC error")
    health = health_of(poller, "counter-1")
    assert health.frame_errors == line.stats().corrupted == 1
    assert health.state == "ok"
    assert health.timeouts == 0

    line.crc_error_rate = 1.0  # a line so noisy nothing gets through
    wait_for(lambda: health_of(poller, "counter-1").state == "degraded", what="degraded")
    health = health_of(poller, "counter-1")
    assert health.frame_errors >= 3
    assert health.timeouts == 0
    counter.count(entered=1)
    line.crc_error_rate = 0.0
    wait_for(lambda: health_of(poller, "counter-1").state == "ok", what="recovery")
    wait_for(lambda: readings.last("counter-1").count_in == 70_002)  # type: ignore[union-attr]
    assert health_of(poller, "counter-1").frame_errors == line.stats().corrupted
    assert all(isinstance(r, CounterData) for r in readings.of("counter-1"))


def test_a_silent_device_times_out_and_is_degraded_alone(
    make_poller: MakePoller, readings: Readings, line: ModbusLine, bays: BaySensorSim
) -> None:
    poller = make_poller()
    wait_for(lambda: health_of(poller, "bays-1").frames_ok > 0)
    line.silence(2)
    wait_for(lambda: health_of(poller, "bays-1").state == "degraded", what="degraded")
    frames_before = health_of(poller, "counter-1").frames_ok
    wait_for(lambda: health_of(poller, "counter-1").frames_ok > frames_before + 3)
    assert health_of(poller, "counter-1").state == "ok"  # the other unit on the line answers
    silent = health_of(poller, "bays-1")
    assert silent.timeouts >= 3
    assert silent.frame_errors == 0
    bays.set_bay(5, True)
    line.speak(2)
    wait_for(lambda: health_of(poller, "bays-1").state == "ok", what="answers again")
    wait_for(lambda: readings.last("bays-1") == BaysData(unit_id=2, bays="0000100000" + "0" * 10))


def test_power_loss_shows_as_a_new_device_boot_with_counters_from_zero(
    make_poller: MakePoller, readings: Readings, counter: PeopleCounterSim
) -> None:
    poller = make_poller([PeopleCounter("counter-1", 1)])
    wait_for(lambda: readings.last("counter-1") is not None)
    counter.power_off()
    wait_for(lambda: health_of(poller, "counter-1").state == "degraded", what="off the line")
    counter.count(entered=2)  # walks past a dead counter: never counted
    counter.power_on()
    counter.count(entered=1)
    wait_for(lambda: readings.last("counter-1") != readings.of("counter-1")[0])
    assert readings.last("counter-1") == CounterData(
        unit_id=1, device_boots=5, count_in=1, count_out=0
    )
    assert counter.state().missed == 2
    assert health_of(poller, "counter-1").state == "ok"


def test_wrapping_counters_are_read_as_they_wrap(
    loop: SimLoop, tmp_path: Path, readings: Readings
) -> None:
    near = PeopleCounterSim.near_wrap(3, before=2)
    with ModbusLine(loop, tmp_path / "wrap", [near]) as wrap_line:
        poller = ModbusPoller(str(wrap_line.link), [(PeopleCounter("c", 3), FAST)], readings)
        poller.start()
        try:
            wait_for(lambda: readings.last("c") is not None)
            near.count(entered=5, left=1)
            wait_for(lambda: len(readings.of("c")) == 2)
        finally:
            poller.stop()
    first, second = readings.of("c")
    assert isinstance(first, CounterData)
    assert isinstance(second, CounterData)
    assert (first.count_in, first.count_out) == (2**32 - 2, 2**32 - 2)
    assert (second.count_in, second.count_out) == (3, 2**32 - 1)
    assert second.device_boots == first.device_boots


def test_a_pulled_cable_is_disconnected_then_polled_again(
    make_poller: MakePoller, readings: Readings, line: ModbusLine, counter: PeopleCounterSim
) -> None:
    poller = make_poller()
    wait_for(lambda: readings.last("counter-1") is not None)
    line.unplug()
    wait_for(lambda: all(h.state == "disconnected" for h in poller.health()), what="unplugged")
    assert all(h.port_errors == 1 for h in poller.health())
    counter.count(left=4)
    line.replug()
    wait_for(lambda: all(h.state == "ok" for h in poller.health()), what="replugged")
    wait_for(lambda: readings.last("counter-1").count_out == 65_540)  # type: ignore[union-attr]


def test_misconfigured_devices_are_refused_or_silent_not_fatal(
    make_poller: MakePoller, readings: Readings, line: ModbusLine
) -> None:
    poller = make_poller(
        [
            BaySensor("too-many-bays", 2, 40),  # the sensor has 20 (rounded up to 32)
            PeopleCounter("no-such-unit", 9),
            PeopleCounter("counter-1", 1),
        ]
    )
    wait_for(lambda: health_of(poller, "too-many-bays").state == "degraded", what="refusals")
    wait_for(lambda: health_of(poller, "no-such-unit").state == "degraded", what="timeouts")
    assert health_of(poller, "too-many-bays").frame_errors >= 3
    assert health_of(poller, "no-such-unit").timeouts >= 3
    assert health_of(poller, "counter-1").state == "ok"
    assert {r.device_id for r in readings.items} == {"counter-1"}


def test_a_failing_hand_over_is_offered_again(line: ModbusLine) -> None:
    offered: list[Reading] = []

    def flaky(reading: Reading) -> None:
        offered.append(reading)
        if len(offered) == 1:
            raise OSError("disk full")

    poller = ModbusPoller(str(line.link), [(PeopleCounter("counter-1", 1), FAST)], flaky)
    poller.start()
    try:
        wait_for(lambda: len(offered) >= 2, what="the reading offered again")
    finally:
        poller.stop()
    assert offered[0].data == offered[1].data
