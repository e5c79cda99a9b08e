"""Modbus RTU frames: CRC, requests, and answers checked against the request that asked."""

from __future__ import annotations

import pytest

from edge import modbus_rtu
from edge.modbus_rtu import FrameError, RefusedError


def test_crc_of_a_known_frame() -> None:
    # Read 6 input registers from unit 1, address 0: the CRC every Modbus tool computes.
    assert modbus_rtu.read_request(1, 4, 0, 6) == bytes.fromhex("0104000000067008")
    assert modbus_rtu.crc16(b"123456789") == 0x4B37  # CRC-16/MODBUS check value


def test_registers_round_trip() -> None:
    request = modbus_rtu.read_request(7, modbus_rtu.READ_INPUT_REGISTERS, 0, 2)
    answer = modbus_rtu.with_crc(bytes([7, 4, 4, 0x12, 0x34, 0xFF, 0xFE]))
    assert modbus_rtu.registers(modbus_rtu.decode_response(request, answer)) == [0x1234, 0xFFFE]


def test_bits_are_least_significant_first() -> None:
    request = modbus_rtu.read_request(2, modbus_rtu.READ_DISCRETE_INPUTS, 0, 10)
    answer = modbus_rtu.with_crc(bytes([2, 2, 2, 0b0000_0101, 0b10]))
    data = modbus_rtu.decode_response(request, answer)
    assert modbus_rtu.bits(data, 10) == [True, False, True] + [False] * 6 + [True]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (bytes([1, 4, 2, 0, 5]) + b"\x00\x00", "crc"),
        (modbus_rtu.with_crc(bytes([9, 4, 2, 0, 5])), "address"),
        (modbus_rtu.with_crc(bytes([1, 3, 2, 0, 5])), "function"),
        (modbus_rtu.with_crc(bytes([1, 4, 4, 0, 5, 0, 6])), "length"),
        (b"\x01\x04", "truncated"),
    ],
)
def test_bad_answers_are_frame_errors(answer: bytes, reason: str) -> None:
    request = modbus_rtu.read_request(1, modbus_rtu.READ_INPUT_REGISTERS, 0, 1)
    with pytest.raises(FrameError) as info:
        modbus_rtu.decode_response(request, answer)
    assert info.value.reason == reason


def test_an_exception_answer_is_a_refusal() -> None:
    request = modbus_rtu.read_request(1, modbus_rtu.READ_DISCRETE_INPUTS, 0, 100)
    head = bytes([1, 0x82])
    assert modbus_rtu.expected_length(request, head) == 5
    with pytest.raises(RefusedError, match="illegal data address") as info:
        modbus_rtu.decode_response(request, modbus_rtu.with_crc(head + b"\x02"))
    assert info.value.code == 2


@pytest.mark.parametrize(
    ("unit", "function", "address", "count"),
    [(0, 4, 0, 1), (248, 4, 0, 1), (1, 3, 0, 1), (1, 4, 0, 126), (1, 2, 0, 2001), (1, 4, 65535, 2)],
)
def test_requests_outside_the_protocol_are_refused(
    unit: int, function: int, address: int, count: int
) -> None:
    with pytest.raises(ValueError, match=r"unit|function|cannot read"):
        modbus_rtu.read_request(unit, function, address, count)
