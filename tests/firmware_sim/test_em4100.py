"""The simulator's frame and fault builders, byte for byte."""

from __future__ import annotations

import random

import pytest

from firmware_sim import em4100


def test_frame_layout() -> None:
    frame = em4100.encode_frame("0102030405")
    assert frame == b"\x020102030405" + b"01" + b"\x03"
    assert len(frame) == em4100.FRAME_LEN


@pytest.mark.parametrize(
    ("card", "check"),
    [("0000000000", 0x00), ("FF00000000", 0xFF), ("0F0368568B", 0xB9), ("AABBCCDDEE", 0xEE)],
)
def test_checksum_is_xor_of_the_five_bytes(card: str, check: int) -> None:
    assert em4100.checksum(card) == check


def test_card_is_normalised_and_validated() -> None:
    assert em4100.encode_frame(" aabbccddee\n") == em4100.encode_frame("AABBCCDDEE")
    for bad in ("", "AABBCCDDE", "AABBCCDDEEF", "GABBCCDDEE"):
        with pytest.raises(ValueError, match="10 hex digits"):
            em4100.encode_frame(bad)


def test_bad_checksum_frame_differs_only_in_its_checksum() -> None:
    good = em4100.encode_frame("0102030405")
    bad = em4100.bad_checksum_frame("0102030405")
    assert len(bad) == len(good)
    assert bad[:11] == good[:11]
    assert bad[-1:] == good[-1:]
    assert bad[11:13] != good[11:13]
    assert int(bad[11:13], 16) != em4100.checksum("0102030405")


def test_half_frame_is_a_prefix_without_etx() -> None:
    good = em4100.encode_frame("0102030405")
    assert em4100.half_frame("0102030405", keep=3) == good[:4]
    rng = random.Random(1)
    for _ in range(50):
        half = em4100.half_frame("0102030405", rng=rng)
        assert good.startswith(half)
        assert 2 <= len(half) <= 12
        assert em4100.ETX not in half
    for keep in (0, 12):
        with pytest.raises(ValueError, match=r"1\.\.11"):
            em4100.half_frame("0102030405", keep=keep)


def test_noise_is_reproducible_with_a_seed() -> None:
    assert len(em4100.noise(100)) == 100
    assert em4100.noise(64, random.Random(7)) == em4100.noise(64, random.Random(7))
    with pytest.raises(ValueError, match="nbytes"):
        em4100.noise(-1)


def test_random_cards_are_valid_and_seeded() -> None:
    cards = [em4100.random_card(random.Random(3)) for _ in range(2)]
    assert cards[0] == cards[1]
    assert em4100.encode_frame(cards[0])
