"""The declarative base every hub package declares its tables on, and the shared naming rules.

Each package owns its tables (``hub.ingest.models``, ``hub.org.models``, ``hub.venues.models``,
``hub.auth.models``); :mod:`hub.tables` imports them all where the whole schema is needed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import MetaData, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub.core.types import UTCDateTime

# Constraint names are stable across SQLite and PostgreSQL, so migrations can name them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 63  # mqtt_contract.topics.ID_PATTERN
NAME_LENGTH = 120  # a person's, an organisation's or a venue's name


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), uuid.UUID: Uuid()}  # noqa: RUF012


def one_of(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint's text: ``column`` takes one of ``values``."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def name_column() -> Mapped[str]:
    return mapped_column(String(NAME_LENGTH))


class Archivable:
    """A registry row that history refers to is archived, never deleted: ``archived_at`` set
    hides it from lists (``?archived=true`` shows it) and from new references, while the rows
    that point to it (a closed venue's occupancy, a past activity) keep their meaning."""

    archived_at: Mapped[datetime | None] = mapped_column(default=None)
