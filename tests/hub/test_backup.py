"""``community backup`` and ``community restore`` on SQLite and PostgreSQL: a seeded hub backed
up, damaged, wiped and restored, every table's rows compared by count and checksum."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from demo.seed import seed_city
from hub.backup.cli import backup_main, restore_main
from hub.composition import build_store
from hub.core.db import head_revision, make_engine, upgrade
from hub.ingest.decode import decode
from hub.ingest.models import Site
from hub.tables import Base
from tests.hub.org.test_seed import SMALL
from tests.hub.support import CARD_KEY, CARDS, bays, counter, event_topic, wait_until
from tests.hub.test_api import inbound
from tests.migrated import MigratedTemplates
from tests.services import POSTGRES_ADMIN_URL, DatabaseDropper, postgres_admin
from tests.users import user_token

Digests = dict[str, tuple[int, str]]
ALEMBIC_VERSION = sa.Table(
    "alembic_version", sa.MetaData(), sa.Column("version_num", sa.String(32), primary_key=True)
)


def digests(database_url: str) -> Digests:
    """Each table's row count and a SHA-256 of its rows in primary-key order (the tables as the
    code declares them, and alembic_version)."""
    engine = make_engine(database_url)
    found: Digests = {}
    try:
        with engine.connect() as conn:
            # every table the code declares (PostgreSQL may list partitions besides)
            assert {*Base.metadata.tables, "alembic_version"} <= set(
                sa.inspect(conn).get_table_names()
            )
            tables = [*Base.metadata.sorted_tables, ALEMBIC_VERSION]
            for table in tables:
                key = list(table.primary_key.columns) or list(table.columns)
                digest = hashlib.sha256()
                count = 0
                for row in conn.execute(sa.select(table).order_by(*key)):
                    digest.update(repr(tuple(row)).encode())
                    count += 1
                found[table.name] = (count, digest.hexdigest())
    finally:
        engine.dispose()
    return found


def seed_hub(database_url: str, migrated: MigratedTemplates) -> None:
    """A small synthetic city with its check-ins and attendance, a user and a token (audited),
    counter and bay readings."""
    migrated.migrate(database_url)
    engine = make_engine(database_url)
    try:
        seed_city(engine, seed=5, key=CARD_KEY, year=2025, scale=SMALL)
        events = [counter(seq, count_in=seq * 3, count_out=seq) for seq in range(1, 6)]
        messages = [
            inbound(event_topic(e), e.to_bytes())
            for e in [*events, bays(6, "1010"), bays(7, "1110")]
        ]
        messages.append(inbound(event_topic(events[0]), b"not json"))  # a dead letter
        build_store(engine).write([decode(m, cards=CARDS) for m in messages])
    finally:
        engine.dispose()
    user_token(database_url, username="backup-operator")


@pytest.fixture
def wiped_url(
    database_url: str, tmp_path: Path, database_dropper: DatabaseDropper
) -> Iterator[str]:
    """A new, empty database of the same kind as ``database_url``: the wiped hub."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'wiped' / 'hub.db'}"
        return
    name = f"yp_test_{uuid.uuid4().hex[:12]}"
    postgres_admin(f'CREATE DATABASE "{name}"')
    yield sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)
    database_dropper.drop(name)


