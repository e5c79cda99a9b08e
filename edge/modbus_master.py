"""A Modbus RTU master on our own serial port: one request, one answer, told apart by what failed.

Why not pymodbus's client: its RTU client reports a response with a bad CRC only as "no response
received" after the full timeout, exactly like a silent device, so the heartbeat could not tell a
noisy line (``frame_errors``) from a dead device (``timeouts``); and it would open the port its
own way, beside ``SerialPort``'s reopen-with-backoff. The six function codes the venue's devices
use take little code.
"""

from __future__ import annotations

import threading
import time

from edge import modbus_rtu
from edge.modbus_rtu import FrameError, NoResponseError
from edge.serial_port import PortError, SerialPort


class RtuMaster:
    """Used by one thread (the poller of the port)."""

    def __init__(self, port: SerialPort) -> None:
        self.port = port

    def read_input_registers(
        self, unit: int, address: int, count: int, timeout_s: float, stop: threading.Event
    ) -> list[int]:
        request = modbus_rtu.read_request(unit, modbus_rtu.READ_INPUT_REGISTERS, address, count)
        return modbus_rtu.registers(self.transact(request, timeout_s, stop))

    def read_discrete_inputs(
        self, unit: int, address: int, count: int, timeout_s: float, stop: threading.Event
    ) -> list[bool]:
        request = modbus_rtu.read_request(unit, modbus_rtu.READ_DISCRETE_INPUTS, address, count)
        return modbus_rtu.bits(self.transact(request, timeout_s, stop), count)

    def read_coils(
        self, unit: int, address: int, count: int, timeout_s: float, stop: threading.Event
    ) -> list[bool]:
        request = modbus_rtu.read_request(unit, modbus_rtu.READ_COILS, address, count)
        return modbus_rtu.bits(self.transact(request, timeout_s, stop), count)

    def read_holding_registers(
        self, unit: int, address: int, count: int, timeout_s: float, stop: threading.Event
    ) -> list[int]:
        request = modbus_rtu.read_request(unit, modbus_rtu.READ_HOLDING_REGISTERS, address, count)
        return modbus_rtu.registers(self.transact(request, timeout_s, stop))

    def write_coil(
        self, unit: int, address: int, on: bool, timeout_s: float, stop: threading.Event
    ) -> None:
        """Returns once the device has echoed the write (its confirmation)."""
        self.transact(modbus_rtu.write_coil_request(unit, address, on), timeout_s, stop)

    def write_registers(
        self, unit: int, address: int, values: list[int], timeout_s: float, stop: threading.Event
    ) -> None:
        """Returns once the device has confirmed the address and count written."""
        self.transact(modbus_rtu.write_registers_request(unit, address, values), timeout_s, stop)

    def transact(self, request: bytes, timeout_s: float, stop: threading.Event) -> bytes:
        """Send ``request`` and return the data of its answer.

        Raises ``NoResponseError`` when nothing came back within ``timeout_s``, ``FrameError``
        for a bad or cut-short answer, ``RefusedError`` for a refusal, and ``PortError``
        when the port is closed or fails.
        """
        if not self.port.is_open:
            raise PortError(f"serial port {self.port.path} is not open")
        self.port.discard_input()
        self.port.write(request)
        deadline = time.monotonic() + timeout_s
        frame = b""
        need = modbus_rtu.EXCEPTION_LENGTH
        while len(frame) < need:
            if time.monotonic() >= deadline or stop.is_set():
                if not frame:
                    raise NoResponseError(f"no answer within {timeout_s:g} s")
                raise FrameError("truncated", f"{len(frame)} of {need} bytes")
            frame += self.port.read(stop)
            if len(frame) >= 2:
                need = modbus_rtu.expected_length(request, frame)
        # Bytes past the expected end are not ours: a late echo or noise; the next request
        # discards them.
        return modbus_rtu.decode_response(request, frame[:need])
