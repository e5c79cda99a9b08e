"""``BulkInsert``: one statement for any number of rows, the same rows on SQLite and PostgreSQL
(arrays unnested there), NULLs and all-NULL columns, and nothing silently cut short."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from hub.core.bulk import BulkInsert
from hub.ingest.models import Site

COLUMNS = ("id", "first_seen", "state", "boot", "agent_version", "outbox_depth", "oldest_pending_s")
T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def _insert(engine: Engine) -> tuple[BulkInsert, sa.Executable]:
    bulk = BulkInsert(engine.dialect.name, Site, COLUMNS)
    stmt = bulk.insert.on_conflict_do_nothing(index_elements=[Site.id]).returning(Site.id)
    return bulk, stmt


def _site(n: int, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": f"site-{n:03d}",
        "first_seen": T0 + timedelta(seconds=n),
        "state": "online",
        "boot": uuid.UUID(int=n),
        "agent_version": None if n % 2 else f"1.{n}",
        "outbox_depth": None,  # a column of NULLs only
        "oldest_pending_s": n / 4,
    }
    return row | values


def test_any_number_of_rows_goes_in_with_one_statement(engine: Engine) -> None:
    bulk, stmt = _insert(engine)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    written: list[str] = []
    with engine.begin() as conn:
        for start, size in ((1, 1), (2, 3), (5, 7)):
            rows = [_site(n) for n in range(start, start + size)]
            written += conn.execute(stmt, bulk.params(rows)).scalars()
        again = conn.execute(stmt, bulk.params([_site(3), _site(99)])).scalars().all()
    assert sorted(written) == [f"site-{n:03d}" for n in range(1, 12)]
    assert again == ["site-099"]  # the conflict is skipped, the new row returned
    if engine.dialect.name == "postgresql":
        assert len(set(statements)) == 1  # one text whatever the batch size: prepared once
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(*(getattr(Site, c) for c in COLUMNS)).order_by(Site.id)
        ).all()
    assert [tuple(r) for r in stored] == [
        tuple(_site(n)[c] for c in COLUMNS) for n in [*range(1, 12), 99]
    ]


def test_a_value_too_long_is_refused_not_cut_short(engine: Engine) -> None:
    bulk, stmt = _insert(engine)
    long_id = "site-" + "x" * 100  # the column is varchar(63)
    try:
        with engine.begin() as conn:
            conn.execute(stmt, bulk.params([_site(1, id=long_id)]))
    except sa.exc.DataError:
        assert engine.dialect.name == "postgresql"
        return
    assert engine.dialect.name == "sqlite"  # SQLite keeps text whole whatever the declared size
    with engine.connect() as conn:
        assert conn.execute(sa.select(Site.id)).scalars().all() == [long_id]


def test_a_naive_datetime_is_refused(engine: Engine) -> None:
    bulk, stmt = _insert(engine)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), engine.begin() as conn:
        conn.execute(stmt, bulk.params([_site(1, first_seen=datetime(2026, 11, 27, 8, 0))]))
