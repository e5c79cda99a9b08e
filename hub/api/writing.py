"""What every registry write route shares: refusals that name the field, references checked
before the write (missing or archived), duplicates turned into 409 naming the field, archive and
restore.

A refusal here has FastAPI's validation shape, ``{"detail": [{"loc": ["body", field], "msg":
..., "type": ...}]}``, so a form puts every message next to its field, whichever check made it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Query, status
from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from hub.core.base import Archivable

Row = TypeVar("Row")


CHECK_KINDS = frozenset(
    {
        "reference",  # no such row
        "archived",  # the row is archived: it may not be newly referred to
        "duplicate",  # a code or id is taken
        "conflict",  # a constraint met at commit (two writers at once)
        "range",  # a value outside what the record allows (a period, a level)
        "required",  # null for a field that cannot be empty
        "rule",  # a rule across fields or rows (a grid's parent, overlapping periods)
        "scope",  # outside the caller's scope
        "forbidden",  # a field the caller's role may not change
        "state",  # the row's state forbids it (a revoked site)
        "device",  # a device spec
        "broker",  # the MQTT broker refused
        "setup",  # the hub lacks a setting the change needs (card keys)
    }
)
"""The ``type`` of a refusal made by a route's own check, as opposed to pydantic's validation
types: a request the schema allows may be refused only with one of these (the API contract
test holds the routes to it)."""


def field_error(
    field: str, msg: str, kind: str, code: int = 422, at: Sequence[int] = ()
) -> HTTPException:
    """A refusal naming ``field`` of the body; ``kind`` is one of :data:`CHECK_KINDS` (the API
    contract test fails a route that refuses a schema-valid request with another); ``at``: the
    index of its item, in a body that is a list."""
    return HTTPException(code, detail=[{"loc": ["body", *at, field], "msg": msg, "type": kind}])


def only_fields(fields: Iterable[str], allowed: frozenset[str], who: str) -> None:
    """403 naming the first of ``fields`` (a PATCH body's) that ``who`` may not change."""
    for field in fields:
        if field not in allowed:
            raise field_error(
                field,
                f"{field}: {who} may change only {', '.join(sorted(allowed))}",
                "forbidden",
                status.HTTP_403_FORBIDDEN,
            )


def check_references(session: Session, references: Mapping[str, tuple[type[Any], object]]) -> None:
    """422 naming the first field that refers to a row that is not there or is archived.
    ``references``: field name → (table, the id given; ``None`` is no reference)."""
    for field, (table, ident) in references.items():
        if ident is None:
            continue
        row = session.get(table, ident)
        what = table.__tablename__.removesuffix("s").replace("_", " ")
        if row is None:
            raise field_error(field, f"{field}: no {what} {ident}", "reference")
        if isinstance(row, Archivable) and row.archived_at is not None:
            raise field_error(field, f"{field}: {what} {ident} is archived", "archived")


def check_unique(
    session: Session,
    table: type[Any],
    unique: Mapping[str, object],
    *,
    own: object | None = None,
) -> None:
    """409 naming the field whose value another row has (``own``: the id of the row being
    updated, which may keep its own value)."""
    for field, value in unique.items():
        if value is None:
            continue
        column: InstrumentedAttribute[Any] = getattr(table, field)
        clash = session.scalar(select(table).where(column == value).limit(1))
        if clash is not None and (own is None or _id(clash) != own):
            raise field_error(
                field, f"{field}: {value!r} is taken", "duplicate", status.HTTP_409_CONFLICT
            )


def _id(row: Any) -> object:
    return row.id


def commit(session: Session, *, clash_field: str = "code") -> None:
    """Commit; a constraint the checks above did not foresee (two writers at once) is a 409
    naming ``clash_field`` rather than a 500."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise field_error(
            clash_field,
            f"{clash_field}: conflicts with a record written meanwhile; reload and try again",
            "conflict",
            status.HTTP_409_CONFLICT,
        ) from None


def archive(session: Session, row: Archivable) -> None:
    """Archive ``row`` (once: archiving an archived row changes nothing) and commit."""
    if row.archived_at is None:
        row.archived_at = datetime.now(UTC)
        commit(session)


def restore(session: Session, row: Archivable) -> None:
    if row.archived_at is not None:
        row.archived_at = None
        commit(session)


def apply(row: object, changes: Mapping[str, Any], required: Sequence[str] = ()) -> None:
    """Set a PATCH body's fields on ``row``; 422 for ``null`` on a field that cannot be empty."""
    for field, value in changes.items():
        if value is None and field in required:
            raise field_error(field, f"{field} cannot be null", "required")
        setattr(row, field, value)


ArchivedQuery = Annotated[
    bool,
    Query(description="list archived rows too (they are hidden by default)"),
]


def unarchived(table: type[Archivable], archived: bool) -> list[ColumnElement[bool]]:
    """A list's condition: archived rows only when asked for."""
    return [] if archived else [table.archived_at.is_(None)]
