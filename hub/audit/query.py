"""Reading the audit log: by who, which row, what, from where and when, newest first. The API's
list and ``community audit list`` ask the same way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from hub.audit.models import AuditEntry

NEWEST_FIRST: tuple[Any, ...] = (AuditEntry.at.desc(), AuditEntry.id.desc())


@dataclass(frozen=True)
class AuditQuery:
    """What to look for; a field left ``None`` lets every row through. ``since`` is inclusive,
    ``until`` exclusive."""

    actor: str | None = None
    table: str | None = None
    row_id: str | None = None
    action: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError("'since' must not be after 'until'")

    def conditions(self) -> list[ColumnElement[bool]]:
        equal = (
            (AuditEntry.actor, self.actor),
            (AuditEntry.table_name, self.table),
            (AuditEntry.row_id, self.row_id),
            (AuditEntry.action, self.action),
            (AuditEntry.source, self.source),
        )
        where = [column == value for column, value in equal if value is not None]
        if self.since is not None:
            where.append(AuditEntry.at >= self.since)
        if self.until is not None:
            where.append(AuditEntry.at < self.until)
        return where


def entries(
    session: Session, query: AuditQuery, *, offset: int = 0, limit: int = 100
) -> tuple[int, list[AuditEntry]]:
    """How many rows match, and one page of them, newest first."""
    where = query.conditions()
    count = session.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0
    rows = session.scalars(
        select(AuditEntry).where(*where).order_by(*NEWEST_FIRST).offset(offset).limit(limit)
    )
    return count, list(rows)
