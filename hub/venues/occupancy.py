"""Occupancy from cumulative people-counter readings: pure, order-insensitive, no I/O.

A people counter at a venue gate has two 32-bit cumulative registers (in, out) that wrap, and a
boot counter (``device_boots``) that goes up when power loss restarts the registers from zero.
The hub records every reading with the edge's (boot, seq). Occupancy is the net flow since the
venue's last reset (its closing time), summed over every gate and every device boot:

    occupancy(t) = clamp(Σ_boots [(in_t − in_base) mod 2³²] − [(out_t − out_base) mod 2³²])

where ``in_t`` is the boot's last reading at or before ``t`` and ``in_base`` its last reading
before the reset (or 0 for a boot that started after a power loss, or the boot's own first reading
for a device seen for the first time). A difference taken modulo 2³² is exact across a wrap as
long as fewer than 2³² people pass between the two readings. Every term is chosen by the readings'
own order ``(device_time, seq)``, never by arrival, so the same set of readings in any order and
with any duplicates gives the same answer. docs/venues.md has the whole derivation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar
from uuid import UUID

WRAP = 2**32
"""The counters are 32-bit registers: they count modulo this."""


@dataclass(frozen=True, slots=True)
class Counts:
    count_in: int
    count_out: int


ZERO = Counts(0, 0)


def increase(later: int, earlier: int) -> int:
    """How far a 32-bit counter went from ``earlier`` to ``later``, across a wrap if need be."""
    return (later - earlier) % WRAP


def net_flow(current: Counts, base: Counts) -> int:
    """People in minus people out between two readings of one device boot."""
    return increase(current.count_in, base.count_in) - increase(current.count_out, base.count_out)


def clamp(value: int, capacity: int) -> int:
    return max(0, min(value, capacity))


BootKey = tuple[str, int]
"""A device boot: (device id, device_boots)."""


@dataclass(frozen=True, slots=True)
class GateReading:
    """One people-counter reading as recorded, keyed by the edge's (boot, seq)."""

    device: str
    device_boots: int
    edge_boot: UUID
    seq: int
    time: datetime
    count_in: int
    count_out: int

    @property
    def key(self) -> tuple[UUID, int]:
        return (self.edge_boot, self.seq)

    @property
    def order(self) -> tuple[datetime, int]:
        """The readings' own order: device time, then the site's sequence number."""
        return (self.time, self.seq)

    @property
    def boot(self) -> BootKey:
        return (self.device, self.device_boots)

    @property
    def counts(self) -> Counts:
        return Counts(self.count_in, self.count_out)


@dataclass(frozen=True, slots=True)
class BayReading:
    """One parking-bay sensor reading: the bays' bits, ``"1"`` occupied."""

    device: str
    edge_boot: UUID
    seq: int
    time: datetime
    bays: str

    @property
    def key(self) -> tuple[UUID, int]:
        return (self.edge_boot, self.seq)

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.time, self.seq)

    @property
    def occupied(self) -> int:
        return self.bays.count("1")


_R = TypeVar("_R", GateReading, BayReading)


def unique_sorted(readings: Iterable[_R]) -> list[_R]:
    """Each reading once (by the edge's boot and seq), in the readings' own order. Should an edge
    ever send two different readings under one (boot, seq), the same one is kept whatever the
    order they came in."""
    seen: dict[tuple[UUID, int], _R] = {}
    for reading in sorted(readings, key=_content):
        seen.setdefault(reading.key, reading)
    return sorted(seen.values(), key=lambda r: (r.order, r.key))


def _content(r: GateReading | BayReading) -> tuple[object, ...]:
    if isinstance(r, GateReading):
        return (r.key, r.time, r.device, r.device_boots, r.count_in, r.count_out)
    return (r.key, r.time, r.device, r.bays)


def first_boots(readings: Iterable[GateReading]) -> dict[str, int]:
    """The lowest device boot seen per device: any higher boot started after a power loss."""
    lowest: dict[str, int] = {}
    for r in readings:
        if r.device not in lowest or r.device_boots < lowest[r.device]:
            lowest[r.device] = r.device_boots
    return lowest


def boot_base(reading: GateReading, first_boot: int | None) -> Counts:
    """Where a device boot's count starts when the first reading of it is ``reading``: from zero
    after a power loss (an earlier boot is known), else from that reading (a device seen for the
    first time: what it counted before is not the venue's today)."""
    if first_boot is not None and reading.device_boots > first_boot:
        return ZERO
    return reading.counts


@dataclass(slots=True)
class BootState:
    current: Counts
    base: Counts


