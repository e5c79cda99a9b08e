"""服务事项转办: the moves of a service request, each recorded as a step of its history.

A request is raised (by centre staff, records staff or a resident's public form), classified,
transferred to a unit (the units whose agreements' supply–demand menus offer the service are
suggested; a person chooses), accepted or declined by the unit (declined: back in the
community's queue with the reason), resolved with a note, then confirmed or reopened by the
community. Every move checks the state it starts from (a move from the wrong state is a
:class:`RequestStateError`), stamps the request and adds a :class:`ServiceRequestEvent` with who
and when; the request row is ``Audited``, so the audit log records the write as well.

Who may make which move, and on which requests, is the API's business (``hub.auth.roles``); this
module knows only names and states.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.org.models import (
    CATEGORY_MAX_CHARS,
    CONTACT_MAX_CHARS,
    NOTE_MAX_CHARS,
    PLACE_MAX_CHARS,
    SUMMARY_MAX_CHARS,
    Agreement,
    ServiceMenuItem,
    ServiceRequest,
    ServiceRequestEvent,
    Unit,
)
from hub.org.names import check_text

UNCLASSIFIED = "待分类"
"""The category of a resident's request until the community classifies it."""

DEFAULT_DEADLINE_DAYS: Mapping[str, float] = {
    "安全隐患": 1,  # a safety hazard: a day
    "环境卫生": 3,
    "政策咨询": 3,
    "设施维修": 5,
    "停车管理": 5,
    "邻里纠纷": 7,
    UNCLASSIFIED: 2,  # an unclassified request must be looked at soon
}
"""Days from raising to resolving, per category (docs/service-requests.md); a category not here
takes ``OTHER_DEADLINE_DAYS``. ``HUB_REQUEST_DEADLINE_DAYS`` (JSON) overrides or adds lines."""
OTHER_DEADLINE_DAYS = 7.0

CATEGORY_OFFERS: Mapping[str, tuple[str, ...]] = {
    "设施维修": ("维修", "照明", "设施"),
    "环境卫生": ("环境", "卫生", "清洁", "绿化"),
    "停车管理": ("停车", "车位", "场地"),
    "邻里纠纷": ("法律", "调解", "心理"),
    "政策咨询": ("政策", "咨询", "宣讲", "社保"),
    "安全隐患": ("安全", "消防", "防汛", "维修"),
}
"""Words that, in a menu's offer, say it serves the category (the category's own name counts as
well): how the hub suggests units; a person still chooses."""

OPEN_STATUSES = ("raised", "transferred", "accepted", "declined")
"""Not yet resolved: the deadline runs."""
DONE_STATUSES = ("resolved", "confirmed")
COMMUNITY_QUEUE = ("raised", "declined", "resolved")
"""Waiting for the community: to classify and transfer, to transfer again, to confirm."""
UNIT_QUEUE = ("transferred", "accepted")
"""Waiting for the unit: to accept or decline, to resolve."""

_PHONE_PATTERN = r"[ ()\-]*\+?([ ()\-]*[0-9]){7,15}[ ()\-]*"
_EMAIL_PATTERN = r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+"
CONTACT_PATTERN = f"^({_PHONE_PATTERN}|{_EMAIL_PATTERN})$"
"""A phone number (7 to 15 digits, an optional leading +, spaces, dashes and brackets between)
or an e-mail address: for the API's schema, so a form can check it before sending."""
_PHONE = re.compile(f"^{_PHONE_PATTERN}$")
_EMAIL = re.compile(f"^{_EMAIL_PATTERN}$")
_PHONE_SEPARATORS = re.compile(r"[ ()\-]")


class RequestStateError(Exception):
    """The move is not allowed from the request's state."""


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- what comes in ------------------------------------------------------------------------------


def check_summary(text: str) -> str:
    return check_text(text, SUMMARY_MAX_CHARS)


def check_place(text: str) -> str:
    return check_text(text, PLACE_MAX_CHARS)


def check_note(text: str) -> str:
    return check_text(text, NOTE_MAX_CHARS)


