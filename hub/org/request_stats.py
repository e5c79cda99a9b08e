"""How service requests went, per unit and per community, for a year (the assessment's
"problems solved by units"): received, resolved, the median time to resolve, overdue.

- A community received the requests raised in it during the year (Asia/Shanghai year).
- A unit received the requests transferred to it during the year that it still holds (a declined
  request goes back to the community and is not the unit's).
- Resolved: resolved (or confirmed) during the year; the time to resolve runs from raising to
  resolving, as the resident waits.
- Overdue: of those received, the ones resolved after their deadline or still open past it at
  ``now``. Requests recorded before deadlines existed (no ``due_at``) are never overdue.

One query per side, the median taken in Python: the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.org.calendar import year_bounds
from hub.org.models import ServiceRequest
from hub.org.requests import DONE_STATUSES, now_utc


@dataclass(frozen=True, slots=True)
class RequestStats:
    received: int = 0
    resolved: int = 0
    median_hours_to_resolve: float | None = None
    overdue: int = 0


EMPTY = RequestStats()

_Row = tuple[int | None, datetime, datetime | None, datetime | None, datetime | None, str]


def _tally(
    rows: Iterable[_Row], start: datetime, end: datetime, now: datetime
) -> dict[int, RequestStats]:
    received: dict[int, int] = defaultdict(int)
    overdue: dict[int, int] = defaultdict(int)
    hours: dict[int, list[float]] = defaultdict(list)
    for key, raised_at, received_at, resolved_at, due_at, status in rows:
        if key is None:
            continue
        if received_at is not None and start <= received_at < end:
            received[key] += 1
            finished = resolved_at if status in DONE_STATUSES and resolved_at else now
            if due_at is not None and finished > due_at:
                overdue[key] += 1
        if status in DONE_STATUSES and resolved_at is not None and start <= resolved_at < end:
            hours[key].append((resolved_at - raised_at).total_seconds() / 3600)
    keys = set(received) | set(hours)
    return {
        k: RequestStats(
            received=received.get(k, 0),
            resolved=len(hours.get(k, [])),
            median_hours_to_resolve=round(median(hours[k]), 1) if hours.get(k) else None,
            overdue=overdue.get(k, 0),
        )
        for k in keys
    }


def by_unit(session: Session, year: int, *, now: datetime | None = None) -> dict[int, RequestStats]:
    start, end = year_bounds(year)
    r = ServiceRequest
    rows = session.execute(
        select(r.unit_id, r.raised_at, r.transferred_at, r.resolved_at, r.due_at, r.status).where(
            r.unit_id.is_not(None),
            or_(r.transferred_at.between(start, end), r.resolved_at.between(start, end)),
        )
    )
    return _tally(rows, start, end, now or now_utc())


def by_community(
    session: Session, year: int, *, now: datetime | None = None
) -> dict[int, RequestStats]:
    start, end = year_bounds(year)
    r = ServiceRequest
    rows = session.execute(
        select(r.community_id, r.raised_at, r.raised_at, r.resolved_at, r.due_at, r.status).where(
            or_(r.raised_at.between(start, end), r.resolved_at.between(start, end))
        )
    )
    return _tally(rows, start, end, now or now_utc())
