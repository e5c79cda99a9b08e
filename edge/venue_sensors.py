"""The venue sensors' register maps, read into the contract's payloads (see docs/devices.md).

People counter, function 04 (input registers) 0-5: people in (32-bit, high word first), people out
(32-bit, high word first), boot counter, status. Bay sensor bus, function 02 (discrete inputs):
input ``n`` is bay ``n + 1``, 1 while occupied.
"""

from __future__ import annotations

import threading
from typing import Protocol

from edge.modbus_master import RtuMaster
from mqtt_contract.models import BaysData, CounterData, DeviceKind
from mqtt_contract.topics import EventKind

COUNTER_REGISTERS = 6
MAX_BAYS = 2000
"""As many discrete inputs as one request reads; a larger car park has several bay sensors."""


class VenueSensor(Protocol):
    """One Modbus device of a venue: what it is, and how to read it into a payload."""

    device_id: str
    unit_id: int
    kind: DeviceKind
    event_kind: EventKind

    def read(
        self, master: RtuMaster, timeout_s: float, stop: threading.Event
    ) -> CounterData | BaysData: ...


class PeopleCounter:
    kind: DeviceKind = "people_counter"
    event_kind = EventKind.COUNTER

    def __init__(self, device_id: str, unit_id: int) -> None:
        self.device_id, self.unit_id = device_id, unit_id

    def read(self, master: RtuMaster, timeout_s: float, stop: threading.Event) -> CounterData:
        regs = master.read_input_registers(self.unit_id, 0, COUNTER_REGISTERS, timeout_s, stop)
        return CounterData(
            unit_id=self.unit_id,
            count_in=regs[0] << 16 | regs[1],
            count_out=regs[2] << 16 | regs[3],
            device_boots=regs[4],
            status=regs[5],
        )


class BaySensor:
    kind: DeviceKind = "bay_sensor"
    event_kind = EventKind.BAYS

    def __init__(self, device_id: str, unit_id: int, bays: int) -> None:
        if not 1 <= bays <= MAX_BAYS:
            raise ValueError(f"bays must be 1..{MAX_BAYS}, got {bays}")
        self.device_id, self.unit_id, self.bays = device_id, unit_id, bays

    def read(self, master: RtuMaster, timeout_s: float, stop: threading.Event) -> BaysData:
        occupied = master.read_discrete_inputs(self.unit_id, 0, self.bays, timeout_s, stop)
        return BaysData(unit_id=self.unit_id, bays="".join("1" if b else "0" for b in occupied))
