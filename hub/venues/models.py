"""The venue registry and its occupancy records (SQLAlchemy 2).

``Venue`` is the registry row; the rest is what the hub derives from the raw counter and bay readings.

Everything here can be rebuilt from ``counter_readings`` and ``bay_readings``; it is kept so that
the live state and the rollups need not read a day of raw readings each time. Every row is
written by idempotent merges (first and last reading by the readings' own order) or by
recomputation, never by increments, so redelivered batches change nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.audit.models import Audited
from hub.core.base import ID_LENGTH, Archivable, Base, name_column, one_of

VENUE_KINDS = ("sports_ground", "car_park", "other")


class Venue(Archivable, Audited, Base):
    """共享场所: a sports ground or car park a unit opened to residents; its id is the site id of
    its edge agent (``venue-01``). Opening hours are local time (Asia/Shanghai): ``opens_at`` and
    ``closes_at`` are every day's unless :class:`VenueHours` gives a weekday its own, and a
    :class:`VenueClosure` closes whole days."""

    __tablename__ = "venues"
    __table_args__ = (
        CheckConstraint(one_of("kind", VENUE_KINDS), name="kind"),
        CheckConstraint("capacity >= 1", name="capacity"),
        CheckConstraint(
            "alert_threshold_pct > 0 AND alert_threshold_pct <= 100", name="alert_threshold"
        ),
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = name_column()
    kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True, doc="owner unit")
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    address: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer)
    opens_at: Mapped[time] = mapped_column(Time)
    closes_at: Mapped[time] = mapped_column(Time)
    alert_threshold_pct: Mapped[float] = mapped_column(Float, default=90.0, server_default="90")
    agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreements.id"), doc="the co-building agreement that opened it"
    )
    opened_on: Mapped[date | None] = mapped_column(Date, doc="the day it opened to residents")
    latitude: Mapped[float | None] = mapped_column(Float, doc="WGS-84 degrees")
    longitude: Mapped[float | None] = mapped_column(Float, doc="WGS-84 degrees")
    public_count: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        server_default="0",
        doc="whether the public may see its exact count (else only a level: free, busy, full)",
    )


class VenueHours(Audited, Base):
    """A weekday's own opening hours at a venue (``weekday`` 0 is Monday); both times ``NULL``:
    closed that weekday. A weekday without a row keeps the venue's ``opens_at``-``closes_at``."""

    __tablename__ = "venue_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("(opens_at IS NULL) = (closes_at IS NULL)", name="both_or_neither"),
    )

    venue_id: Mapped[str] = mapped_column(
        ForeignKey("venues.id", ondelete="CASCADE"), primary_key=True
    )
    weekday: Mapped[int] = mapped_column(Integer, primary_key=True)
    opens_at: Mapped[time | None] = mapped_column(Time)
    closes_at: Mapped[time | None] = mapped_column(Time)


class VenueClosure(Audited, Base):
    """Whole days a venue is closed (a holiday, works), ``starts_on`` to ``ends_on`` inclusive,
    local dates: no open day in the venue-sharing report and no capacity alert on them."""

    __tablename__ = "venue_closures"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="period"),
        Index("ix_venue_closures_venue_starts_on", "venue_id", "starts_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venue_id: Mapped[str] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))


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


class MapOutlines(Base):
    """The outlines the city uploaded for the venue maps (sub-districts, communities) as one
    GeoJSON FeatureCollection of polygons, checked on the way in (``hub.venues.outlines``): the
    row ``id`` 1, replaced whole by each upload (``hub.venues.outlines.store``)."""

    __tablename__ = "map_outlines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    geojson: Mapped[str] = mapped_column(Text)
    features: Mapped[int] = mapped_column(Integer)
    vertices: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime]
    uploaded_by: Mapped[str] = mapped_column(String(64))
