"""A venue's daily rhythm: who comes through the gate when, how long they stay, closing time.

Arrivals are a Poisson process whose hourly rate follows the venue kind's demand curve (sports
grounds busy in the evening and at weekends, car parks by day) inside the opening hours, scaled so
that the peak fills about ``peak_fill`` of the capacity (Little's law: occupancy = arrival rate x
mean stay). Stays are exponential, cut short at closing time, when everyone left goes. A full venue
turns arrivals away. Days differ: a :data:`DayPlan` scales a day's demand (a quiet day, a match
day that fills the ground, a day closed for repairs). The clock is the city's local time
(Asia/Shanghai, the contract's ``CITY_TZ``), the wall clock by default; ``acceleration`` runs it
faster, for a time-lapse.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Literal

from firmware_sim.bay_sensor import BaySensorSim
from firmware_sim.people_counter import PeopleCounterSim
from mqtt_contract.city import CITY_TZ

# CITY_TZ is the contract's (the hub's calendar uses the same); re-exported for the simulators.
__all__ = [
    "BUSY_DAY_CHANCE",
    "BUSY_DAY_FACTOR",
    "CITY_TZ",
    "CLOSED_DAY_CHANCE",
    "LAST_ENTRY",
    "RHYTHMS",
    "VENUE_KINDS",
    "DayPlan",
    "Rhythm",
    "ScenarioStats",
    "VenueKind",
    "VenueScenario",
    "VenueSpec",
    "city_day_plan",
    "usual_days",
]

VenueKind = Literal["sports_ground", "car_park", "other"]
VENUE_KINDS: tuple[VenueKind, ...] = ("sports_ground", "car_park", "other")

LAST_ENTRY = timedelta(minutes=15)
"""Nobody comes in during the last quarter of an hour before closing."""


def _hours(**weights: float) -> tuple[float, ...]:
    """24 hourly weights from keyword ranges like ``h17_21=0.8`` (hours 17..20) or ``h6=0.3``."""
    table = [0.0] * 24
    for key, weight in weights.items():
        first, _, last = key.removeprefix("h").partition("_")
        for hour in range(int(first), int(last) if last else int(first) + 1):
            table[hour] = weight
    return tuple(table)


@dataclass(frozen=True)
class Rhythm:
    weekday: tuple[float, ...]
    """Demand per local hour 0..23 on Monday to Friday, 1.0 at the busiest hour of the week."""
    weekend: tuple[float, ...]
    mean_stay: timedelta

    def demand(self, at: datetime) -> float:
        local = at.astimezone(CITY_TZ)
        return (self.weekend if local.weekday() >= 5 else self.weekday)[local.hour]


RHYTHMS: dict[VenueKind, Rhythm] = {
    # Morning exercise, then the evening after work; weekends busy from morning to evening.
    "sports_ground": Rhythm(
        weekday=_hours(h6=0.35, h7=0.3, h8_16=0.08, h16=0.3, h17=0.6, h18=0.9, h19=1.0, h20=0.75),
        weekend=_hours(h6=0.3, h7_9=0.6, h9_11=0.85, h11_14=0.45, h14_16=0.8, h16_20=0.95, h20=0.7),
        mean_stay=timedelta(minutes=75),
    ),
    # Office hours, with a dip at lunch; weekends calmer.
    "car_park": Rhythm(
        weekday=_hours(h7=0.35, h8=0.8, h9_11=1.0, h11=0.7, h12=0.5, h13=0.65, h14_16=0.95, h16=0.7, h17=0.45, h18=0.25, h19_21=0.12),
        weekend=_hours(h7=0.1, h8_10=0.35, h10_17=0.5, h17_21=0.25),
        mean_stay=timedelta(minutes=150),
    ),
    "other": Rhythm(
        weekday=_hours(h8_12=0.45, h12_14=0.25, h14_18=0.5, h18_21=0.6),
        weekend=_hours(h8_12=0.6, h12_14=0.35, h14_21=0.7),
        mean_stay=timedelta(minutes=90),
    ),
}  # fmt: skip


DayPlan = Callable[[str, date], float]
"""A venue's demand on a local day as a factor of its usual rhythm: 0 closed, 1 a usual day."""

