"""Registered venues and their readings, for the occupancy tests."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hub.ingest.events import EventRecord
from hub.org.calendar import CITY_TZ
from hub.org.models import Community, Subdistrict, Unit
from hub.venues.models import Venue
from hub.venues.occupancy import WRAP, BayReading, GateReading
from mqtt_contract import topics
from mqtt_contract.models import BaysData, BaysEvent, CounterData, CounterEvent
from mqtt_contract.topics import EventKind

EDGE_BOOT = uuid.UUID("00000000-0000-4000-8000-0000000000e4")
EDGE_BOOTS = [uuid.UUID(int=n + 1) for n in range(3)]
T0 = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # 08:00 in Yuanping
_codes = itertools.count(1)


def register_venue(
    engine: Engine,
    venue_id: str = "venue-01",
    *,
    capacity: int = 100,
    closes_at: time = time(22, 0),
    opens_at: time = time(6, 0),
    kind: str = "sports_ground",
    threshold_pct: float = 90.0,
    unit: str = "体育中心",
) -> None:
    with Session(engine) as session:
        subdistrict = session.scalar(select(Subdistrict).limit(1))
        if subdistrict is None:
            subdistrict = Subdistrict(code="SD01", name="轩岗街道")
            session.add(subdistrict)
            session.flush()
        community = session.scalar(select(Community).limit(1))
        if community is None:
            community = Community(code="C01", name="新原社区", subdistrict_id=subdistrict.id)
            session.add(community)
            session.flush()
        owner = session.scalar(select(Unit).where(Unit.name == unit))
        if owner is None:
            owner = Unit(code=f"U{next(_codes):03d}", name=unit, kind="institution")
            session.add(owner)
            session.flush()
        session.add(
            Venue(
                id=venue_id,
                name=f"{venue_id} 共享场地",
                kind=kind,
                unit_id=owner.id,
                community_id=community.id,
                address="原平市新原路 1 号",
                capacity=capacity,
                opens_at=opens_at,
                closes_at=closes_at,
                alert_threshold_pct=threshold_pct,
            )
        )
        session.commit()


def closing_hours_ago(now: datetime, hours: float) -> time:
    """A closing time ``hours`` before ``now`` in the city, to the minute: the occupancy day
    began then. (An opening time ``hours`` before ``now`` is the same clock time: the venue is
    open then, until that time tomorrow.)"""
    local = (now - timedelta(hours=hours)).astimezone(CITY_TZ)
    return time(local.hour, local.minute)


def counter_record(venue: str, r: GateReading) -> EventRecord:
    event = CounterEvent(
        id=uuid.uuid5(r.edge_boot, f"{venue}/{r.seq}"),
        site=venue,
        device=r.device,
        boot=r.edge_boot,
        seq=r.seq,
        ts=r.time,
        data=CounterData(
            unit_id=1, device_boots=r.device_boots, count_in=r.count_in, count_out=r.count_out
        ),
    )
    return _record(event)


def bays_record(venue: str, r: BayReading) -> EventRecord:
    event = BaysEvent(
        id=uuid.uuid5(r.edge_boot, f"{venue}/{r.seq}"),
        site=venue,
        device=r.device,
        boot=r.edge_boot,
        seq=r.seq,
        ts=r.time,
        data=BaysData(unit_id=2, bays=r.bays),
    )
    return _record(event)


def _record(event: CounterEvent | BaysEvent) -> EventRecord:
    return EventRecord(
        event=event,
        received_at=datetime.now(UTC),
        topic=topics.event(event.site, event.device, EventKind(event.kind)),
        payload=event.to_bytes(),
    )


T = TypeVar("T")


def batches(items: Sequence[T], sizes: Iterator[int]) -> Iterator[list[T]]:
    start = 0
    while start < len(items):
        n = next(sizes)
        yield list(items[start : start + n])
        start += n


@dataclass
class Gate:
    name: str
    boots: int
    count_in: int
    count_out: int


@dataclass
class SimVenue:
    """A venue as it really is: the people inside and what its gates' registers say."""

    gates: list[Gate]
    inside: int = 0
    entered: int = 0
    clock: datetime = T0
    seq: int = 0
    edge_boot: uuid.UUID = EDGE_BOOTS[0]
    readings: list[GateReading] = field(default_factory=list)
    people_at_poll: dict[int, int] = field(default_factory=dict)

    def tick(self) -> None:
        self.clock += timedelta(seconds=1)

    def enter(self, gate: int, n: int) -> None:
        g = self.gates[gate]
        g.count_in = (g.count_in + n) % WRAP
        self.inside += n
        self.entered += n
        self.tick()

    def leave(self, gate: int, n: int) -> None:
        n = min(n, self.inside)
        g = self.gates[gate]
        g.count_out = (g.count_out + n) % WRAP
        self.inside -= n
        self.tick()

    def poll(self, gate: int) -> None:
        g = self.gates[gate]
        self.seq += 1
        self.readings.append(
            GateReading(
                device=g.name,
                device_boots=g.boots,
                edge_boot=self.edge_boot,
                seq=self.seq,
                time=self.clock,
                count_in=g.count_in,
                count_out=g.count_out,
            )
        )
        self.tick()

    def poll_all(self) -> datetime:
        for i in range(len(self.gates)):
            self.poll(i)
        self.people_at_poll[len(self.readings)] = self.inside
        return self.clock

    def power_loss(self, gate: int) -> None:
        """Read just before the power goes (so nothing is lost), then restart from zero."""
        self.poll(gate)
        g = self.gates[gate]
        g.boots += 1
        g.count_in = g.count_out = 0
        self.tick()

    def edge_restart(self) -> None:
        """The edge agent restarts: new boot id, its sequence goes on."""
        self.edge_boot = EDGE_BOOTS[(EDGE_BOOTS.index(self.edge_boot) + 1) % len(EDGE_BOOTS)]
