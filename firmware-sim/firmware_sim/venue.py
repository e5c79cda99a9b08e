"""One venue's devices on one RS-485 line: a people counter at the gate (unit 1), at a car park a
bay-sensor bus (unit 2), driven by the venue's rhythm, and the sign at the gate (unit 3) that shows
the hub's capacity alerts. Also the city's 52 venues for the demo."""

from __future__ import annotations

import random
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from firmware_sim.bay_sensor import MAX_BAYS, BaySensorSim
from firmware_sim.closing import Closing
from firmware_sim.modbus_line import ModbusLine, SimModbusDevice
from firmware_sim.people_counter import PeopleCounterSim
from firmware_sim.sim_loop import SimLoop
from firmware_sim.venue_scenario import (
    VENUE_KINDS,
    DayPlan,
    VenueKind,
    VenueScenario,
    VenueSpec,
    usual_days,
)
from firmware_sim.venue_sign import VenueSignSim

COUNTER_UNIT = 1
BAYS_UNIT = 2
SIGN_UNIT = 3
CITY_VENUES = 52


def line_path(link_dir: Path, site: str) -> Path:
    """The stable path of a venue's RS-485 line, like /dev/serial/by-id/... on a real box."""
    return link_dir / f"{site}-rs485"


class VenueSim(Closing):
    """Start with the constructor; :meth:`close` removes the line and stops the scenario."""

    def __init__(
        self,
        loop: SimLoop,
        spec: VenueSpec,
        link_dir: Path,
        *,
        seed: int | None = None,
        near_wrap: int | None = None,
        day_plan: DayPlan = usual_days,
        resume: VenueScenario | None = None,
    ) -> None:
        """``resume``: a scenario that has already lived this venue's past (the demo's seeded
        history) and goes on from where it stopped, with its devices' counts and bays."""
        self.spec = spec
        if resume is not None:
            self.scenario = resume
            self.counter, self.bay_sensor = resume.counter, resume.bay_sensor
        else:
            self.counter = venue_counter(near_wrap)
            self.bay_sensor = venue_bays(spec)
            self.scenario = VenueScenario(
                spec, self.counter, self.bay_sensor, seed=seed, day_plan=day_plan
            )
        self.sign = VenueSignSim(SIGN_UNIT)
        devices: list[SimModbusDevice] = [self.counter, self.sign]
        if self.bay_sensor is not None:
            devices.append(self.bay_sensor)
        self.line = ModbusLine(loop, line_path(link_dir, spec.site), devices, seed=seed)
        self._loop = loop

    @property
    def link(self) -> Path:
        return self.line.link

    def start(self, acceleration: float = 1.0, start: datetime | None = None) -> None:
        """Run the venue's rhythm on the loop until :meth:`close`, on the wall clock unless
        ``acceleration`` says otherwise (a resumed scenario first catches up to ``start``)."""
        self._loop.spawn(self.scenario.run(acceleration=acceleration, start=start))

    def power_loss(self, off_s: float = 0.0) -> None:
        """Every device on the line loses power; back after ``off_s`` seconds (0: at once)."""
        for device in self._devices():
            device.power_off()
        if off_s <= 0:
            self._power_on()
        else:
            self._loop.loop.call_soon_threadsafe(self._loop.loop.call_later, off_s, self._power_on)

    def edge_devices(self) -> list[dict[str, Any]]:
        """The ``[[devices]]`` entries of an edge config that reads this venue."""
        devices: list[dict[str, Any]] = [
            {"id": "gate-1", "kind": "people_counter", "port": str(self.link), "unit_id": 1}
        ]
        if self.bay_sensor is not None:
            devices.append(
                {
                    "id": "bays-1",
                    "kind": "bay_sensor",
                    "port": str(self.link),
                    "unit_id": BAYS_UNIT,
                    "bays": self.bay_sensor.bay_count,
                }
            )
        devices.append(
            {"id": "sign-1", "kind": "sign", "port": str(self.link), "unit_id": SIGN_UNIT}
        )
        return devices

    def close(self) -> None:
        self.line.close()

    def _devices(self) -> list[PeopleCounterSim | BaySensorSim | VenueSignSim]:
        devices: list[PeopleCounterSim | BaySensorSim | VenueSignSim] = [self.counter, self.sign]
        return devices + ([self.bay_sensor] if self.bay_sensor else [])

    def _power_on(self) -> None:
        for device in self._devices():
            device.power_on()


def venue_counter(near_wrap: int | None = None) -> PeopleCounterSim:
    """A venue's gate counter (unit 1); ``near_wrap``: that many counts short of 2**32."""
    if near_wrap:
        return PeopleCounterSim.near_wrap(COUNTER_UNIT, before=near_wrap)
    return PeopleCounterSim(COUNTER_UNIT)


def venue_bays(spec: VenueSpec) -> BaySensorSim | None:
    """A car park's bay-sensor bus (unit 2), one input per watched bay; None elsewhere."""
    return BaySensorSim(BAYS_UNIT, spec.bays) if spec.bays else None


def venue_spec(
    site: str,
    kind: VenueKind,
    capacity: int,
    opens_at: clock_time | None = None,
    closes_at: clock_time | None = None,
) -> VenueSpec:
    """A car park watches every bay (up to what one bay sensor reads); others have no bays."""
    hours = {"opens_at": opens_at, "closes_at": closes_at}
    return VenueSpec(
        site,
        kind,
        capacity,
        bays=min(capacity, MAX_BAYS) if kind == "car_park" else 0,
        **{k: v for k, v in hours.items() if v is not None},
    )


def city_venues(count: int = CITY_VENUES, seed: int = 52) -> list[VenueSpec]:
    """A stand-in for the venue registry: ``venue-01``.. with kinds, capacities and hours in the
    proportions of the hub's seed data (20 sports grounds : 28 car parks : 4 others)."""
    rng = random.Random(seed)
    specs = []
    for n in range(1, count + 1):
        kind = rng.choices(VENUE_KINDS, (20, 28, 4))[0]
        capacity = rng.randint(20, 200) if kind == "car_park" else rng.randint(40, 400)
        specs.append(
            venue_spec(
                f"venue-{n:02d}",
                kind,
                capacity,
                clock_time(rng.choice((6, 7, 8))),
                clock_time(rng.choice((20, 21, 22))),
            )
        )
    return specs