@dataclass(slots=True)
class GateLedger:
    """Replays readings in their own order and keeps, per device boot, the last reading and the
    base since the last reset. ``visits`` adds up people in (increases of the in-register)."""

    first_boot: Mapping[str, int]
    boots: dict[BootKey, BootState] = field(default_factory=dict)
    visits: int = 0
    bases: dict[BootKey, Counts] = field(default_factory=dict)
    """Where boots not yet in the ledger start, when it is known (a boot's last reading of an
    earlier day); otherwise ``boot_base`` decides."""

    def apply(self, reading: GateReading) -> None:
        state = self.boots.get(reading.boot)
        if state is None:
            base = self.bases.get(reading.boot) or boot_base(
                reading, self.first_boot.get(reading.device)
            )
            state = self.boots[reading.boot] = BootState(current=base, base=base)
        self.visits += increase(reading.count_in, state.current.count_in)
        state.current = reading.counts

    def reset(self) -> None:
        """Closing time: occupancy starts again from zero."""
        for state in self.boots.values():
            state.base = state.current

    def net(self) -> int:
        return sum(net_flow(s.current, s.base) for s in self.boots.values())


@dataclass(slots=True)
class BayLedger:
    """The last bits per bay sensor; ``arrivals`` counts bays that went from free to occupied."""

    bits: dict[str, str] = field(default_factory=dict)
    arrivals: int = 0

    def apply(self, reading: BayReading) -> None:
        before = self.bits.get(reading.device)
        if before is not None:
            self.arrivals += sum(
                1
                for old, new in zip(before, reading.bays, strict=False)
                if old == "0" and new == "1"
            )
            self.arrivals += reading.bays[len(before) :].count("1")
        self.bits[reading.device] = reading.bays

    def occupied(self) -> int:
        return sum(b.count("1") for b in self.bits.values())


def occupancy_at(
    readings: Iterable[GateReading],
    at: datetime,
    *,
    reset_at: datetime,
    capacity: int,
    bays: Iterable[BayReading] = (),
) -> int:
    """The reference definition: occupancy at ``at`` from every reading known, where ``reset_at``
    is the last closing time at or before ``at``. Bay sensors, where there are any, override the
    counters (they see the bays themselves; no reset applies to them)."""
    bay_list = [b for b in unique_sorted(bays) if b.time <= at]
    if bay_list:
        ledger_b = BayLedger()
        for b in bay_list:
            ledger_b.apply(b)
        return clamp(ledger_b.occupied(), capacity)
    everything = unique_sorted(readings)
    ledger = GateLedger(first_boot=first_boots(everything))
    for r in everything:
        if r.time >= reset_at:
            break
        ledger.apply(r)
    ledger.reset()
    for r in everything:
        if reset_at <= r.time <= at:
            ledger.apply(r)
    return clamp(ledger.net(), capacity)


@dataclass(frozen=True, slots=True)
class BucketStats:
    """One rollup bucket of a venue: the occupancy step function over ``[start, end)``."""

    start: datetime
    end: datetime
    readings: int
    visits: int
    peak: int
    mean: float
    last: int


@dataclass(slots=True)
class _Timeline:
    start: datetime
    value: int
    peak: int
    area: float = 0.0
    since: datetime | None = None

    def step(self, at: datetime, value: int) -> None:
        since = self.since or self.start
        self.area += self.value * (at - since).total_seconds()
        self.since = at
        self.value = value
        self.peak = max(self.peak, value)


def bucket_stats(
    *,
    start: datetime,
    end: datetime,
    capacity: int,
    gates: GateLedger,
    gate_readings: Sequence[GateReading],
    resets: Sequence[datetime] = (),
    bay_ledger: BayLedger | None = None,
    bay_readings: Sequence[BayReading] = (),
) -> BucketStats:
    """Replay one bucket from the ledgers' state at ``start`` (mutated: they end at ``end``).

    ``resets`` are the closing times inside the bucket. With bay readings or a bay ledger that
    knows a sensor, the bays give the occupancy; visits come from the gates when there are any,
    else from the bays' arrivals."""
    use_bays = bay_ledger is not None and (bool(bay_ledger.bits) or bool(bay_readings))

    def value() -> int:
        if use_bays and bay_ledger is not None:
            return clamp(bay_ledger.occupied(), capacity)
        return clamp(gates.net(), capacity)

    visits_before = gates.visits
    arrivals_before = bay_ledger.arrivals if bay_ledger is not None else 0
    first = value()
    line = _Timeline(start=start, value=first, peak=first)
    events: list[tuple[datetime, int, int, object]] = [(t, 0, 0, None) for t in resets]
    events += [(r.time, 1, r.seq, r) for r in gate_readings]
    events += [(b.time, 2, b.seq, b) for b in bay_readings]
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    for at, _kind, _seq, item in events:
        if not start <= at < end:
            continue
        if isinstance(item, GateReading):
            gates.apply(item)
        elif isinstance(item, BayReading) and bay_ledger is not None:
            bay_ledger.apply(item)
        else:
            gates.reset()
        line.step(at, value())
    line.step(end, line.value)
    seconds = (end - start).total_seconds()
    gate_visits = gates.visits - visits_before
    has_gates = bool(gates.boots)
    arrivals = (bay_ledger.arrivals if bay_ledger is not None else 0) - arrivals_before
    return BucketStats(
        start=start,
        end=end,
        readings=sum(1 for e in events if e[1] and start <= e[0] < end),
        visits=gate_visits if has_gates else arrivals,
        peak=line.peak,
        mean=line.area / seconds if seconds > 0 else float(line.value),
        last=line.value,
    )
