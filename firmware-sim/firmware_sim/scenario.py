"""A roster scenario: members tap in one after another, with line faults now and then.

The order is random but fixed by the seed, so a run can be replayed and its taps compared with
what the edge recorded.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from firmware_sim.card_reader import CardReaderSim
from mqtt_contract.credentials import normalise_card

FAULT_KINDS = ("noise", "bad_checksum", "half_frame")


@dataclass
class RosterScenario:
    """Taps the roster's cards in shuffled passes, ``interval_s`` apart (card off to next card on).

    Each pass taps every card once; a new pass never starts with the card that ended the last one,
    so two taps in a row are always of different cards and the reader never merges them.
    With ``fault_rate`` f, each pause between taps carries one fault with probability f, injected
    halfway through the pause.
    """

    sim: CardReaderSim
    cards: Sequence[str]
    interval_s: float = 1.0
    hold_s: float = 0.35
    fault_rate: float = 0.0
    seed: int | None = None
    on_tap: Callable[[str], None] | None = None
    """Called after each tap (from the thread that runs the scenario), e.g. to report progress."""
    tapped: list[str] = field(default_factory=list, init=False)
    """Cards tapped so far, in order."""
    faults: list[str] = field(default_factory=list, init=False)
    """Faults injected so far, in order (one of ``FAULT_KINDS``)."""

    def __post_init__(self) -> None:
        # A duplicate would let the same card come up twice in a row, merged by the reader.
        self.cards = list(dict.fromkeys(normalise_card(c) for c in self.cards))
        if not self.cards:
            raise ValueError("the roster is empty")
        if self.interval_s < 0 or self.hold_s < 0:
            raise ValueError("interval_s and hold_s must be >= 0")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def run(self, count: int | None = None, stop: threading.Event | None = None) -> list[str]:
        """Tap ``count`` cards, or until ``stop`` is set, or one pass over the roster if neither.

        Returns the cards tapped by this call, in order (also appended to ``tapped``).
        """
        if count is not None and count < 0:
            raise ValueError("count must be >= 0")
        if count is None and stop is None:
            count = len(self.cards)
        stop = stop or threading.Event()
        done: list[str] = []
        order = self._order()
        while (count is None or len(done) < count) and not stop.is_set():
            if done and self._pause(stop):
                break
            card = next(order)
            self.sim.tap(card, self.hold_s)
            done.append(card)
            with self._lock:
                self.tapped.append(card)
            if self.on_tap is not None:
                self.on_tap(card)
        return done

    def _pause(self, stop: threading.Event) -> bool:
        """The gap between two taps, with maybe a fault in its middle; True if stopped."""
        half = self.interval_s / 2
        if stop.wait(half):
            return True
        if self._rng.random() < self.fault_rate:
            self._inject_fault()
        return stop.wait(self.interval_s - half)

    def _inject_fault(self) -> None:
        kind = self._rng.choice(FAULT_KINDS)
        card = self._rng.choice(self.cards)
        if kind == "noise":
            self.sim.noise(self._rng.randint(1, 16))
        elif kind == "bad_checksum":
            self.sim.bad_checksum(card)
        else:
            self.sim.half_frame(card)
        with self._lock:
            self.faults.append(kind)

    def _order(self) -> Iterator[str]:
        last: str | None = None
        while True:
            batch = list(self.cards)
            self._rng.shuffle(batch)
            if len(batch) > 1 and batch[0] == last:
                batch[0], batch[-1] = batch[-1], batch[0]
            yield from batch
            last = batch[-1]
