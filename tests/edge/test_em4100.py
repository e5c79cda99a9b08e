"""The frame parser against the simulator's frames and faults, whole and in pieces."""

from __future__ import annotations

import itertools
import random
import re
from functools import reduce
from operator import xor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.em4100 import ETX, STX, FrameError, FrameParser
from firmware_sim import em4100 as sim

CARD = "0102030405"
OTHER = "AABBCCDDEE"


def feed_bytewise(parser: FrameParser, data: bytes) -> list[str]:
    return [card for i in range(len(data)) for card in parser.feed(data[i : i + 1])]


def errors(parser: FrameParser) -> dict[FrameError, int]:
    """Only the reasons that occurred."""
    return {reason: n for reason, n in parser.errors.items() if n}


def test_good_frame_gives_its_card() -> None:
    parser = FrameParser()
    assert parser.feed(sim.encode_frame(CARD)) == [CARD]
    assert parser.frames_ok == 1
    assert parser.error_count == 0


def test_frame_split_into_single_bytes() -> None:
    parser = FrameParser()
    assert feed_bytewise(parser, sim.encode_frame(OTHER) * 3) == [OTHER] * 3
    assert parser.error_count == 0


def test_lower_case_digits_are_normalised() -> None:
    frame = bytes([STX]) + b"aabbccddee" + f"{sim.checksum(OTHER):02x}".encode() + bytes([ETX])
    assert FrameParser().feed(frame) == [OTHER]


def test_bad_checksum_is_counted_not_read() -> None:
    parser = FrameParser()
    assert parser.feed(sim.bad_checksum_frame(CARD) + sim.encode_frame(OTHER)) == [OTHER]
    assert errors(parser) == {FrameError.BAD_CHECKSUM: 1}


def test_non_hex_digit_drops_the_frame_and_its_tail_once() -> None:
    frame = bytearray(sim.encode_frame(CARD))
    frame[4] = ord("G")
    parser = FrameParser()
    assert parser.feed(bytes(frame) + sim.encode_frame(OTHER)) == [OTHER]
    assert errors(parser) == {FrameError.BAD_DIGIT: 1}


def test_stx_mid_frame_resynchronises_on_the_new_frame() -> None:
    parser = FrameParser()
    data = sim.half_frame(CARD, keep=7) + sim.encode_frame(OTHER)
    assert feed_bytewise(parser, data) == [OTHER]
    assert errors(parser) == {FrameError.HALF_FRAME: 1}


def test_early_etx_is_a_half_frame() -> None:
    parser = FrameParser()
    assert parser.feed(sim.half_frame(CARD, keep=5) + bytes([ETX])) == []
    assert errors(parser) == {FrameError.HALF_FRAME: 1}
    # The ETX closed the broken frame: what follows is new noise.
    parser.feed(b"zz")
    assert errors(parser) == {FrameError.HALF_FRAME: 1, FrameError.NOISE: 1}


def test_missing_etx_is_a_half_frame_and_its_tail_is_not_noise() -> None:
    frame = sim.encode_frame(CARD)
    parser = FrameParser()
    assert parser.feed(frame[:-1] + b"XYZ" + frame) == [CARD]
    assert errors(parser) == {FrameError.HALF_FRAME: 1}
    assert parser.noise_bytes == 3


def test_quiet_line_ends_a_half_frame() -> None:
    parser = FrameParser()
    parser.feed(sim.half_frame(CARD, keep=11))
    assert parser.error_count == 0  # the rest may still come
    parser.idle()
    assert errors(parser) == {FrameError.HALF_FRAME: 1}
    parser.idle()
    assert parser.error_count == 1


def test_noise_counts_once_per_run_and_every_byte() -> None:
    parser = FrameParser()
    assert parser.feed(b"\x00\xff\x13") == []
    assert parser.feed(b"\x80") == []  # the same run, still going
    assert errors(parser) == {FrameError.NOISE: 1}
    parser.idle()
    parser.feed(b"\x00")
    assert errors(parser) == {FrameError.NOISE: 2}
    assert parser.noise_bytes == 5


def test_noise_between_frames() -> None:
    parser = FrameParser()
    data = sim.encode_frame(CARD) + b"\r\n\x00" + sim.encode_frame(CARD)
    assert parser.feed(data) == [CARD, CARD]
    assert errors(parser) == {FrameError.NOISE: 1}


def test_reset_forgets_a_partial_frame_without_counting_it() -> None:
    parser = FrameParser()
    parser.feed(sim.half_frame(CARD, keep=6))
    parser.reset()
    assert parser.feed(sim.encode_frame(CARD)[7:]) == []  # a tail alone is never a card
    assert parser.error_count == 1  # that tail was noise; the dropped half frame is not counted
    assert errors(parser) == {FrameError.NOISE: 1}


