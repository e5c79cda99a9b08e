"""Audit rows written straight into the table, at the times a test needs (the log is
append-only, not insert-only: the trigger lets inserts through)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hub.audit import AuditEntry


def add_entry(
    engine: sa.Engine,
    at: datetime,
    *,
    actor: str = "alice",
    source: str = "api",
    action: str = "update",
    table: str = "venues",
    row_id: str = "venue-07",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> int:
    row = {
        "at": at,
        "actor": actor,
        "source": source,
        "request_id": None,
        "request": f"PATCH /api/v1/{table}/{row_id}",
        "action": action,
        "table_name": table,
        "row_id": row_id,
        "before": before if before is not None else {"capacity": 120},
        "after": after if after is not None else {"capacity": 150},
    }
    with engine.begin() as conn:
        ident: int = conn.execute(sa.insert(AuditEntry).returning(AuditEntry.id), row).scalar_one()
    return ident


def entries(engine: sa.Engine, **where: Any) -> list[AuditEntry]:
    with sa.orm.Session(engine) as session:
        query = sa.select(AuditEntry).filter_by(**where).order_by(AuditEntry.id)
        return list(session.scalars(query))
