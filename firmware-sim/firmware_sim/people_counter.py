"""A simulated people counter at a venue gate: Modbus RTU input registers, counters that wrap.

Register map (function 04, read input registers; documented in docs/devices.md):

====  ===========================================================
addr  meaning
====  ===========================================================
0-1   people in, 32-bit unsigned, high word first, wraps at 2**32
2-3   people out, 32-bit unsigned, high word first, wraps at 2**32
4     boot counter, 16-bit unsigned: +1 at every power-up
5     status bits (``STATUS_*``), 0 when all is well
====  ===========================================================

A power loss restarts both counters from zero and adds one to the boot counter; people who pass
while the power is off are not counted (``missed``). Thread-safe: the scenario or a test changes
the counts from any thread while the pymodbus server reads them on the simulator loop.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from pymodbus.constants import ExcCodes
from pymodbus.simulator import DataType, SimData, SimDevice

COUNTER_MOD = 2**32
BOOTS_MOD = 2**16

REG_IN = 0
REG_OUT = 2
REG_BOOTS = 4
REG_STATUS = 5
REGISTER_COUNT = 6

STATUS_SENSOR_FAULT = 0x0001
"""The beam or lens is obstructed: counts may be missing."""
STATUS_TAMPER = 0x0002
"""The housing was opened."""
STATUS_LOW_VOLTAGE = 0x0004
"""Supply voltage below the counter's threshold."""

READ_INPUT_REGISTERS = 4


@dataclass(frozen=True)
class CounterState:
    count_in: int
    count_out: int
    boots: int
    status: int
    powered: bool = True
    missed: int = 0
    """People who passed while the power was off."""


def counter_registers(count_in: int, count_out: int, boots: int, status: int) -> list[int]:
    """The six input registers for these values (the register map above)."""
    return [
        (count_in >> 16) & 0xFFFF,
        count_in & 0xFFFF,
        (count_out >> 16) & 0xFFFF,
        count_out & 0xFFFF,
        boots & 0xFFFF,
        status & 0xFFFF,
    ]


class PeopleCounterSim:
    def __init__(
        self,
        unit_id: int = 1,
        *,
        count_in: int = 0,
        count_out: int = 0,
        boots: int = 1,
        status: int = 0,
    ) -> None:
        if not 1 <= unit_id <= 247:
            raise ValueError(f"unit_id must be 1..247, got {unit_id}")
        for name, value, limit in (
            ("count_in", count_in, COUNTER_MOD),
            ("count_out", count_out, COUNTER_MOD),
            ("boots", boots, BOOTS_MOD),
            ("status", status, 2**16),
        ):
            if not 0 <= value < limit:
                raise ValueError(f"{name} must be 0..{limit - 1}, got {value}")
        self.unit_id = unit_id
        self._lock = threading.Lock()
        self._state = CounterState(count_in, count_out, boots, status)

    @classmethod
    def near_wrap(cls, unit_id: int = 1, before: int = 10, **kwargs: int) -> PeopleCounterSim:
        """A counter that has counted for years: both counters ``before`` counts short of 2**32."""
        if not 0 < before <= COUNTER_MOD:
            raise ValueError("before must be 1..2**32")
        start = COUNTER_MOD - before
        return cls(unit_id, count_in=start, count_out=start, **kwargs)

    def state(self) -> CounterState:
        with self._lock:
            return self._state

    @property
    def powered(self) -> bool:
        return self.state().powered

    def count(self, entered: int = 0, left: int = 0) -> bool:
        """People through the gate; False (and counted as missed) while the power is off."""
        if entered < 0 or left < 0:
            raise ValueError("entered and left must be >= 0")
        with self._lock:
            s = self._state
            if not s.powered:
                self._state = replace(s, missed=s.missed + entered + left)
                return False
            self._state = replace(
                s,
                count_in=(s.count_in + entered) % COUNTER_MOD,
                count_out=(s.count_out + left) % COUNTER_MOD,
            )
            return True

    def set_status(self, status: int) -> None:
        if not 0 <= status < 2**16:
            raise ValueError("status is a 16-bit register")
        with self._lock:
            self._state = replace(self._state, status=status)

    def power_off(self) -> None:
        """The supply fails: the counter stops answering and forgets its counts."""
        with self._lock:
            self._state = replace(self._state, powered=False)

    def power_on(self) -> None:
        """Power is back: counters restart from zero, the boot counter goes up by one."""
        with self._lock:
            s = self._state
            if s.powered:
                return
            self._state = replace(
                s, count_in=0, count_out=0, boots=(s.boots + 1) % BOOTS_MOD, powered=True
            )

    def power_cycle(self) -> None:
        """A power loss too short to notice on the line: restart at once."""
        self.power_off()
        self.power_on()

    def registers(self) -> list[int]:
        s = self.state()
        return counter_registers(s.count_in, s.count_out, s.boots, s.status)

    def sim_device(self) -> SimDevice:
        """The pymodbus device: input registers 0-5, filled from the state at each request."""
        return SimDevice(
            id=self.unit_id,
            simdata=(
                [SimData(0, values=[False] * 16, datatype=DataType.BITS)],
                [SimData(0, values=[False] * 16, datatype=DataType.BITS)],
                [SimData(0, count=1, datatype=DataType.INVALID)],
                [SimData(0, values=[0] * REGISTER_COUNT, datatype=DataType.REGISTERS)],
            ),
            action=self._on_request,
        )

    async def _on_request(  # noqa: PLR0917 - the signature pymodbus calls
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if function_code == READ_INPUT_REGISTERS:
            registers[:REGISTER_COUNT] = self.registers()  # the block starts at address 0
        return None