def damage(backup: Path, out: Path, how: str) -> Path:
    raw = bytearray(backup.read_bytes())
    if how == "truncated":
        raw = raw[: len(raw) * 2 // 3]
    else:  # one byte of the data flipped, well past the manifest
        raw[len(raw) // 2] ^= 0xFF
    out.write_bytes(bytes(raw))
    return out


def with_manifest(backup: Path, out: Path, **changes: object) -> Path:
    """A copy of the backup whose manifest says something else (the data untouched)."""
    with tarfile.open(backup) as source, tarfile.open(out, "w") as target:
        for member in source.getmembers():
            content = source.extractfile(member)
            assert content is not None
            data = content.read()
            if member.name == "manifest.json":
                data = json.dumps({**json.loads(data), **changes}).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    return out


def wreck(database_url: str) -> None:
    """What an accident might do: rows gone, rows changed, a row added."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM attendance"))
            conn.execute(sa.text("UPDATE members SET name = 'x'"))
            conn.execute(sa.text("DELETE FROM counter_readings"))
    finally:
        engine.dispose()


def test_backup_wipe_restore_finds_every_row(
    database_url: str,
    migrated: MigratedTemplates,
    wiped_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed_hub(database_url, migrated)
    before = digests(database_url)
    assert all(before[name][0] > 0 for name in ("members", "checkins", "attendance", "users"))
    assert before["audit_log"][0] > 0  # young rows: the PostgreSQL trigger refuses their DELETE
    assert before["counter_readings"][0] == 5
    assert before["dead_letters"][0] == 1
    shelf = tmp_path / "backups"
    shelf.mkdir()

    older = [shelf / f"hub-2026010{day}T020000Z.backup" for day in (1, 2)]
    for path in older:
        path.write_bytes(b"an older night's backup")
    args = ["--out", str(shelf), "--keep", "2", "--database-url", database_url]
    assert backup_main(args) == 0
    kept = sorted(shelf.glob("hub-*.backup"))
    assert kept[0] == older[1]  # the newest two are kept: the older night's and this one
    assert len(kept) == 2
    backup = kept[1]
    assert backup.stat().st_mode & 0o077 == 0
    out = capsys.readouterr().out
    assert f"{sum(n for n, _ in before.values())} rows" in out
    assert restore_main(["--check", str(backup)]) == 0
    assert "the backup is sound" in capsys.readouterr().out

    # refused, and nothing changed: over a database with content, without --force
    assert restore_main([str(backup), "--database-url", database_url]) == 1
    assert "is not empty" in capsys.readouterr().err
    # a damaged backup: refused by --check and by a forced restore alike
    for how in ("truncated", "corrupted"):
        bad = damage(backup, tmp_path / f"{how}.backup", how)
        assert restore_main(["--check", str(bad)]) == 1
        assert restore_main([str(bad), "--force", "--database-url", database_url]) == 1
        err = capsys.readouterr().err
        assert "damaged" in err or "not a complete hub backup" in err, err
    # a backup made by a newer hub (a revision this code does not know)
    newer = with_manifest(backup, tmp_path / "newer.backup", alembic_revision="9999_future")
    assert restore_main([str(newer), "--force", "--database-url", database_url]) == 1
    assert "made by a newer hub" in capsys.readouterr().err
    assert digests(database_url) == before

    # over a wrecked database (PostgreSQL: pg_restore --clean, through the audit log's trigger)
    wreck(database_url)
    assert digests(database_url) != before
    assert restore_main([str(backup), "--force", "--database-url", database_url]) == 0
    assert "as in the backup" in capsys.readouterr().out
    assert digests(database_url) == before

    # into a wiped hub: a new, empty database
    wiped = wiped_url
    assert restore_main([str(backup), "--database-url", wiped]) == 0
    assert digests(wiped) == before
    assert upgrade(wiped) == head_revision()
    if wiped.startswith("postgresql"):
        engine = make_engine(wiped)
        try:  # the audit log is append-only again: its triggers came back with it
            with (
                pytest.raises(sa.exc.DBAPIError, match="audit_log is append-only"),
                engine.begin() as conn,
            ):
                conn.execute(sa.text("DELETE FROM audit_log"))
        finally:
            engine.dispose()


def test_an_older_backup_is_restored_then_migrated(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A backup from before the newest migration, restored over a database at head (a rollback
    of the data after a failed upgrade): the newer tables go, `migrate` brings them back."""
    assert upgrade(database_url, "0009") == "0009"
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO sites (id, first_seen, state) "
                    "VALUES ('centre-01', '2026-11-27 08:00:00', 'unknown')"
                )
            )
    finally:
        engine.dispose()
    out = tmp_path / "old.backup"
    assert backup_main(["--out", str(out), "--database-url", database_url]) == 0
    assert upgrade(database_url) == head_revision()
    capsys.readouterr()

    assert (
        restore_main([str(out), "--force", "--no-privileges", "--database-url", database_url]) == 0
    )
    said = capsys.readouterr().out
    assert "community hub migrate" in said
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert (
                conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0009"
            )
            assert "audit_log" not in sa.inspect(conn).get_table_names()  # 0010's, not the backup's
        assert upgrade(database_url) == head_revision()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id FROM sites")).scalars().all() == ["centre-01"]
    finally:
        engine.dispose()