def check_category(text: str) -> str:
    return check_text(text, CATEGORY_MAX_CHARS)


def check_contact(text: str) -> str:
    """A phone number (digits, an optional leading +; spaces, dashes and brackets dropped) or an
    e-mail address, as kept; ``ValueError`` for anything else."""
    if len(text) > CONTACT_MAX_CHARS:
        raise ValueError(f"longer than {CONTACT_MAX_CHARS} characters")
    if _PHONE.fullmatch(text):
        return _PHONE_SEPARATORS.sub("", text)
    if _EMAIL.fullmatch(text):
        return text
    raise ValueError("not a phone number (7 to 15 digits) or an e-mail address")


def mask_contact(contact: str | None) -> str | None:
    """``138****5678``, ``z***@example.com``: enough to tell two apart, not to reach anyone."""
    if contact is None:
        return None
    if "@" in contact:
        local, _, domain = contact.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(contact) <= 7:
        return contact[:2] + "*" * (len(contact) - 2)
    return f"{contact[:3]}****{contact[-4:]}"


# --- deadlines ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deadlines:
    days: Mapping[str, float]
    other_days: float = OTHER_DEADLINE_DAYS

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, float] | None = None) -> Deadlines:
        return cls({**DEFAULT_DEADLINE_DAYS, **(overrides or {})})

    def due(self, category: str, raised_at: datetime) -> datetime:
        return raised_at + timedelta(days=self.days.get(category, self.other_days))


DEFAULT_DEADLINES = Deadlines.with_overrides()


# --- the moves ----------------------------------------------------------------------------------


def _step(
    session: Session,
    request: ServiceRequest,
    kind: str,
    actor: str,
    at: datetime,
    *,
    unit_id: int | None = None,
    note: str | None = None,
) -> None:
    session.add(
        ServiceRequestEvent(
            request_id=request.id, at=at, actor=actor, kind=kind, unit_id=unit_id, note=note
        )
    )


def _expect(request: ServiceRequest, move: str, *states: str) -> None:
    if request.status not in states:
        raise RequestStateError(
            f"request {request.id} is {request.status}: it cannot be {move} "
            f"(only when {' or '.join(states)})"
        )


def raise_request(
    session: Session,
    *,
    community_id: int,
    summary: str,
    actor: str,
    category: str = UNCLASSIFIED,
    place: str | None = None,
    contact: str | None = None,
    source: str = "staff",
    deadlines: Deadlines = DEFAULT_DEADLINES,
    now: datetime | None = None,
) -> ServiceRequest:
    at = now or now_utc()
    request = ServiceRequest(
        community_id=community_id,
        category=category,
        summary=summary,
        status="raised",
        raised_at=at,
        source=source,
        place=place,
        contact=contact,
        due_at=deadlines.due(category, at),
    )
    session.add(request)
    session.flush()
    _step(session, request, "raised", actor, at, note=None)
    return request


def classify(
    session: Session,
    request: ServiceRequest,
    category: str,
    actor: str,
    *,
    deadlines: Deadlines = DEFAULT_DEADLINES,
    now: datetime | None = None,
) -> None:
    """A category (and with it the deadline, counted from when it was raised)."""
    _expect(request, "classified", "raised", "declined")
    at = now or now_utc()
    request.category = category
    request.due_at = deadlines.due(category, request.raised_at)
    _step(session, request, "classified", actor, at, note=category)


def transfer(
    session: Session,
    request: ServiceRequest,
    unit_id: int,
    actor: str,
    *,
    now: datetime | None = None,
) -> None:
    _expect(request, "transferred", "raised", "declined")
    at = now or now_utc()
    request.status = "transferred"
    request.unit_id = unit_id
    request.transferred_at = at
    _step(session, request, "transferred", actor, at, unit_id=unit_id)


def accept(
    session: Session, request: ServiceRequest, actor: str, *, now: datetime | None = None
) -> None:
    _expect(request, "accepted", "transferred")
    at = now or now_utc()
    request.status = "accepted"
    request.accepted_at = at
    _step(session, request, "accepted", actor, at, unit_id=request.unit_id)


