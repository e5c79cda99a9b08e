"""The whole city's venue sensors as MQTT load: every venue's edge publishing its readings.

Each venue is one MQTT client on its own edge account (username = site id, so the broker's ACL
applies as in production) with its own boot and site sequence, publishing the contract's events:
``counter`` for its gate counters and ``bays`` for its bay-sensor modules, each sensor once a
period, spread evenly over the period, plus a heartbeat every ``HEARTBEAT_S``. Counters count up
and bays change as at a busy venue, so every reading differs from the last (the edge would publish
each one). The Modbus polling of a real venue happens on the venues' own boxes and is not part of
this load: it measures what reaches the hub.

``CityLoad`` is the API for a benchmark that measures something else meanwhile (the hub's CPU and
memory in ``benchmarks.city_load``); ``python -m benchmarks.city_load --load-only --broker URL
--credentials FILE`` points the same load at a running system (e.g. the demo's broker).
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import paho.mqtt.client as mqtt

from benchmarks._mqtt import BenchClient
from mqtt_contract import topics
from mqtt_contract.models import (
    BaysData,
    BaysEvent,
    CounterData,
    CounterEvent,
    DeviceHealth,
    Health,
)
from mqtt_contract.topics import EventKind

log = logging.getLogger(__name__)

VENUES = 52
COUNTERS_PER_VENUE = 4
BAY_MODULES_PER_VENUE = 6
BAYS_PER_MODULE = 16
TICKS_PER_PERIOD = 10
HEARTBEAT_S = 10.0


@dataclass(frozen=True)
class Sensor:
    device: str
    kind: EventKind
    unit_id: int


@dataclass(frozen=True)
class LoadStats:
    readings: int
    """Readings the broker accepted (QoS 1 queued with paho; acknowledged unless ``refused``)."""
    refused: int
    """Readings paho would not queue (its window full): the load could not be kept up."""
    heartbeats: int
    elapsed_s: float

    @property
    def rate(self) -> float:
        return self.readings / self.elapsed_s if self.elapsed_s else 0.0


def venue_sites(venues: int = VENUES) -> list[str]:
    return [f"venue-{n:02d}" for n in range(1, venues + 1)]


def venue_sensors(
    counters: int = COUNTERS_PER_VENUE, bay_modules: int = BAY_MODULES_PER_VENUE
) -> list[Sensor]:
    gates = [Sensor(f"gate-{n}", EventKind.COUNTER, n) for n in range(1, counters + 1)]
    bays = [Sensor(f"bays-{n}", EventKind.BAYS, counters + n) for n in range(1, bay_modules + 1)]
    return gates + bays


class _Venue:
    """One venue's edge: its client, boot, sequence and sensor state (one thread uses it)."""

    def __init__(self, site: str, client: BenchClient, sensors: list[Sensor], seed: int) -> None:
        self.site, self.client, self.sensors = site, client, sensors
        self.boot = uuid.uuid4()
        self.seq = 0
        self._rng = random.Random(seed)
        self._counts = {s.device: [0, 0] for s in sensors if s.kind is EventKind.COUNTER}
        self._bays = {s.device: [False] * BAYS_PER_MODULE for s in sensors}

    def reading(self, sensor: Sensor) -> tuple[str, bytes]:
        self.seq += 1
        envelope = {
            "id": uuid.uuid4(),
            "site": self.site,
            "device": sensor.device,
            "boot": self.boot,
            "seq": self.seq,
            "ts": datetime.now(UTC),
        }
        if sensor.kind is EventKind.COUNTER:
            counts = self._counts[sensor.device]
            counts[0] += self._rng.randint(1, 3)
            counts[1] = min(counts[0], counts[1] + self._rng.randint(0, 3))
            data = CounterData(
                unit_id=sensor.unit_id, device_boots=1, count_in=counts[0], count_out=counts[1]
            )
            payload = CounterEvent(data=data, **envelope).to_bytes()
        else:
            bits = self._bays[sensor.device]
            flip = self._rng.randrange(len(bits))
            bits[flip] = not bits[flip]
            bays = BaysData(unit_id=sensor.unit_id, bays="".join("1" if b else "0" for b in bits))
            payload = BaysEvent(data=bays, **envelope).to_bytes()
        return topics.event(self.site, sensor.device, sensor.kind), payload

    def heartbeat(self, started: float) -> bytes:
        now = datetime.now(UTC)
        return Health(
            site=self.site,
            boot=self.boot,
            ts=now,
            uptime_s=round(time.monotonic() - started, 1),
            outbox_depth=0,
            agent_version="bench",
            devices=[
                DeviceHealth(
                    id=s.device,
                    kind="people_counter" if s.kind is EventKind.COUNTER else "bay_sensor",
                    state="ok",
                    frames_ok=self.seq,
                    frame_errors=0,
                    port_errors=0,
                    last_frame_at=now,
                )
                for s in self.sensors
            ],
        ).to_bytes()


class CityLoad:
    """Connect every venue's client, then :meth:`run` the load until a deadline or :meth:`stop`."""

    def __init__(
        self,
        broker_url: str,
        passwords: Mapping[str, str],
        *,
        venues: int = VENUES,
        counters: int = COUNTERS_PER_VENUE,
        bay_modules: int = BAY_MODULES_PER_VENUE,
        period_s: float = 1.0,
    ) -> None:
        if period_s <= 0 or venues < 1:
            raise ValueError("period_s must be > 0 and venues >= 1")
        sites = venue_sites(venues)
        missing = [s for s in sites if s not in passwords]
        if missing:
            raise ValueError(f"no broker password for {missing[:3]}... ({len(missing)} venues)")
        self.period_s = period_s
        self._stop = threading.Event()
        self._venues: list[_Venue] = []
        sensors = venue_sensors(counters, bay_modules)
        run = uuid.uuid4().hex[:8]
        try:
            for n, site in enumerate(sites):
                client = BenchClient(broker_url, (site, passwords[site]), f"bench-{site}-{run}")
                client.connect()
                self._venues.append(_Venue(site, client, sensors, seed=n))
        except BaseException:
            self.close()
            raise

    @property
    def sensors(self) -> int:
        return sum(len(v.sensors) for v in self._venues)

    def run(self, duration_s: float) -> LoadStats:
        """Publish every sensor's reading once a period for ``duration_s`` (or until stopped)."""
        slots = [
            [(v, s) for v in self._venues for i, s in enumerate(v.sensors) if i % TICKS_PER_PERIOD == t]
            for t in range(TICKS_PER_PERIOD)
        ]  # fmt: skip
        tick_s = self.period_s / TICKS_PER_PERIOD
        started = time.monotonic()
        next_heartbeat = started
        readings = refused = heartbeats = 0
        tick = 0
        while not self._stop.is_set():
            due = started + tick * tick_s
            if due - started >= duration_s:
                break
            self._stop.wait(max(0.0, due - time.monotonic()))
            for venue, sensor in slots[tick % TICKS_PER_PERIOD]:
                topic, payload = venue.reading(sensor)
                info = venue.client.client.publish(topic, payload, qos=1)
                if info.rc == mqtt.MQTT_ERR_SUCCESS:
                    readings += 1
                else:
                    refused += 1
            if time.monotonic() >= next_heartbeat:
                next_heartbeat += HEARTBEAT_S
                for venue in self._venues:
                    venue.client.client.publish(
                        topics.health(venue.site), venue.heartbeat(started), qos=0
                    )
                    heartbeats += 1
            tick += 1
        elapsed = time.monotonic() - started
        return LoadStats(readings, refused, heartbeats, elapsed)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        for venue in self._venues:
            venue.client.close()
        self._venues.clear()