CLOSED_DAY_CHANCE = 0.02
"""A venue is closed for the day (repairs, an inspection) about once in seven weeks."""
BUSY_DAY_CHANCE = 0.025
BUSY_DAY_FACTOR = 1.3
"""About once in six weeks a venue has a match or a fair: 1.3 x its usual demand fills it."""


def city_day_plan(site: str, day: date) -> float:
    """The demo city's days, the same for a venue and a date whoever asks (the history seeded
    on first run and the live simulators agree): mostly 0.85..1.15 of the usual demand, now and
    then closed or busy."""
    digest = hashlib.sha256(f"{site}/{day.isoformat()}".encode()).digest()
    draw, spread = digest[0] / 256 + digest[1] / 65536, digest[2] / 255
    if draw < CLOSED_DAY_CHANCE:
        return 0.0
    if draw < CLOSED_DAY_CHANCE + BUSY_DAY_CHANCE:
        return BUSY_DAY_FACTOR
    return 0.85 + 0.3 * spread


def usual_days(site: str, day: date) -> float:
    """Every day its kind's rhythm, unchanged."""
    return 1.0


@dataclass(frozen=True)
class VenueSpec:
    """What a venue's simulator needs of the venue registry."""

    site: str
    kind: VenueKind
    capacity: int
    opens_at: clock_time = clock_time(7, 0)
    closes_at: clock_time = clock_time(21, 0)
    bays: int = 0
    """Bays watched by a bay-sensor bus (car parks); 0 for none."""

    def __post_init__(self) -> None:
        if self.kind not in VENUE_KINDS:
            raise ValueError(f"kind must be one of {VENUE_KINDS}, got {self.kind!r}")
        if self.capacity < 1 or self.bays < 0:
            raise ValueError("capacity must be >= 1 and bays >= 0")
        if self.opens_at >= self.closes_at:
            raise ValueError("a venue opens before it closes, on the same day")


@dataclass
class ScenarioStats:
    arrivals: int = 0
    departures: int = 0
    turned_away: int = 0
    closings: int = 0


