"""What the hub writes to InfluxDB: measurements, tags and fields, from the ingest records.

``SCHEMA`` is the contract with Grafana's queries; docs/telemetry.md shows it as a table and a test
checks that table, this dictionary and what really lands in the server against one another. All
fields are numbers (integers unless marked float) so that every InfluxDB 2 compatible store keeps
them. The point time is the device's time, so a redelivered reading overwrites itself (same
measurement, tags and time) instead of counting twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from hub.ingest.events import EventRecord, HealthRecord, Record
from mqtt_contract.models import BaysEvent, CheckinEvent, CounterEvent

FieldKind = Literal["int", "float"]


@dataclass(frozen=True, slots=True)
class Measurement:
    tags: tuple[str, ...]
    fields: dict[str, FieldKind]
    about: str


SCHEMA: dict[str, Measurement] = {
    "people_counter": Measurement(
        tags=("site", "device"),
        fields={
            "count_in": "int",
            "count_out": "int",
            "device_boots": "int",
            "status": "int",
            "seq": "int",
        },
        about="a people counter's cumulative registers as read (they wrap and restart)",
    ),
    "bay_sensor": Measurement(
        tags=("site", "device"),
        fields={"occupied": "int", "total": "int", "seq": "int"},
        about="a parking-bay sensor bus: bays occupied of all bays",
    ),
    "checkin": Measurement(
        tags=("site", "device", "decision"),
        fields={"count": "int", "seq": "int"},
        about="one card tap (count is always 1: sum it); never the card or its hash",
    ),
    "edge_health": Measurement(
        tags=("site",),
        fields={"uptime_s": "float", "outbox_depth": "int", "oldest_pending_s": "float"},
        about="an edge agent's heartbeat (oldest_pending_s only while events wait)",
    ),
    "device_health": Measurement(
        tags=("site", "device", "kind"),
        fields={
            "state_code": "int",
            "frames_ok": "int",
            "frame_errors": "int",
            "port_errors": "int",
            "timeouts": "int",
        },
        about="a device as its edge reports it; state_code 0 ok, 1 degraded, 2 disconnected",
    ),
    "venue_occupancy": Measurement(
        tags=("venue", "kind"),
        fields={"occupancy": "int", "capacity": "int", "ratio_pct": "float", "alert": "int"},
        about="the hub's live occupancy of a venue (alert 1 while a capacity alert is open)",
    ),
}

STATE_CODES = {"ok": 0, "degraded": 1, "disconnected": 2}


@dataclass(frozen=True, slots=True)
class Sample:
    """One point, free of the client library's types."""

    measurement: str
    tags: dict[str, str]
    fields: dict[str, int | float]
    time: datetime


def samples_of(records: Iterable[Record | Sample]) -> Iterator[Sample]:
    for record in records:
        if isinstance(record, Sample):
            yield record
        elif isinstance(record, EventRecord):
            yield _event(record)
        elif isinstance(record, HealthRecord):
            yield from _health(record)


def _event(record: EventRecord) -> Sample:
    e = record.event
    tags = {"site": e.site, "device": e.device}
    if isinstance(e, CounterEvent):
        d = e.data
        fields: dict[str, int | float] = {
            "count_in": d.count_in,
            "count_out": d.count_out,
            "device_boots": d.device_boots,
            "status": d.status,
            "seq": e.seq,
        }
        return Sample("people_counter", tags, fields, e.ts)
    if isinstance(e, BaysEvent):
        fields = {"occupied": e.data.occupied, "total": len(e.data.bays), "seq": e.seq}
        return Sample("bay_sensor", tags, fields, e.ts)
    assert isinstance(e, CheckinEvent)
    return Sample(
        "checkin", {**tags, "decision": e.data.decision}, {"count": 1, "seq": e.seq}, e.ts
    )


def _health(record: HealthRecord) -> Iterator[Sample]:
    h = record.health
    fields: dict[str, int | float] = {"uptime_s": h.uptime_s, "outbox_depth": h.outbox_depth}
    if h.oldest_pending_s is not None:
        fields["oldest_pending_s"] = h.oldest_pending_s
    yield Sample("edge_health", {"site": h.site}, fields, h.ts)
    for d in h.devices:
        yield Sample(
            "device_health",
            {"site": h.site, "device": d.id, "kind": d.kind},
            {
                "state_code": STATE_CODES[d.state],
                "frames_ok": d.frames_ok,
                "frame_errors": d.frame_errors,
                "port_errors": d.port_errors,
                "timeouts": d.timeouts,
            },
            h.ts,
        )


def occupancy_sample(
    venue: str, kind: str, *, occupancy: int, capacity: int, alert: bool, at: datetime
) -> Sample:
    return Sample(
        "venue_occupancy",
        {"venue": venue, "kind": kind},
        {
            "occupancy": occupancy,
            "capacity": capacity,
            "ratio_pct": round(100.0 * occupancy / capacity, 2),
            "alert": int(alert),
        },
        at,
    )


def line_of(sample: Sample) -> str:
    """InfluxDB line protocol, millisecond precision; field types as ``SCHEMA`` says."""
    kinds = SCHEMA[sample.measurement].fields
    tags = "".join(f",{_escape(k)}={_escape(v)}" for k, v in sorted(sample.tags.items()))
    fields = ",".join(
        f"{_escape(k)}={float(v)!r}" if kinds[k] == "float" else f"{_escape(k)}={int(v)}i"
        for k, v in sample.fields.items()
    )
    millis = int(sample.time.timestamp() * 1000)
    return f"{_escape(sample.measurement)}{tags} {fields} {millis}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")
