"""A simulated EM4100 card reader on a pty, with faults on demand and a record of what it sent.

Tests compare the record with what the edge reports, so every tap and every fault is counted.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from firmware_sim import em4100
from firmware_sim.closing import Closing
from firmware_sim.pty_port import PtyPort
from mqtt_contract.credentials import normalise_card

REPEAT_S = 0.1
"""A held card is read again about every 100 ms, and every read sends the whole frame."""


@dataclass(frozen=True)
class SimStats:
    """What the simulator put on the line (or tried to, while unplugged)."""

    taps: int = 0
    """Taps of which at least one frame went out."""
    taps_lost: int = 0
    """Taps made while unplugged: no frame reached the line."""
    frames: int = 0
    """Good frames sent, repeats included."""
    noise: int = 0
    bad_checksums: int = 0
    half_frames: int = 0
    unplugs: int = 0

    @property
    def faults(self) -> int:
        return self.noise + self.bad_checksums + self.half_frames


class CardReaderSim(Closing):
    """One reader behind the stable path ``link``; usable from several threads at once."""

    def __init__(self, link: Path, *, repeat_s: float = REPEAT_S, seed: int | None = None) -> None:
        if repeat_s <= 0:
            raise ValueError("repeat_s must be > 0")
        self._port = PtyPort(link)
        self._repeat_s = repeat_s
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stats = SimStats()

    @property
    def link(self) -> Path:
        return self._port.link

    @property
    def port(self) -> PtyPort:
        """The pty underneath, e.g. to read what the agent writes back."""
        return self._port

    def stats(self) -> SimStats:
        with self._lock:
            return self._stats

    def tap(self, card: str, hold_s: float = 0.35) -> None:
        """Hold ``card`` on the reader for ``hold_s``: one frame now and one every repeat period.

        Blocks for the whole hold. At least one frame is sent, however short the hold.
        """
        frame = em4100.encode_frame(normalise_card(card))
        start = time.monotonic()
        sent = 0
        k = 0
        while True:
            if self._port.write(frame) == len(frame):
                sent += 1
            k += 1
            next_at = start + k * self._repeat_s
            if next_at - start >= hold_s:
                break
            _sleep_until(next_at)
        _sleep_until(start + hold_s)
        with self._lock:
            s = self._stats
            if sent:
                self._stats = replace(s, taps=s.taps + 1, frames=s.frames + sent)
            else:
                self._stats = replace(s, taps_lost=s.taps_lost + 1)

    def noise(self, nbytes: int) -> None:
        """A burst of line noise (any byte values)."""
        with self._lock:
            data = em4100.noise(nbytes, self._rng)
            self._stats = replace(self._stats, noise=self._stats.noise + 1)
        self._port.write(data)

    def bad_checksum(self, card: str) -> None:
        """One frame of ``card`` with a wrong checksum."""
        data = em4100.bad_checksum_frame(card)
        with self._lock:
            self._stats = replace(self._stats, bad_checksums=self._stats.bad_checksums + 1)
        self._port.write(data)

    def half_frame(self, card: str) -> None:
        """The start of a frame of ``card``, cut off before its checksum and ETX."""
        with self._lock:
            data = em4100.half_frame(card, rng=self._rng)
            self._stats = replace(self._stats, half_frames=self._stats.half_frames + 1)
        self._port.write(data)

    def unplug(self) -> None:
        """Pull the cable: the port and its stable path go away."""
        with self._lock:
            self._stats = replace(self._stats, unplugs=self._stats.unplugs + 1)
        self._port.unplug()

    def replug(self) -> None:
        """Plug the cable back in: a new pty behind the same stable path."""
        self._port.replug()

    def close(self) -> None:
        self._port.close()


def _sleep_until(deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