def decline(
    session: Session,
    request: ServiceRequest,
    reason: str,
    actor: str,
    *,
    now: datetime | None = None,
) -> None:
    """Back in the community's queue, with the reason; the unit no longer sees it."""
    _expect(request, "declined", "transferred")
    at = now or now_utc()
    unit_id = request.unit_id
    request.status = "declined"
    request.unit_id = None
    request.transferred_at = None
    _step(session, request, "declined", actor, at, unit_id=unit_id, note=reason)


def resolve(
    session: Session, request: ServiceRequest, note: str, actor: str, *, now: datetime | None = None
) -> None:
    _expect(request, "resolved", "accepted")
    at = now or now_utc()
    request.status = "resolved"
    request.resolved_at = at
    request.resolution = note
    _step(session, request, "resolved", actor, at, unit_id=request.unit_id, note=note)


def confirm(
    session: Session, request: ServiceRequest, actor: str, *, now: datetime | None = None
) -> None:
    """Done: the resident's contact, needed no longer, is cleared."""
    _expect(request, "confirmed", "resolved")
    at = now or now_utc()
    request.status = "confirmed"
    request.confirmed_at = at
    request.contact = None
    _step(session, request, "confirmed", actor, at, unit_id=request.unit_id)


def reopen(
    session: Session,
    request: ServiceRequest,
    reason: str,
    actor: str,
    *,
    now: datetime | None = None,
) -> None:
    """Not solved after all: the same unit works on it again."""
    _expect(request, "reopened", "resolved")
    at = now or now_utc()
    request.status = "accepted"
    request.resolved_at = None
    _step(session, request, "reopened", actor, at, unit_id=request.unit_id, note=reason)


def contact_viewed(
    session: Session, request: ServiceRequest, actor: str, *, now: datetime | None = None
) -> None:
    """Someone saw the whole contact: a step of the history, so it is never seen unrecorded."""
    _step(session, request, "contact_viewed", actor, now or now_utc(), unit_id=request.unit_id)


def history(session: Session, request_id: int) -> Sequence[ServiceRequestEvent]:
    return session.scalars(
        select(ServiceRequestEvent)
        .where(ServiceRequestEvent.request_id == request_id)
        .order_by(ServiceRequestEvent.at, ServiceRequestEvent.id)
    ).all()


# --- suggestions from the menus -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Suggestion:
    unit_id: int
    unit_name: str
    agreement_id: int
    offers: list[str]
    """The menu's offers that match the category."""


def _matches(category: str, title: str) -> bool:
    words = (category, *CATEGORY_OFFERS.get(category, ()))
    return any(word and word in title for word in words)


def suggest_units(
    session: Session, community_id: int, category: str, *, today: date | None = None
) -> list[Suggestion]:
    """Units with an agreement in force with the community whose menu offers the category's
    service, most matching offers first."""
    day = today or now_utc().date()
    rows = session.execute(
        select(Unit.id, Unit.name, Agreement.id, ServiceMenuItem.title)
        .join(Agreement, Agreement.unit_id == Unit.id)
        .join(ServiceMenuItem, ServiceMenuItem.agreement_id == Agreement.id)
        .where(
            Agreement.community_id == community_id,
            Agreement.archived_at.is_(None),
            Unit.archived_at.is_(None),
            Agreement.signed_on <= day,
            or_(Agreement.ends_on.is_(None), Agreement.ends_on >= day),
            ServiceMenuItem.direction == "offer",
        )
        .order_by(Unit.id, ServiceMenuItem.id)
    )
    found: dict[int, Suggestion] = {}
    for unit_id, unit_name, agreement_id, title in rows:
        if not _matches(category, title):
            continue
        suggestion = found.setdefault(unit_id, Suggestion(unit_id, unit_name, agreement_id, []))
        if title not in suggestion.offers:
            suggestion.offers.append(title)
    return sorted(found.values(), key=lambda s: (-len(s.offers), s.unit_id))
