"""Modbus RTU frames: CRC, requests, and answers checked against the request that asked."""

from __future__ import annotations

import pytest
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ModbusPDU
from pymodbus.pdu.bit_message import ReadCoilsRequest, WriteSingleCoilRequest
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    WriteMultipleRegistersRequest,
)

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
    [(0, 4, 0, 1), (248, 4, 0, 1), (1, 6, 0, 1), (1, 4, 0, 126), (1, 2, 0, 2001), (1, 4, 65535, 2)],
)
def test_requests_outside_the_protocol_are_refused(
    unit: int, function: int, address: int, count: int
) -> None:
    with pytest.raises(ValueError, match=r"unit|function|cannot read"):
        modbus_rtu.read_request(unit, function, address, count)


def test_a_known_write_frame() -> None:
    # Coil 0 of unit 1 on: the example frame of Modbus tool manuals.
    assert modbus_rtu.write_coil_request(1, 0, True) == bytes.fromhex("01050000ff008c3a")


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (
            modbus_rtu.write_coil_request(3, 0, True),
            WriteSingleCoilRequest(address=0, bits=[True], dev_id=3),
        ),
        (
            modbus_rtu.write_coil_request(3, 7, False),
            WriteSingleCoilRequest(address=7, bits=[False], dev_id=3),
        ),
        (
            modbus_rtu.write_registers_request(3, 0, [188, 200]),
            WriteMultipleRegistersRequest(address=0, registers=[188, 200], dev_id=3),
        ),
        (
            modbus_rtu.write_registers_request(247, 100, [0, 0xFFFF, 0x1234]),
            WriteMultipleRegistersRequest(address=100, registers=[0, 0xFFFF, 0x1234], dev_id=247),
        ),
        (
            modbus_rtu.read_request(3, modbus_rtu.READ_COILS, 0, 1),
            ReadCoilsRequest(address=0, count=1, dev_id=3),
        ),
        (
            modbus_rtu.read_request(3, modbus_rtu.READ_HOLDING_REGISTERS, 0, 2),
            ReadHoldingRegistersRequest(address=0, count=2, dev_id=3),
        ),
    ],
)
def test_frames_match_an_independent_modbus_stack(ours: bytes, theirs: ModbusPDU) -> None:
    """pymodbus's own RTU framer builds the same bytes, CRC included."""
    assert ours == FramerRTU(DecodePDU(False)).buildFrame(theirs)


def test_a_write_is_done_only_when_the_device_echoes_it() -> None:
    request = modbus_rtu.write_registers_request(3, 0, [188, 200])
    echo = modbus_rtu.with_crc(bytes.fromhex("031000000002"))
    assert modbus_rtu.expected_length(request, echo[:2]) == 8
    assert modbus_rtu.decode_response(request, echo) == bytes.fromhex("00000002")
    wrong_count = modbus_rtu.with_crc(bytes.fromhex("031000000001"))
    with pytest.raises(FrameError) as info:
        modbus_rtu.decode_response(request, wrong_count)
    assert info.value.reason == "echo"
    coil = modbus_rtu.write_coil_request(3, 0, True)
    with pytest.raises(FrameError, match="does not confirm"):
        modbus_rtu.decode_response(coil, modbus_rtu.with_crc(bytes.fromhex("030500000000")))
    with pytest.raises(RefusedError, match="illegal data value"):
        modbus_rtu.decode_response(coil, modbus_rtu.with_crc(bytes([3, 0x85, 3])))
    with pytest.raises(FrameError) as info:
        modbus_rtu.decode_response(coil, coil[:-1] + bytes([coil[-1] ^ 1]))
    assert info.value.reason == "crc"


@pytest.mark.parametrize(
    ("unit", "address", "values", "message"),
    [
        (3, 0, [65_536], "0..65535"),
        (3, 0, [-1, 2], "0..65535"),
        (3, 0, [], "cannot write 0"),
        (3, 0, [0] * 124, "cannot write 124"),
        (3, 65_535, [1, 2], "cannot write 2"),
        (0, 0, [1], "unit"),
    ],
)
def test_writes_outside_the_protocol_are_refused(
    unit: int, address: int, values: list[int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        modbus_rtu.write_registers_request(unit, address, values)


def test_a_coil_address_outside_the_protocol_is_refused() -> None:
    with pytest.raises(ValueError, match="coil address"):
        modbus_rtu.write_coil_request(1, 65_536, True)
