"""Incremental parser for EM4100-style ASCII card frames: bytes in, card numbers out.

A frame is STX, 10 hex digits of card number, 2 hex digits of the XOR of its 5 bytes, ETX. The
serial line delivers frames in arbitrary pieces, with noise, flipped bits and frames cut short;
the parser keeps state across ``feed`` calls, counts every kind of damage, and only ever yields a
card from a complete frame whose checksum matches. Every STX starts a new frame, so a good frame
is never lost to garbage before it. Pure: no I/O, no clock.
"""

from __future__ import annotations

from enum import Enum, StrEnum, auto
from functools import reduce
from operator import xor

STX = 0x02
ETX = 0x03
_DIGITS = 12  # 10 of card number + 2 of checksum
_HEX = frozenset(b"0123456789ABCDEFabcdef")


class FrameError(StrEnum):
    BAD_CHECKSUM = "bad_checksum"
    """A complete frame whose checksum does not match its card number."""
    BAD_DIGIT = "bad_digit"
    """A byte inside a frame that is not a hex digit."""
    HALF_FRAME = "half_frame"
    """A frame cut short: a new STX or an early ETX came, the ETX was missing, or the line went
    quiet mid-frame."""
    NOISE = "noise"
    """A run of bytes outside any frame (counted once per run; ``noise_bytes`` has the bytes)."""


class _State(Enum):
    BETWEEN = auto()  # after a good frame, a clean end or quiet line: the next stray byte is noise
    FRAME = auto()  # inside a frame
    GARBAGE = auto()  # in noise already counted, or in the tail of a broken frame


class FrameParser:
    """Not thread-safe: one parser per serial port, fed by the thread that reads it."""

    def __init__(self) -> None:
        self._state = _State.BETWEEN
        self._digits = bytearray()
        self._errors = dict.fromkeys(FrameError, 0)
        self.frames_ok = 0
        self.noise_bytes = 0

    @property
    def errors(self) -> dict[FrameError, int]:
        """Errors so far, by reason (a copy)."""
        return dict(self._errors)

    @property
    def error_count(self) -> int:
        return sum(self._errors.values())

    def feed(self, data: bytes) -> list[str]:
        """Consume ``data``; return the card numbers (10 upper-case hex) of the good frames in it.

        A card held on the reader repeats its frame: every repeat is returned; debouncing is the
        caller's business.
        """
        cards: list[str] = []
        for byte in data:
            if byte == STX:
                if self._state is _State.FRAME:
                    self._error(FrameError.HALF_FRAME)
                self._digits.clear()
                self._state = _State.FRAME
            elif self._state is _State.FRAME:
                card = self._in_frame(byte)
                if card is not None:
                    cards.append(card)
            else:
                self.noise_bytes += 1
                if self._state is _State.BETWEEN:
                    self._error(FrameError.NOISE)
                    self._state = _State.GARBAGE
        return cards

    def idle(self) -> None:
        """The line went quiet: a frame still open was cut short, and a noise run has ended."""
        if self._state is _State.FRAME:
            self._error(FrameError.HALF_FRAME)
        self._state = _State.BETWEEN
        self._digits.clear()

    def reset(self) -> None:
        """Forget a partial frame without counting it (the port was lost; that is counted there)."""
        self._state = _State.BETWEEN
        self._digits.clear()

    def _in_frame(self, byte: int) -> str | None:
        if len(self._digits) < _DIGITS:
            if byte in _HEX:
                self._digits.append(byte)
            elif byte == ETX:
                self._end(FrameError.HALF_FRAME, _State.BETWEEN)
            else:
                self._end(FrameError.BAD_DIGIT, _State.GARBAGE)
            return None
        if byte != ETX:
            # The ETX is missing; what follows belongs to the broken frame, not a new noise run.
            self.noise_bytes += 1
            self._end(FrameError.HALF_FRAME, _State.GARBAGE)
            return None
        text = self._digits.decode("ascii").upper()
        number, check = text[:10], int(text[10:], 16)
        if reduce(xor, bytes.fromhex(number), 0) != check:
            self._end(FrameError.BAD_CHECKSUM, _State.BETWEEN)
            return None
        self._digits.clear()
        self._state = _State.BETWEEN
        self.frames_ok += 1
        return number

    def _end(self, reason: FrameError, then: _State) -> None:
        self._error(reason)
        self._digits.clear()
        self._state = then

    def _error(self, reason: FrameError) -> None:
        self._errors[reason] += 1