@pytest.mark.parametrize(
    ("card", "check"),
    [("0102030405", 0x01), ("0000000000", 0x00), ("FFFFFFFFFF", 0xFF), ("0F0368568B", 0xB9)],
)
def test_checksum_known_values(card: str, check: int) -> None:
    assert sim.checksum(card) == check
    frame = sim.encode_frame(card)
    assert frame == b"\x02" + card.encode() + f"{check:02X}".encode() + b"\x03"
    assert FrameParser().feed(frame) == [card]


# --- properties ---------------------------------------------------------------------------------

cards = st.binary(min_size=5, max_size=5).map(lambda b: b.hex().upper())
# Noise as a line shows it between frames; STX (which starts a frame) is covered by the oracle test.
line_noise = st.binary(min_size=1, max_size=20).filter(lambda b: STX not in b)


@st.composite
def faulty_streams(draw: st.DrawFn) -> tuple[list[bytes], list[str], dict[FrameError, int]]:
    """Segments of good frames and faults, the cards that must come out, the errors expected."""
    segments: list[bytes] = []
    good: list[str] = []
    expected = dict.fromkeys(FrameError, 0)
    for kind in draw(st.lists(st.sampled_from(["good", "noise", "checksum", "half"]), max_size=12)):
        card = draw(cards)
        if kind == "good":
            segments.append(sim.encode_frame(card))
            good.append(card)
        elif kind == "noise":
            segments.append(draw(line_noise))
            expected[FrameError.NOISE] += 1
        elif kind == "checksum":
            segments.append(sim.bad_checksum_frame(card))
            expected[FrameError.BAD_CHECKSUM] += 1
        else:
            segments.append(sim.half_frame(card, keep=draw(st.integers(1, 11))))
            expected[FrameError.HALF_FRAME] += 1
    return segments, good, expected


@settings(database=None, deadline=None)
@given(faulty_streams(), st.randoms(use_true_random=False))
def test_faults_never_make_cards_and_are_counted_by_reason(
    stream: tuple[list[bytes], list[str], dict[FrameError, int]], rnd: random.Random
) -> None:
    """Each segment arrives in random pieces, with a quiet line between segments."""
    segments, good, expected = stream
    parser = FrameParser()
    out: list[str] = []
    for segment in segments:
        for piece in _split(segment, rnd):
            out += parser.feed(piece)
        parser.idle()
    assert out == good
    assert parser.errors == expected
    assert parser.frames_ok == len(good)


@settings(database=None, deadline=None)
@given(faulty_streams(), st.randoms(use_true_random=False))
def test_good_frames_survive_any_garbage_before_them(
    stream: tuple[list[bytes], list[str], dict[FrameError, int]], rnd: random.Random
) -> None:
    """No quiet line at all: faults run straight into the next frame.

    Every good frame still comes out, in order. (Noise right after a half frame can, in theory,
    complete it into a frame with a matching checksum: the protocol cannot tell, and the oracle
    test covers what the parser does then.)
    """
    segments, good, _ = stream
    data = b"".join(segments)
    parser = FrameParser()
    out: list[str] = []
    for piece in _split(data, rnd):
        out += parser.feed(piece)
    rest = iter(out)
    assert all(card in rest for card in good)  # good is a subsequence of out
    assert out == _oracle(data)


_FRAME_RE = re.compile(rb"\x02([0-9A-Fa-f]{10})([0-9A-Fa-f]{2})\x03")


def _oracle(data: bytes) -> list[str]:
    """Every STX-delimited, well-formed frame with a matching checksum, and nothing else."""
    return [
        m[1].decode().upper()
        for m in _FRAME_RE.finditer(data)
        if reduce(xor, bytes.fromhex(m[1].decode()), 0) == int(m[2], 16)
    ]


@settings(database=None, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=30),
            cards.map(sim.encode_frame),
            cards.map(sim.bad_checksum_frame),
            st.sampled_from([b"\x02", b"\x03", b"0", b"F"]),
        ),
        max_size=20,
    ),
    st.randoms(use_true_random=False),
)
def test_any_bytes_in_any_pieces_give_exactly_the_valid_frames(
    parts: list[bytes], rnd: random.Random
) -> None:
    data = b"".join(parts)
    parser = FrameParser()
    out: list[str] = []
    for piece in _split(data, rnd):
        out += parser.feed(piece)
    assert out == _oracle(data)
    assert parser.frames_ok == len(out)


def _split(data: bytes, rnd: random.Random) -> list[bytes]:
    """``data`` cut at random places, as reads from a serial port return it."""
    cuts = sorted(rnd.sample(range(1, len(data)), k=rnd.randint(0, len(data) - 1))) if data else []
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]
