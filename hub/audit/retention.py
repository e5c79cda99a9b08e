"""How long the audit log is kept: rows older than the retention are deleted, in bounded batches,
by the hub's retention job (``hub.retention``) and by ``community audit purge``; nothing is
deleted unless the setting (``HUB_AUDIT_RETENTION_DAYS``) asks for it.

On PostgreSQL the table's trigger (migration 0010) lets only rows older than 180 days go,
whatever is asked: the purge never asks for younger ones, and reads the same clock as the
trigger, so a hub whose clock runs ahead of the database's does not trip it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, Connection, Engine, Table, func, true

from hub.audit.models import MIN_RETENTION_DAYS, AuditEntry
from hub.core.retention import PURGE_BATCH, Kind, delete_in_batches


def check_retention(days: int) -> int:
    """``days``, or a ``ValueError`` saying why fewer than the legal minimum are refused."""
    if days < MIN_RETENTION_DAYS:
        raise ValueError(
            f"the audit log must be kept at least {MIN_RETENTION_DAYS} days (China's "
            f"Cybersecurity Law, art. 21: six months), not {days}"
        )
    return days


def cutoff(days: int, now: datetime | None = None) -> datetime:
    """Rows recorded before this time are older than ``days``."""
    return (now or datetime.now(UTC)) - timedelta(days=check_retention(days))


def _legal(engine: Engine) -> ColumnElement[bool]:
    """The trigger's own test, on the database's clock (PostgreSQL); else always true."""
    if engine.dialect.name == "postgresql":
        return AuditEntry.at < func.now() - timedelta(days=MIN_RETENTION_DAYS)
    return true()


def purge(
    engine: Engine, days: int, *, now: datetime | None = None, batch: int = PURGE_BATCH
) -> int:
    """Delete the audit rows older than ``days`` (at least ``MIN_RETENTION_DAYS``), ``batch``
    rows a transaction; how many went."""
    table = cast(Table, AuditEntry.__table__)
    return delete_in_batches(
        engine, table, (AuditEntry.at < cutoff(days, now)) & _legal(engine), batch
    )


def audit_kind(days: int) -> Kind:
    """The audit log as one of retention's kinds (``hub.retention``)."""
    check_retention(days)
    table = cast(Table, AuditEntry.__table__)

    def kind_cutoff(conn: Connection, now: datetime) -> datetime:
        return cutoff(days, now)

    return Kind(
        name="audit_log",
        table=table,
        time=table.c.at,
        cutoff=kind_cutoff,
        setting="HUB_AUDIT_RETENTION_DAYS",
        also=_legal,
    )
