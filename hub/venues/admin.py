"""Keeping the venue registry current: the rules a venue's fields, hours and closures obey
beyond their types, and who may change which field.

A refusal is a :class:`FieldError` naming the field, for the caller (the API, an import) to
show next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.org.models import Agreement
from hub.venues.models import Venue, VenueClosure, VenueHours

MAX_CLOSURE_DAYS = 366
"""A closure is at most a year long (works on a sports ground); longer is archiving the venue."""

MANAGER_FIELDS = frozenset({"capacity", "alert_threshold_pct"})
"""What a venue manager may change of its own unit's venues (besides hours and closures)."""


class FieldError(ValueError):
    """A value the registry refuses: ``field`` names it, ``kind`` says how (``reference``,
    ``range``, ``duplicate``, ...)."""

    def __init__(
        self, field: str, message: str, kind: str = "range", at: tuple[int, ...] = ()
    ) -> None:
        super().__init__(message)
        self.field = field
        self.kind = kind
        self.at = at
        """Where in a list body the field is (its item's index)."""


def check_agreement(
    session: Session, agreement_id: int | None, *, unit_id: int, community_id: int
) -> None:
    """The agreement that opened a venue is its owner unit's with the venue's community."""
    if agreement_id is None:
        return
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise FieldError("agreement_id", f"agreement_id: no agreement {agreement_id}", "reference")
    if agreement.unit_id != unit_id or agreement.community_id != community_id:
        raise FieldError(
            "agreement_id",
            f"agreement_id: agreement {agreement_id} is between unit {agreement.unit_id} and "
            f"community {agreement.community_id}, not the venue's unit {unit_id} and "
            f"community {community_id}",
            "reference",
        )


# --- weekday hours ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayHours:
    """A weekday's hours as given (0 is Monday); both ``None``: closed that weekday."""

    weekday: int
    opens_at: time | None
    closes_at: time | None


def set_hours(session: Session, venue: Venue, days: Sequence[DayHours]) -> None:
    """Replace the venue's weekday hours with ``days`` (a weekday left out keeps the venue's
    every-day hours). Each weekday at most once; both times or neither."""
    seen: set[int] = set()
    for i, day in enumerate(days):
        if day.weekday in seen:
            raise FieldError("weekday", f"weekday: {day.weekday} is given twice", "duplicate", (i,))
        seen.add(day.weekday)
        if (day.opens_at is None) != (day.closes_at is None):
            missing = "opens_at" if day.opens_at is None else "closes_at"
            raise FieldError(
                missing,
                f"{missing}: give both times, or neither (closed on weekday {day.weekday})",
                "required",
                (i,),
            )
    # row by row through the ORM, so that the audit log records each weekday's change
    own = {
        h.weekday: h
        for h in session.scalars(select(VenueHours).where(VenueHours.venue_id == venue.id))
    }
    for day in days:
        row = own.pop(day.weekday, None)
        if row is None:
            session.add(
                VenueHours(
                    venue_id=venue.id,
                    weekday=day.weekday,
                    opens_at=day.opens_at,
                    closes_at=day.closes_at,
                )
            )
        else:
            row.opens_at, row.closes_at = day.opens_at, day.closes_at
    for row in own.values():
        session.delete(row)


def week(session: Session, venue: Venue) -> list[tuple[DayHours, bool]]:
    """The seven weekdays' hours in force, each with whether they are its own (else the
    venue's every-day hours)."""
    own = {
        h.weekday: h
        for h in session.scalars(select(VenueHours).where(VenueHours.venue_id == venue.id))
    }
    return [
        (DayHours(d, own[d].opens_at, own[d].closes_at), True)
        if d in own
        else (DayHours(d, venue.opens_at, venue.closes_at), False)
        for d in range(7)
    ]


# --- closures -----------------------------------------------------------------------------------


def add_closure(
    session: Session, venue: Venue, *, starts_on: date, ends_on: date, reason: str
) -> VenueClosure:
    """Close the venue on whole days, ``starts_on`` to ``ends_on`` inclusive."""
    if ends_on < starts_on:
        raise FieldError("ends_on", f"ends_on: {ends_on} is before starts_on {starts_on}")
    if ends_on - starts_on >= timedelta(days=MAX_CLOSURE_DAYS):
        raise FieldError(
            "ends_on", f"ends_on: a closure is at most {MAX_CLOSURE_DAYS} days (archive instead)"
        )
    if not reason.strip():
        raise FieldError("reason", "reason: say why the venue is closed", "required")
    closure = VenueClosure(venue_id=venue.id, starts_on=starts_on, ends_on=ends_on, reason=reason)
    session.add(closure)
    return closure


def closures(session: Session, venue_id: str) -> list[VenueClosure]:
    return list(
        session.scalars(
            select(VenueClosure)
            .where(VenueClosure.venue_id == venue_id)
            .order_by(VenueClosure.starts_on, VenueClosure.id)
        )
    )


def remove_closure(session: Session, venue_id: str, closure_id: int) -> bool:
    """Delete one closure of the venue (a closure is a plan, not history the venue keeps: the
    audit log keeps what it was); ``False`` if the venue has no such closure."""
    closure = session.get(VenueClosure, closure_id)
    if closure is None or closure.venue_id != venue_id:
        return False
    session.delete(closure)
    return True
