"""Multi-row INSERTs whose SQL text is the same for any number of rows.

A multi-row ``INSERT ... VALUES (...), (...)`` has a different text for every batch size, so on
PostgreSQL psycopg converts each one afresh and never prepares it: on the ingest path that was a
tenth of the hub's CPU. There the rows go in as one array per column, unnested by the server
(``INSERT ... SELECT unnest(:a), unnest(:b) ...``): one statement per table, converted once and
prepared after a few runs, its arrays sent in binary (``hub.core.db``). On SQLite the rows go in
as an ordinary executemany.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import String, TypeEngine

from hub.core.dialect import UpsertInsert, insert_for

BulkParams = dict[str, list[Any]] | list[dict[str, Any]]


class BulkInsert:
    """``insert`` is the statement to finish (``on_conflict_*``, ``returning``); execute it with
    ``params(rows)``. Build it once (per dialect) and keep it: that is what makes it cheap."""

    def __init__(self, dialect: str, model: type[Any], columns: Sequence[str]) -> None:
        """``model``: a mapped class; ``columns``: the names of the columns every row gives."""
        table = model.__table__
        self.columns = tuple(columns)
        self.unnested = dialect == "postgresql"
        self.insert: UpsertInsert
        if self.unnested:
            arrays = [
                func.unnest(bindparam(c, type_=postgresql.ARRAY(_item_type(table.c[c].type))))
                for c in self.columns
            ]
            self.insert = insert_for(dialect)(model).from_select(
                list(self.columns), select(*arrays)
            )
        else:
            self.insert = insert_for(dialect)(model)

    def replacing(self, index_elements: Sequence[Any], columns: Sequence[str]) -> Any:
        """``ON CONFLICT (index_elements) DO UPDATE`` setting ``columns`` to the incoming row's."""
        excluded = self.insert.excluded
        return self.insert.on_conflict_do_update(
            index_elements=list(index_elements),
            set_={name: getattr(excluded, name) for name in columns},
        )

    def params(self, rows: Sequence[Mapping[str, Any]]) -> BulkParams:
        """One array per column (PostgreSQL) or the rows themselves (SQLite)."""
        if self.unnested:
            return {c: [row[c] for row in rows] for c in self.columns}
        return [{c: row[c] for c in self.columns} for row in rows]


def _item_type(column_type: TypeEngine[Any]) -> TypeEngine[Any]:
    """The array's element type: a string column's type without its length, because a cast to
    ``varchar(n)`` would silently truncate what the column itself refuses."""
    if type(column_type) is String and column_type.length is not None:
        return String()
    return column_type
