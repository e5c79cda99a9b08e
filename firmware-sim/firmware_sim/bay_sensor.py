"""A simulated parking-bay sensor bus: one discrete input per bay, 1 while a vehicle stands there.

Register map (function 02, read discrete inputs): input ``n`` (0-based) is bay ``n + 1``. Reading
past the last bay (rounded up to a multiple of 16) is an illegal-address exception. The bits are
sensed, not counted, so a power loss loses nothing but the time it is off the line.
"""

from __future__ import annotations

import threading

from pymodbus.constants import ExcCodes
from pymodbus.simulator import DataType, SimData, SimDevice

MAX_BAYS = 2000
"""As many discrete inputs as one Modbus request can read."""

READ_DISCRETE_INPUTS = 2


def pack_bits(bits: list[bool]) -> list[int]:
    """Bits as 16-bit words, bit 0 in the least significant bit (pymodbus's block layout)."""
    words = []
    for first in range(0, len(bits), 16):
        word = 0
        for i, bit in enumerate(bits[first : first + 16]):
            if bit:
                word |= 1 << i
        words.append(word)
    return words


class BaySensorSim:
    def __init__(self, unit_id: int = 2, bays: int = 16) -> None:
        if not 1 <= unit_id <= 247:
            raise ValueError(f"unit_id must be 1..247, got {unit_id}")
        if not 1 <= bays <= MAX_BAYS:
            raise ValueError(f"bays must be 1..{MAX_BAYS}, got {bays}")
        self.unit_id = unit_id
        self.bay_count = bays
        self._lock = threading.Lock()
        self._bits = [False] * bays
        self._powered = True

    @property
    def powered(self) -> bool:
        with self._lock:
            return self._powered

    def bays(self) -> str:
        """``"1"`` for an occupied bay, bay 1 first (the contract's ``BaysData.bays``)."""
        with self._lock:
            return "".join("1" if b else "0" for b in self._bits)

    @property
    def occupied(self) -> int:
        with self._lock:
            return sum(self._bits)

    def set_bay(self, bay: int, occupied: bool) -> None:
        """``bay`` is 1-based, as painted on the ground."""
        if not 1 <= bay <= self.bay_count:
            raise ValueError(f"bay must be 1..{self.bay_count}, got {bay}")
        with self._lock:
            self._bits[bay - 1] = occupied

    def set_bays(self, pattern: str) -> None:
        if len(pattern) != self.bay_count or set(pattern) - {"0", "1"}:
            raise ValueError(f"pattern must be {self.bay_count} characters of 0 and 1")
        with self._lock:
            self._bits = [c == "1" for c in pattern]

    def free_bays(self) -> list[int]:
        with self._lock:
            return [i + 1 for i, b in enumerate(self._bits) if not b]

    def power_off(self) -> None:
        with self._lock:
            self._powered = False

    def power_on(self) -> None:
        with self._lock:
            self._powered = True

    def sim_device(self) -> SimDevice:
        padded = -(-self.bay_count // 16) * 16
        return SimDevice(
            id=self.unit_id,
            simdata=(
                [SimData(0, values=[False] * 16, datatype=DataType.BITS)],
                [SimData(0, values=[False] * padded, datatype=DataType.BITS)],
                [SimData(0, count=1, datatype=DataType.INVALID)],
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
        if function_code == READ_DISCRETE_INPUTS:
            with self._lock:
                words = pack_bits(self._bits + [False] * (-len(self._bits) % 16))
            registers[: len(words)] = words  # the block starts at bay 1 (address 0)
        return None
