"""The audit table and the marker that puts a table under audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.base import Base
from hub.core.settings import MIN_AUDIT_RETENTION_DAYS

AUDIT_ACTIONS = ("create", "update", "archive", "restore", "delete", "export")
AUDIT_SOURCES = ("api", "cli", "import", "system")
MIN_RETENTION_DAYS = MIN_AUDIT_RETENTION_DAYS
"""China's Cybersecurity Law (art. 21) asks network operators to keep such logs six months; on
PostgreSQL the table's trigger refuses to delete a younger row, whatever the hub asks."""


class Audited:
    """Mixin: every insert, update and delete of this table's rows made through the ORM is
    recorded. ``__audit_redact__`` names columns whose values are secrets (a card's hash, a
    password's): the log says they changed, never what to."""

    __audit_redact__: ClassVar[tuple[str, ...]] = ()


class AuditEntry(Base):
    """One change of one row (or one export). ``before``/``after`` hold the changed columns
    (all of them on create and delete); ``row_id`` is the primary key, parts joined by ``/``."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_table_row", "table_name", "row_id"),
        Index("ix_audit_log_actor_at", "actor", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64), doc="a user name, or 'system'")
    source: Mapped[str] = mapped_column(String(8), doc="api, cli, import or system")
    request_id: Mapped[str | None] = mapped_column(String(64))
    request: Mapped[str | None] = mapped_column(String(300), doc="method and path, CLI command")
    action: Mapped[str] = mapped_column(String(8))
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