def test_a_failed_postgres_restore_changes_nothing(
    migrated_postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A restore that fails half way (a GRANT to a role this server has not: psql stops at it,
    after the tables and their rows) rolls back whole; --no-privileges then restores."""
    url = migrated_postgres_url
    role = f"yp_gone_{uuid.uuid4().hex[:8]}"
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE ROLE "{role}"'))
            conn.execute(sa.text(f'GRANT SELECT ON sites TO "{role}"'))
        assert backup_main(["--out", str(tmp_path / "b.backup"), "--database-url", url]) == 0
        with engine.begin() as conn:
            conn.execute(sa.text(f'REVOKE SELECT ON sites FROM "{role}"'))
            conn.execute(sa.text(f'DROP ROLE "{role}"'))
            conn.execute(
                sa.text("INSERT INTO sites (id, first_seen, state) VALUES ('after', now(), 'ok')")
            )
        before = digests(url)
        capsys.readouterr()
        assert restore_main([str(tmp_path / "b.backup"), "--force", "--database-url", url]) == 1
        err = capsys.readouterr().err
        assert "nothing was changed" in err
        assert f'role "{role}" does not exist' in err
        assert "--no-privileges" in err
        assert digests(url) == before

        args = [str(tmp_path / "b.backup"), "--force", "--no-privileges", "--database-url", url]
        assert restore_main(args) == 0
        assert digests(url)["sites"][0] == before["sites"][0] - 1  # the row made after the backup
    finally:
        engine.dispose()
        postgres_admin(f'DROP ROLE IF EXISTS "{role}"')


def test_pg_dump_missing_or_older_than_the_server_is_a_clear_error(
    migrated_postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "backups"
    out.mkdir()
    empty = tmp_path / "no-client"
    empty.mkdir()
    args = ["--out", str(out), "--database-url", migrated_postgres_url]
    assert backup_main([*args, "--pg-bin", str(empty)]) == 1
    assert "pg_dump is not installed" in capsys.readouterr().err
    # no pg_dump older than the server runs here: one that says it is (its --version is all the
    # check reads before refusing)
    old = tmp_path / "old-client"
    old.mkdir()
    (old / "pg_dump").write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    (old / "pg_dump").chmod(0o755)
    assert backup_main([*args, "--pg-bin", str(old)]) == 1
    err = capsys.readouterr().err
    assert "is version 9, older than the server" in err
    assert "postgresql-client-" in err
    assert list(out.iterdir()) == []  # nothing that looks like a backup


def test_a_backup_taken_while_the_hub_writes_is_one_moment(
    database_url: str,
    migrated: MigratedTemplates,
    wiped_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Rows keep arriving while the backup runs: its manifest's counts and its data are the same
    moment (the restore, which compares them table by table, succeeds), and the moment is one the
    database went through."""
    migrated.migrate(database_url)
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:
        engine = make_engine(database_url)
        try:
            while not stop.is_set():
                with engine.begin() as conn:
                    conn.execute(
                        sa.insert(Site.__table__).values(
                            id=f"site-{len(written)}", first_seen=datetime.now(UTC), state="unknown"
                        )
                    )
                written.append(1)
        finally:
            engine.dispose()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        wait_until(lambda: len(written) >= 20, what="the first rows")
        at_start = len(written)
        assert (
            backup_main(["--out", str(tmp_path / "live.backup"), "--database-url", database_url])
            == 0
        )
    finally:
        stop.set()
        writer.join()
    capsys.readouterr()
    assert restore_main([str(tmp_path / "live.backup"), "--database-url", wiped_url]) == 0
    assert "as in the backup" in capsys.readouterr().out
    restored = digests(wiped_url)["sites"][0]
    assert at_start <= restored <= len(written)