@dataclass
class VenueScenario:
    """Drives one venue's counter (and bay sensor) from the simulated clock.

    :meth:`advance` is deterministic for a seed and may be called with any simulated times, so
    tests can run a week in a moment; :meth:`run` drives it from the wall clock.
    """

    spec: VenueSpec
    counter: PeopleCounterSim
    bay_sensor: BaySensorSim | None = None
    seed: int | None = None
    peak_fill: float = 0.85
    day_plan: DayPlan = usual_days
    stats: ScenarioStats = field(default_factory=ScenarioStats, init=False)

    def __post_init__(self) -> None:
        if self.bay_sensor is not None and self.bay_sensor.bay_count < self.spec.capacity:
            raise ValueError("a car park with a bay sensor has a bay for each place")
        self._rng = random.Random(self.seed)
        self._rhythm = RHYTHMS[self.spec.kind]
        stay_h = self._rhythm.mean_stay.total_seconds() / 3600
        self._peak_per_hour = self.peak_fill * self.spec.capacity / stay_h
        self._inside: list[tuple[datetime, int]] = []  # (leaves at, bay or 0), a heap
        self._now: datetime | None = None
        # counted here and put on the counter once per advance: a lock per person made a
        # demo's eight weeks of history cost minutes
        self._entered = self._left = 0
        self._free: list[int] | None = None  # free bays, in no order

    @property
    def occupancy(self) -> int:
        return len(self._inside)

    def resume(self, inside: int, at: datetime) -> None:
        """Go on from ``at`` with ``inside`` people in (at a car park, in the bays the sensor
        shows occupied), as after a history lived elsewhere. Stays are exponential, so what is
        left of theirs is drawn afresh: memoryless, it is the same law."""
        if self._inside or self._now is not None:
            raise ValueError("resume a scenario before it has run")
        _, closes = self._window(at)
        bays = (
            [i + 1 for i, c in enumerate(self.bay_sensor.bays()) if c == "1"]
            if (self.bay_sensor is not None)
            else []
        )
        for n in range(inside):
            stay = timedelta(
                seconds=self._rng.expovariate(1 / self._rhythm.mean_stay.total_seconds())
            )
            leaves = min(at + stay, closes) if at < closes else at
            heapq.heappush(self._inside, (leaves, bays[n] if n < len(bays) else 0))
        self._now = at

    def arrival_rate(self, at: datetime) -> float:
        """Expected arrivals per hour at ``at``: zero outside the opening hours and on a day the
        venue is closed."""
        opens, closes = self._window(at)
        if not opens <= at < closes - LAST_ENTRY:
            return 0.0
        factor = self.day_plan(self.spec.site, at.astimezone(CITY_TZ).date())
        return self._peak_per_hour * self._rhythm.demand(at) * factor

    def advance(self, until: datetime) -> None:
        """Everything that happens from the last call (or ``until`` itself, the first time) to
        ``until``, put on the devices as it happens."""
        start = self._now or until
        if until <= start:
            self._now = start
            return
        t = start
        while t < until:
            step_end = min(until, t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
            self._closing_between(t, step_end)
            self._arrivals(t, step_end)
            t = step_end
        self._leave_until(until)
        self._now = until
        if self._entered or self._left:
            self.counter.count(entered=self._entered, left=self._left)
            self._entered = self._left = 0

    async def run(
        self,
        acceleration: float = 1.0,
        start: datetime | None = None,
        tick_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Follow the wall clock (``acceleration`` times faster for a time-lapse), from ``start``
        (default now)."""
        if acceleration <= 0 or tick_s <= 0:
            raise ValueError("acceleration and tick_s must be > 0")
        origin = start or datetime.now(CITY_TZ)
        t0 = clock()
        self.advance(origin)
        while True:
            await asyncio.sleep(tick_s)
            self.advance(origin + timedelta(seconds=(clock() - t0) * acceleration))

    def _window(self, at: datetime) -> tuple[datetime, datetime]:
        day = at.astimezone(CITY_TZ).date()
        return (
            datetime.combine(day, self.spec.opens_at, tzinfo=CITY_TZ),
            datetime.combine(day, self.spec.closes_at, tzinfo=CITY_TZ),
        )

    def _arrivals(self, start: datetime, end: datetime) -> None:
        """Arrivals in [start, end), which lies within one hour: one rate throughout."""
        rate = self.arrival_rate(start)
        opens, closes = self._window(start)
        last_entry = closes - LAST_ENTRY
        span = (min(end, last_entry) - max(start, opens)).total_seconds()
        if rate <= 0 or span <= 0:
            return
        first = max(start, opens)
        times = sorted(
            first + timedelta(seconds=self._rng.uniform(0, span))
            for _ in range(_poisson(self._rng, rate * span / 3600))
        )
        for at in times:
            self._leave_until(at)
            self._arrive(at, closes)

    def _arrive(self, at: datetime, closes: datetime) -> None:
        if len(self._inside) >= self.spec.capacity:
            self.stats.turned_away += 1
            return
        bay = 0
        if self.bay_sensor is not None:
            if self._free is None:
                self._free = self.bay_sensor.free_bays()
            free = self._free
            if not free:
                self.stats.turned_away += 1
                return
            pick = self._rng.randrange(len(free))
            free[pick], free[-1] = free[-1], free[pick]
            bay = free.pop()
            self.bay_sensor.set_bay(bay, True)
        stay = timedelta(seconds=self._rng.expovariate(1 / self._rhythm.mean_stay.total_seconds()))
        heapq.heappush(self._inside, (min(at + stay, closes), bay))
        self._entered += 1
        self.stats.arrivals += 1

    def _leave_until(self, until: datetime) -> None:
        while self._inside and self._inside[0][0] <= until:
            _, bay = heapq.heappop(self._inside)
            self._leave(bay)

    def _leave(self, bay: int) -> None:
        if self.bay_sensor is not None and bay:
            self.bay_sensor.set_bay(bay, False)
            if self._free is not None:
                self._free.append(bay)
        self._left += 1
        self.stats.departures += 1

    def _closing_between(self, start: datetime, end: datetime) -> None:
        """At closing time the last ones leave (their stays already end there)."""
        _, closes = self._window(start)
        if start < closes <= end:
            self._leave_until(closes)
            self.stats.closings += 1


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:  # normal approximation; Knuth's method gets slow and underflows
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
