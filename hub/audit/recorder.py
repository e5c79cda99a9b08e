"""Records changes to :class:`~hub.audit.models.Audited` rows as they are flushed, in the same
transaction: a change and its audit row commit or roll back together.

``after_flush`` sees each flushed object with its primary key (new rows have theirs by then) and
its attribute history (the values before), and writes through the session's connection, so the
audit insert does not flush again.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.state import InstanceState

from hub.audit.context import actor_of
from hub.audit.models import Audited, AuditEntry

REDACTED = "(redacted)"
MAX_VALUE_CHARS = 2000
"""A text value longer than this is cut in the log (a summary, a menu): the log says what
changed, it is not a second copy of the records."""


def _plain(value: Any) -> Any:
    """A JSON value for the log."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


def _row_id(state: InstanceState[Any]) -> str:
    # a new row has no identity key until the flush is over; its primary key is set by now
    identity = state.mapper.primary_key_from_instance(state.obj())
    return "/".join(str(part) for part in identity)


def _columns(state: InstanceState[Any]) -> Iterable[str]:
    return (attr.key for attr in state.mapper.column_attrs)


def _value(obj: Audited, key: str, value: Any) -> Any:
    return REDACTED if key in obj.__audit_redact__ and value is not None else _plain(value)


def _full(state: InstanceState[Any], obj: Audited) -> dict[str, Any]:
    return {key: _value(obj, key, state.dict.get(key)) for key in _columns(state)}


def _changes(state: InstanceState[Any], obj: Audited) -> tuple[dict[str, Any], dict[str, Any]]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in _columns(state):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new:
            continue
        before[key] = _value(obj, key, old)
        after[key] = _value(obj, key, new)
    return before, after


def _update_action(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    if "archived_at" in after and len(after) == 1:
        return "archive" if after["archived_at"] is not None else "restore"
    return "update"


def _entries(session: Session) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for obj in session.new:
        if isinstance(obj, Audited):
            state = inspect(obj)
            rows.append(_entry(obj, state, "create", None, _full(state, obj)))
    for obj in session.dirty:
        if isinstance(obj, Audited) and session.is_modified(obj, include_collections=False):
            state = inspect(obj)
            before, after = _changes(state, obj)
            if after:
                rows.append(_entry(obj, state, _update_action(before, after), before, after))
    for obj in session.deleted:
        if isinstance(obj, Audited):
            state = inspect(obj)
            rows.append(_entry(obj, state, "delete", _full(state, obj), None))
    return rows


def _entry(
    obj: Audited,
    state: InstanceState[Any],
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "action": action,
        "table_name": state.mapper.local_table.name,  # type: ignore[attr-defined]
        "row_id": _row_id(state),
        "before": before,
        "after": after,
    }


def _write(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    actor = actor_of(session)
    common = {
        "at": datetime.now(UTC),
        "actor": actor.name[:64],
        "source": actor.source,
        "request_id": actor.request_id,
        "request": actor.request[:300] if actor.request else None,
    }
    session.connection().execute(insert(AuditEntry), [{**common, **row} for row in rows])


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: UOWTransaction) -> None:
    _write(session, _entries(session))


def record(
    session: Session,
    *,
    action: str,
    table: str,
    row_id: object,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Record a change made without the ORM (a bulk import's upsert), in the session's
    transaction."""
    _write(
        session,
        [
            {
                "action": action,
                "table_name": table,
                "row_id": str(row_id),
                "before": _plain(dict(before)) if before is not None else None,
                "after": _plain(dict(after)) if after is not None else None,
            }
        ],
    )


def record_many(
    session: Session,
    table: str,
    changes: Iterable[tuple[str, object, Mapping[str, Any] | None, Mapping[str, Any] | None]],
) -> None:
    """:func:`record` for many rows of ``table`` at once, each ``(action, row_id, before,
    after)``: one insert, for an import's thousands of rows."""
    _write(
        session,
        [
            {
                "action": action,
                "table_name": table,
                "row_id": str(row_id),
                "before": _plain(dict(before)) if before is not None else None,
                "after": _plain(dict(after)) if after is not None else None,
            }
            for action, row_id, before, after in changes
        ],
    )


def record_export(session: Session, *, what: str, detail: Mapping[str, Any]) -> None:
    """Record an export of personal data (a member list, the assessment's member sheet): who
    exported ``what`` with which filters. Commits with the session."""
    record(session, action="export", table=what, row_id="-", after=detail)
