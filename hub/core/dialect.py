"""The one place that picks the dialect's ``INSERT`` (the one with ``ON CONFLICT``).

SQLAlchemy's generic ``insert`` has no ``on_conflict_*``; PostgreSQL and SQLite each have their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite

UpsertInsert = postgresql.Insert | sqlite.Insert
Insert = Callable[[Any], UpsertInsert]
"""``insert(Table)`` of the dialect: finish it with ``on_conflict_do_nothing`` or ``_do_update``."""


def insert_for(bind: Connection | Engine | str) -> Insert:
    """The dialect's insert for a connection, an engine or a dialect name."""
    name = bind if isinstance(bind, str) else bind.dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert
