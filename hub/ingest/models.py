"""The ingest tables: sites, devices, events and dead letters (SQLAlchemy 2, typed ``Mapped[]``).

Every event table's primary key is the event id made at the edge: that is what makes a redelivered
or replayed event land once. Sites and devices are registered the first time the hub hears of them.
Counter and bay readings are kept raw, with their boot and sequence, so that occupancy can be
derived from them whatever order they arrived in.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.base import ID_LENGTH, Base


class Site(Base):
    """A service centre or venue, as its edge agent reports it."""

    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime | None] = mapped_column(
        doc="latest edge time from a status or heartbeat (never ahead of the hub's clock)"
    )
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    state_at: Mapped[datetime | None] = mapped_column(
        doc="when the hub received the status that set ``state`` (arrival order wins)"
    )
    boot: Mapped[uuid.UUID | None]
    agent_version: Mapped[str | None] = mapped_column(Text)
    heartbeat_at: Mapped[datetime | None] = mapped_column(doc="edge time of the last heartbeat")
    outbox_depth: Mapped[int | None] = mapped_column(Integer)
    oldest_pending_s: Mapped[float | None]


class Device(Base):
    """A reader or sensor behind a site's edge; counters come from the edge's heartbeats."""

    __tablename__ = "devices"

    site_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    first_seen: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32), default="unknown")
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    last_seen: Mapped[datetime | None]
    last_frame_at: Mapped[datetime | None]
    frames_ok: Mapped[int] = mapped_column(BigInteger, default=0)
    frame_errors: Mapped[int] = mapped_column(BigInteger, default=0)
    port_errors: Mapped[int] = mapped_column(BigInteger, default=0)
    timeouts: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class _EventEnvelope:
    """The delivery envelope every event table keeps (see ``mqtt_contract.models._Envelope``)."""

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    device_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    boot: Mapped[uuid.UUID]
    seq: Mapped[int] = mapped_column(BigInteger)
    device_time: Mapped[datetime]
    received_at: Mapped[datetime]


class Checkin(_EventEnvelope, Base):
    """One card tap as recorded; written by bulk insert, never one ORM object at a time."""

    __tablename__ = "checkins"
    __table_args__ = (
        ForeignKeyConstraint(
            ["site_id", "device_id"],
            ["devices.site_id", "devices.id"],
            name="fk_checkins_device_devices",
        ),
        Index("ix_checkins_site_id_device_time", "site_id", "device_time"),
        Index("ix_checkins_device_time", "device_time"),
    )

    card_hash: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))
    allowlist_version: Mapped[int | None] = mapped_column(BigInteger)


class CounterReading(_EventEnvelope, Base):
    """Cumulative people-counter registers at a venue gate, as read (they wrap and reset)."""

    __tablename__ = "counter_readings"
    __table_args__ = (
        ForeignKeyConstraint(
            ["site_id", "device_id"],
            ["devices.site_id", "devices.id"],
            name="fk_counter_readings_device_devices",
        ),
        Index("ix_counter_readings_site_device_time", "site_id", "device_id", "device_time"),
    )

    unit_id: Mapped[int] = mapped_column(Integer)
    device_boots: Mapped[int] = mapped_column(BigInteger)
    count_in: Mapped[int] = mapped_column(BigInteger)
    count_out: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[int] = mapped_column(Integer)


class BayReading(_EventEnvelope, Base):
    """Which parking bays a bay sensor saw occupied."""

    __tablename__ = "bay_readings"
    __table_args__ = (
        ForeignKeyConstraint(
            ["site_id", "device_id"],
            ["devices.site_id", "devices.id"],
            name="fk_bay_readings_device_devices",
        ),
        Index("ix_bay_readings_site_device_time", "site_id", "device_id", "device_time"),
    )

    unit_id: Mapped[int] = mapped_column(Integer)
    bays: Mapped[str] = mapped_column(Text, doc='one character per bay, "1" occupied')
    occupied: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)


class DeadLetter(Base):
    """A message that did not validate, kept with its raw bytes and the reason."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    topic: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer, doc="size of the whole payload; may exceed stored")
    reason_kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)


EventTable = type[Checkin] | type[CounterReading] | type[BayReading]
"""Any table that records events (its primary key is the event id)."""
