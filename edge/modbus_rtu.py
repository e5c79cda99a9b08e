"""Modbus RTU frames for what the venue devices use: reads (01, 02, 03, 04) for the sensors and the
sign's read-back, and the two writes the sign takes (05 write single coil, 16 write multiple
registers): build, check, decode.

A frame is the unit address, the function code, the data and a CRC-16 (polynomial 0xA001,
initial 0xFFFF, low byte first). Responses are checked against the request that asked for them,
so a garbled answer is a ``FrameError`` naming why, never a wrong reading (or a write taken for
done when the device did something else).
"""

from __future__ import annotations

import struct

READ_COILS = 0x01
READ_DISCRETE_INPUTS = 0x02
READ_HOLDING_REGISTERS = 0x03
READ_INPUT_REGISTERS = 0x04
WRITE_SINGLE_COIL = 0x05
WRITE_MULTIPLE_REGISTERS = 0x10
EXCEPTION_FLAG = 0x80

MAX_REGISTERS = 125
MAX_BITS = 2000
"""The most one request may read (Modbus application protocol, 6.1 to 6.4)."""
MAX_WRITE_REGISTERS = 123
"""The most one request may write (6.12): 246 data bytes in a 256-byte frame."""

READ_LIMITS = {
    READ_COILS: MAX_BITS,
    READ_DISCRETE_INPUTS: MAX_BITS,
    READ_HOLDING_REGISTERS: MAX_REGISTERS,
    READ_INPUT_REGISTERS: MAX_REGISTERS,
}
REGISTER_READS = {READ_HOLDING_REGISTERS, READ_INPUT_REGISTERS}
WRITES = {WRITE_SINGLE_COIL, WRITE_MULTIPLE_REGISTERS}

COIL_ON, COIL_OFF = 0xFF00, 0x0000
"""The two values function 05 allows; any other is an illegal data value."""
WRITE_ANSWER_LENGTH = 8
"""A write is answered with its own address, function, address and value (or count), and CRC."""

EXCEPTION_LENGTH = 5
"""Address, function | 0x80, exception code, CRC."""

EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def with_crc(body: bytes) -> bytes:
    return body + struct.pack("<H", crc16(body))


class ModbusError(Exception):
    """A request that did not give a good reading."""


class NoResponseError(ModbusError):
    """No byte of an answer arrived in time: the device is silent (or absent, or off)."""


class FrameError(ModbusError):
    """Something arrived but it is not a good answer to the request: bad CRC, cut short, ..."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class RefusedError(ModbusError):
    """The device understood and refused (e.g. an address it does not have)."""

    def __init__(self, function: int, code: int) -> None:
        name = EXCEPTION_NAMES.get(code, "unknown exception")
        super().__init__(f"function {function:#04x}: exception {code} ({name})")
        self.code = code


def _check_unit(unit: int) -> None:
    if not 1 <= unit <= 247:
        raise ValueError(f"unit must be 1..247, got {unit}")


def read_request(unit: int, function: int, address: int, count: int) -> bytes:
    """A request for ``count`` coils (01), inputs (02), holding registers (03) or input
    registers (04) from ``address``."""
    _check_unit(unit)
    limit = READ_LIMITS.get(function)
    if limit is None:
        raise ValueError(f"unsupported function {function:#04x}")
    if not 1 <= count <= limit or not 0 <= address <= 0xFFFF - count + 1:
        raise ValueError(f"cannot read {count} from address {address} with {function:#04x}")
    return with_crc(struct.pack(">BBHH", unit, function, address, count))


def write_coil_request(unit: int, address: int, on: bool) -> bytes:
    """Function 05: set one coil on or off."""
    _check_unit(unit)
    if not 0 <= address <= 0xFFFF:
        raise ValueError(f"coil address must be 0..65535, got {address}")
    value = COIL_ON if on else COIL_OFF
    return with_crc(struct.pack(">BBHH", unit, WRITE_SINGLE_COIL, address, value))


def write_registers_request(unit: int, address: int, values: list[int]) -> bytes:
    """Function 16: write ``values`` (each 0..65535) to the holding registers from ``address``.

    A value outside a register's range is refused here, not cut to 16 bits on the wire: a
    caller that wants a bounded figure bounds it itself and says so."""
    _check_unit(unit)
    count = len(values)
    if not 1 <= count <= MAX_WRITE_REGISTERS or not 0 <= address <= 0xFFFF - count + 1:
        raise ValueError(f"cannot write {count} registers from address {address}")
    bad = [v for v in values if not 0 <= v <= 0xFFFF]
    if bad:
        raise ValueError(f"a register holds 0..65535, got {bad[0]}")
    head = struct.pack(">BBHHB", unit, WRITE_MULTIPLE_REGISTERS, address, count, 2 * count)
    return with_crc(head + struct.pack(f">{count}H", *values))


def data_length(function: int, count: int) -> int:
    """Bytes of data in a good answer to a read (after the byte count)."""
    return 2 * count if function in REGISTER_READS else (count + 7) // 8


def response_length(function: int, count: int) -> int:
    """Length of a good answer: address, function, byte count, data, CRC."""
    return 3 + data_length(function, count) + 2


def expected_length(request: bytes, head: bytes) -> int:
    """How long the answer to ``request`` will be, once its first two bytes (``head``) are in."""
    if len(head) >= 2 and head[1] & EXCEPTION_FLAG:
        return EXCEPTION_LENGTH
    _, function, _, count = struct.unpack(">BBHH", request[:6])
    if function in WRITES:
        return WRITE_ANSWER_LENGTH
    return response_length(function, count)


def decode_response(request: bytes, frame: bytes) -> bytes:
    """The data bytes of a good answer to ``request`` (for a write: the address and value or
    count it echoes); raises ``FrameError`` or ``RefusedError`` otherwise."""
    unit, function, _, count = struct.unpack(">BBHH", request[:6])
    if len(frame) < EXCEPTION_LENGTH:
        raise FrameError("truncated", f"{len(frame)} bytes")
    body, crc = frame[:-2], struct.unpack("<H", frame[-2:])[0]
    if crc16(body) != crc:
        raise FrameError("crc", f"CRC {crc:#06x}, computed {crc16(body):#06x}")
    if frame[0] != unit:
        raise FrameError("address", f"answer from unit {frame[0]}, asked unit {unit}")
    if frame[1] == function | EXCEPTION_FLAG and len(frame) == EXCEPTION_LENGTH:
        raise RefusedError(function, frame[2])
    if frame[1] != function:
        raise FrameError("function", f"function {frame[1]:#04x} in answer to {function:#04x}")
    if function in WRITES:
        if len(frame) != WRITE_ANSWER_LENGTH or frame[2:6] != request[2:6]:
            raise FrameError("echo", f"{frame.hex()} does not confirm {request[:6].hex()}")
        return frame[2:6]
    size = data_length(function, count)
    if len(frame) != response_length(function, count) or frame[2] != size:
        raise FrameError("length", f"{len(frame)} bytes, byte count {frame[2]}, expected {size}")
    return frame[3 : 3 + size]


def registers(data: bytes) -> list[int]:
    """16-bit registers, big-endian on the wire."""
    return list(struct.unpack(f">{len(data) // 2}H", data))


def bits(data: bytes, count: int) -> list[bool]:
    """Inputs in address order: the first in the least significant bit of the first byte."""
    return [bool(data[i // 8] >> (i % 8) & 1) for i in range(count)]
