"""Occupancy records (SQLAlchemy 2): what the hub derives from the raw counter and bay readings.

Everything here can be rebuilt from ``counter_readings`` and ``bay_readings``; it is kept so that
the live state and the rollups need not read a day of raw readings each time. Every row is
written by idempotent merges (first and last reading by the readings' own order) or by
recomputation, never by increments, so redelivered batches change nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import ID_LENGTH, Base


class OccupancyGateDay(Base):
    """One device boot of one gate counter over one occupancy day (closing to closing): its first
    and last reading. The previous day's last reading is the base the day counts from."""

    __tablename__ = "occupancy_gate_days"
    __table_args__ = (Index("ix_occupancy_gate_days_venue_day", "venue_id", "day_start"),)

    venue_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    device_boots: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day_start: Mapped[datetime] = mapped_column(primary_key=True)
    first_time: Mapped[datetime]
    first_seq: Mapped[int] = mapped_column(BigInteger)
    first_in: Mapped[int] = mapped_column(BigInteger)
    first_out: Mapped[int] = mapped_column(BigInteger)
    last_time: Mapped[datetime]
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_in: Mapped[int] = mapped_column(BigInteger)
    last_out: Mapped[int] = mapped_column(BigInteger)


class OccupancyBaySensor(Base):
    """The last reading of each bay sensor at a venue."""

    __tablename__ = "occupancy_bay_sensors"

    venue_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    last_time: Mapped[datetime]
    last_seq: Mapped[int] = mapped_column(BigInteger)
    bays: Mapped[str] = mapped_column(Text)
    occupied: Mapped[int] = mapped_column(Integer)


class VenueOccupancy(Base):
    """A venue's live occupancy, recomputed after every batch that brings it readings and at
    its closing time."""

    __tablename__ = "venue_occupancy"

    venue_id: Mapped[str] = mapped_column(
        ForeignKey("venues.id", ondelete="CASCADE"), primary_key=True
    )
    occupancy: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16), doc="counters, bays or none")
    visits: Mapped[int] = mapped_column(BigInteger, doc="people in since the day started")
    day_start: Mapped[datetime] = mapped_column(doc="the last closing time: occupancy reset")
    as_of: Mapped[datetime | None] = mapped_column(doc="device time of the newest reading used")
    updated_at: Mapped[datetime]


class OccupancyRollup(Base):
    """Occupancy of a venue per 5 minutes (``5m``) or per hour (``1h``), recomputed whole."""

    __tablename__ = "occupancy_rollups"

    venue_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    step: Mapped[str] = mapped_column(String(4), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)
    readings: Mapped[int] = mapped_column(Integer)
    visits: Mapped[int] = mapped_column(BigInteger)
    peak: Mapped[int] = mapped_column(Integer)
    mean: Mapped[float] = mapped_column(Float)
    last: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime]


class OccupancyDirty(Base):
    """A 5-minute bucket that got readings since its rollup was computed. ``generation`` goes up
    with every batch that touches it, so a recomputation removes only the marks it has seen."""

    __tablename__ = "occupancy_dirty"

    venue_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=1)


class CapacityAlertRecord(Base):
    """A capacity alert of a venue: raised at or above its threshold, cleared below the threshold
    less the hysteresis. At most one is open per venue."""

    __tablename__ = "capacity_alerts"
    __table_args__ = (
        Index(
            "uq_capacity_alerts_open_venue",
            "venue_id",
            unique=True,
            sqlite_where=text("cleared_at IS NULL"),
            postgresql_where=text("cleared_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    venue_id: Mapped[str] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    raised_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]
    capacity: Mapped[int] = mapped_column(Integer)
    threshold_pct: Mapped[float] = mapped_column(Float)
    clear_below_pct: Mapped[float] = mapped_column(Float)
    occupancy_at_raise: Mapped[int] = mapped_column(Integer)
    peak_occupancy: Mapped[int] = mapped_column(Integer)
    occupancy_at_clear: Mapped[int | None] = mapped_column(Integer)
    raised_published_at: Mapped[datetime | None]
    cleared_published_at: Mapped[datetime | None]
