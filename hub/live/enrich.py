"""What a centre's staff may see of a tap: the member's masked name and the activity it counted
toward, from the attendance the same commit recorded. Never a card number; a name only masked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Connection, select

from hub.org.models import Activity, Attendance, Member
from hub.org.names import mask_name

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class TapContext:
    member: str | None
    """The member's name, masked (张*明); ``None`` for a card the records do not know."""
    activity: str | None
    """The activity open at the centre then; ``None`` for a walk-in service."""
    activity_id: int | None


def tap_context(conn: Connection, event_ids: Iterable[UUID]) -> Mapping[UUID, TapContext]:
    """Context of the taps that are attendance at a centre (a venue's taps are not)."""
    ids = list(event_ids)
    found: dict[UUID, TapContext] = {}
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(Attendance.event_id, Member.name, Activity.title, Activity.id)
            .outerjoin(Member, Member.id == Attendance.member_id)
            .outerjoin(Activity, Activity.id == Attendance.activity_id)
            .where(Attendance.event_id.in_(ids[start : start + _CHUNK]))
        )
        for event_id, name, title, activity_id in conn.execute(query):
            found[event_id] = TapContext(mask_name(name) if name else None, title, activity_id)
    return found
