"""The simulated Modbus line, read by pymodbus's own RTU client (an independent master, on
pyserial) through the pty: the register maps, power loss, wrap, and the faults the bridge makes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from pymodbus.client import ModbusSerialClient
from pymodbus.exceptions import ModbusIOException
from pymodbus.framer import FramerType

from edge import modbus_rtu
from firmware_sim.bay_sensor import BaySensorSim
from firmware_sim.modbus_line import ModbusLine
from firmware_sim.people_counter import (
    STATUS_LOW_VOLTAGE,
    PeopleCounterSim,
    counter_registers,
)
from firmware_sim.sim_loop import SimLoop


@pytest.fixture
def loop() -> Iterator[SimLoop]:
    with SimLoop() as sim_loop:
        yield sim_loop


@pytest.fixture
def counter() -> PeopleCounterSim:
    return PeopleCounterSim(1, count_in=123_456, count_out=100_000, boots=7)


@pytest.fixture
def bays() -> BaySensorSim:
    return BaySensorSim(2, bays=24)


@pytest.fixture
def line(
    loop: SimLoop, tmp_path: Path, counter: PeopleCounterSim, bays: BaySensorSim
) -> Iterator[ModbusLine]:
    with ModbusLine(loop, tmp_path / "by-id" / "rs485", [counter, bays], seed=1) as sim_line:
        yield sim_line


@pytest.fixture
def client(line: ModbusLine) -> Iterator[ModbusSerialClient]:
    master = ModbusSerialClient(
        str(line.link), framer=FramerType.RTU, baudrate=9600, timeout=0.2, retries=0
    )
    assert master.connect()
    yield master
    master.close()


def counter_values(client: ModbusSerialClient, unit: int = 1) -> tuple[int, int, int, int]:
    regs = client.read_input_registers(0, count=6, device_id=unit).registers
    return (regs[0] << 16 | regs[1], regs[2] << 16 | regs[3], regs[4], regs[5])


def test_counter_register_map(client: ModbusSerialClient, counter: PeopleCounterSim) -> None:
    assert counter_values(client) == (123_456, 100_000, 7, 0)
    counter.count(entered=10, left=3)
    counter.set_status(STATUS_LOW_VOLTAGE)
    assert counter_values(client) == (123_466, 100_003, 7, STATUS_LOW_VOLTAGE)
    assert counter_registers(0x0001_0002, 0xFFFF_0000, 3, 1) == [1, 2, 0xFFFF, 0, 3, 1]
    # Only the six input registers exist: anything else is an illegal address.
    assert client.read_input_registers(6, count=1, device_id=1).isError()
    assert client.read_holding_registers(0, count=1, device_id=1).isError()


def test_bay_bits(client: ModbusSerialClient, bays: BaySensorSim) -> None:
    bays.set_bay(1, True)
    bays.set_bay(24, True)
    bits = client.read_discrete_inputs(0, count=24, device_id=2).bits[:24]
    assert "".join("1" if b else "0" for b in bits) == bays.bays() == "1" + "0" * 22 + "1"
    assert bays.occupied == 2
    assert client.read_discrete_inputs(0, count=40, device_id=2).isError()


def test_power_loss_restarts_counters_and_adds_a_boot(
    client: ModbusSerialClient, counter: PeopleCounterSim, line: ModbusLine
) -> None:
    counter.power_off()
    assert not counter.count(entered=4)
    dropped = line.stats().dropped
    with pytest.raises(ModbusIOException, match="No response"):
        client.read_input_registers(0, count=6, device_id=1)
    assert line.stats().dropped == dropped + 1
    counter.power_on()
    assert counter_values(client) == (0, 0, 8, 0)
    assert counter.state().missed == 4


def test_counters_wrap_at_32_bits() -> None:
    near = PeopleCounterSim.near_wrap(5, before=1)
    near.count(entered=2, left=1)
    assert (near.state().count_in, near.state().count_out) == (1, 0)
    with pytest.raises(ValueError, match="count_in"):
        PeopleCounterSim(count_in=2**32)


def test_corrupted_answers_fail_their_crc(line: ModbusLine, counter: PeopleCounterSim) -> None:
    request = modbus_rtu.read_request(1, modbus_rtu.READ_INPUT_REGISTERS, 0, 6)
    with serial.Serial(str(line.link), timeout=0.2) as port:
        line.corrupt_next(1)
        port.write(request)
        bad = port.read(17)
        port.write(request)
        good = port.read(17)
    assert len(bad) == len(good) == 17
    with pytest.raises(modbus_rtu.FrameError, match="crc"):
        modbus_rtu.decode_response(request, bad)
    assert modbus_rtu.registers(modbus_rtu.decode_response(request, good)) == counter.registers()
    assert line.stats().corrupted == 1


def test_silence_and_unknown_units_are_dropped(line: ModbusLine) -> None:
    with serial.Serial(str(line.link), timeout=0.1) as port:
        port.write(modbus_rtu.read_request(9, modbus_rtu.READ_INPUT_REGISTERS, 0, 6))
        assert port.read(17) == b""  # nobody is unit 9 on this line
        line.silence(1)
        port.write(modbus_rtu.read_request(1, modbus_rtu.READ_INPUT_REGISTERS, 0, 6))
        assert port.read(17) == b""
        port.write(modbus_rtu.read_request(2, modbus_rtu.READ_DISCRETE_INPUTS, 0, 8))
        assert len(port.read(6)) == 6  # unit 2 still answers
        line.silence()
        port.write(modbus_rtu.read_request(2, modbus_rtu.READ_DISCRETE_INPUTS, 0, 8))
        assert port.read(6) == b""
        line.speak()
        port.write(modbus_rtu.read_request(1, modbus_rtu.READ_INPUT_REGISTERS, 0, 6))
        assert len(port.read(17)) == 17
    assert line.stats().dropped == 3
    with pytest.raises(ValueError, match="no unit 9"):
        line.silence(9)


def test_unplug_removes_the_path_and_close_cleans_up(loop: SimLoop, tmp_path: Path) -> None:
    link = tmp_path / "rs485"
    counter = PeopleCounterSim(1)
    line = ModbusLine(loop, link, [counter])
    line.unplug()
    assert not link.exists()
    line.replug()
    with serial.Serial(str(link), timeout=0.2) as port:
        port.write(modbus_rtu.read_request(1, modbus_rtu.READ_INPUT_REGISTERS, 0, 6))
        assert len(port.read(17)) == 17
    line.close()
    line.close()
    assert not link.is_symlink()


def test_a_line_needs_distinct_units(loop: SimLoop, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="distinct unit ids"):
        ModbusLine(loop, tmp_path / "x", [PeopleCounterSim(1), BaySensorSim(1)])
    assert not (tmp_path / "x").exists()
