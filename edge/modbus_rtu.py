"""Modbus RTU frames for the read functions the venue sensors use (02 and 04): build, check, decode.

A frame is the unit address, the function code, the data and a CRC-16 (polynomial 0xA001,
initial 0xFFFF, low byte first). Responses are checked against the request that asked for them,
so a garbled answer is a ``FrameError`` naming why, never a wrong reading.
"""

from __future__ import annotations

import struct

READ_DISCRETE_INPUTS = 0x02
READ_INPUT_REGISTERS = 0x04
EXCEPTION_FLAG = 0x80

MAX_REGISTERS = 125
MAX_BITS = 2000
"""The most one request may read (Modbus application protocol, 6.2 and 6.4)."""

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


def read_request(unit: int, function: int, address: int, count: int) -> bytes:
    """A request for ``count`` inputs (function 02) or input registers (04) from ``address``."""
    if not 1 <= unit <= 247:
        raise ValueError(f"unit must be 1..247, got {unit}")
    limit = {READ_DISCRETE_INPUTS: MAX_BITS, READ_INPUT_REGISTERS: MAX_REGISTERS}.get(function)
    if limit is None:
        raise ValueError(f"unsupported function {function:#04x}")
    if not 1 <= count <= limit or not 0 <= address <= 0xFFFF - count + 1:
        raise ValueError(f"cannot read {count} from address {address} with {function:#04x}")
    return with_crc(struct.pack(">BBHH", unit, function, address, count))


def data_length(function: int, count: int) -> int:
    """Bytes of data in a good answer (after the byte count)."""
    return 2 * count if function == READ_INPUT_REGISTERS else (count + 7) // 8


def response_length(function: int, count: int) -> int:
    """Length of a good answer: address, function, byte count, data, CRC."""
    return 3 + data_length(function, count) + 2


def expected_length(request: bytes, head: bytes) -> int:
    """How long the answer to ``request`` will be, once its first two bytes (``head``) are in."""
    if len(head) >= 2 and head[1] & EXCEPTION_FLAG:
        return EXCEPTION_LENGTH
    _, function, _, count = struct.unpack(">BBHH", request[:6])
    return response_length(function, count)


def decode_response(request: bytes, frame: bytes) -> bytes:
    """The data bytes of a good answer to ``request``; raises ``FrameError`` or
    ``RefusedError`` otherwise."""
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
