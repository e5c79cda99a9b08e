"""EM4100-style ASCII card frames, as a cheap 125 kHz reader sends them over its serial line.

A frame is STX, the card number as 10 upper-case hex digits (5 data bytes), 2 hex digits of the
XOR of those 5 bytes, ETX. The fault builders make the damage a real line shows, so the edge's
parser can be exercised against it.
"""

from __future__ import annotations

import random
from functools import reduce
from operator import xor

from mqtt_contract.credentials import normalise_card

STX = 0x02
ETX = 0x03
FRAME_LEN = 14
"""STX + 10 card digits + 2 checksum digits + ETX."""


def checksum(card: str) -> int:
    """XOR of the 5 data bytes of a card number."""
    return reduce(xor, bytes.fromhex(normalise_card(card)), 0)


def encode_frame(card: str) -> bytes:
    """The frame a reader sends (repeatedly) while this card is held on it."""
    number = normalise_card(card)
    return _frame(number, checksum(number))


def bad_checksum_frame(card: str) -> bytes:
    """A well-formed frame whose checksum does not match: one flipped bit on the wire."""
    number = normalise_card(card)
    return _frame(number, checksum(number) ^ 0x01)


def half_frame(card: str, keep: int | None = None, rng: random.Random | None = None) -> bytes:
    """The start of a frame cut short (card pulled away, reader reset): no checksum, no ETX.

    ``keep`` is how many of the 12 digits survive (1..11); random when not given.
    """
    frame = encode_frame(card)
    if keep is None:
        keep = (rng or random.Random()).randint(1, 11)
    if not 1 <= keep <= 11:
        raise ValueError(f"a half frame keeps 1..11 digits, not {keep}")
    return frame[: 1 + keep]


def noise(nbytes: int, rng: random.Random | None = None) -> bytes:
    """Random line noise: any byte value, STX and ETX included, as a glitching line gives."""
    if nbytes < 0:
        raise ValueError("nbytes must be >= 0")
    return (rng or random.Random()).randbytes(nbytes)


def random_card(rng: random.Random) -> str:
    """A card number as a roster would hold it (10 upper-case hex digits)."""
    return rng.randbytes(5).hex().upper()


def _frame(number: str, check: int) -> bytes:
    return bytes([STX]) + f"{number}{check:02X}".encode("ascii") + bytes([ETX])
