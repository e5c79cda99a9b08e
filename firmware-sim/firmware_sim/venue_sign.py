"""A simulated venue sign at the gate: an alert lamp and a figures display, on the venue's RS-485 line.

Register map (documented in docs/devices.md):

======================  ====  =====================================================
table                   addr  meaning
======================  ====  =====================================================
coil (01 read, 05 set)  0     alert lamp: 1 lit ("客满 / Full"), 0 dark
holding (03 / 16)       0     occupancy shown, 0-65535
holding (03 / 16)       1     capacity shown, 0-65535
======================  ====  =====================================================

The sign keeps nothing over a power loss: it comes back dark with both figures 0, which is why
the edge reads it back and writes again what it should show. Thread-safe: a test reads the state
from any thread while the pymodbus server serves the line on the simulator loop.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from pymodbus.constants import ExcCodes
from pymodbus.simulator import DataType, SimData, SimDevice

from firmware_sim.bay_sensor import pack_bits

COIL_LAMP = 0
REG_OCCUPANCY = 0
REG_CAPACITY = 1
REGISTER_COUNT = 2

READ_COILS = 1
READ_HOLDING_REGISTERS = 3
WRITE_SINGLE_COIL = 5
WRITE_MULTIPLE_REGISTERS = 16


@dataclass(frozen=True)
class SignState:
    lamp: bool = False
    occupancy: int = 0
    capacity: int = 0
    powered: bool = True
    writes: int = 0
    """Write requests the sign carried out (05 and 16), for tests to count."""


class VenueSignSim:
    def __init__(self, unit_id: int = 3) -> None:
        if not 1 <= unit_id <= 247:
            raise ValueError(f"unit_id must be 1..247, got {unit_id}")
        self.unit_id = unit_id
        self._lock = threading.Lock()
        self._state = SignState()

    def state(self) -> SignState:
        with self._lock:
            return self._state

    @property
    def powered(self) -> bool:
        return self.state().powered

    def shows(self) -> tuple[bool, int, int]:
        """What a person at the gate sees: the lamp, the occupancy and the capacity."""
        s = self.state()
        return s.lamp, s.occupancy, s.capacity

    def power_off(self) -> None:
        """The sign goes dark and off the line, and forgets what it showed."""
        with self._lock:
            self._state = replace(self._state, lamp=False, occupancy=0, capacity=0, powered=False)

    def power_on(self) -> None:
        with self._lock:
            self._state = replace(self._state, powered=True)

    def sim_device(self) -> SimDevice:
        """The pymodbus device: coil 0 and holding registers 0-1, read from and written to the
        state at each request (the state, not pymodbus's block, is what the sign shows)."""
        return SimDevice(
            id=self.unit_id,
            simdata=(
                [SimData(0, values=[False] * 16, datatype=DataType.BITS)],
                [SimData(0, values=[False] * 16, datatype=DataType.BITS)],  # unused: must be bits
                [SimData(0, values=[0] * REGISTER_COUNT, datatype=DataType.REGISTERS)],
                [SimData(0, count=1, datatype=DataType.INVALID)],
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
        with self._lock:
            s = self._state
            if function_code == WRITE_SINGLE_COIL and values:
                self._state = replace(s, lamp=bool(values[0]), writes=s.writes + 1)
            elif function_code == WRITE_MULTIPLE_REGISTERS and values:
                shown = [s.occupancy, s.capacity]
                for i, value in enumerate(values):
                    shown[address + i] = int(value)
                self._state = replace(s, occupancy=shown[0], capacity=shown[1], writes=s.writes + 1)
            s = self._state
        # pymodbus answers from its own block (the coils' or the holding registers', whichever
        # the function addresses): keep that block a copy of the state
        if function_code in {READ_COILS, WRITE_SINGLE_COIL}:
            registers[:1] = pack_bits([s.lamp])
        else:
            registers[:REGISTER_COUNT] = [s.occupancy, s.capacity]
        return None
