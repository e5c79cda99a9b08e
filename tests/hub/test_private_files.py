"""Secrets and personal data are created private: files 0600, directories 0700, from the start.

Every test here runs with the common umask 0022, under which a file opened plainly is born 0644,
and with ``chmod`` forbidden: a writer that creates a file readable and narrows it afterwards
(what the demo, the broker config writers and the edge config writer used to do) fails, because
another local user can open the file in between and keep reading it after the ``chmod``.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa

import edge.private_files
import hub.core.private_files
from demo.broker.mosquitto import free_port
from demo.cli import spawn, start_broker
from demo.sites import broker_accounts
from edge.allowlist import AllowlistCache, path_beside
from edge.outbox import Outbox
from hub.core.db import make_engine, upgrade
from mqtt_contract.models import Allowlist
from tests.hub.demo_sites import demo_sites
from tests.hub.support import wait_until

ROOT = Path(__file__).resolve().parents[2]
HELPERS = [hub.core.private_files, edge.private_files]


@pytest.fixture(autouse=True)
def wide_umask() -> Iterator[None]:
    """The umask most systems give a login: plain files 0644, directories 0755."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def no_chmod(monkeypatch: pytest.MonkeyPatch) -> None:
    """Narrowing a file after creating it is the defect: any call to chmod fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"chmod{args}: a private file must be created private, not narrowed")

    for name in ("chmod", "fchmod", "lchmod"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse)


def modes(top: Path) -> dict[str, int]:
    """The permission bits of ``top`` and of everything under it but symlinks (the demo's serial
    links point at ptys), by path relative to ``top``."""
    found = {".": stat.S_IMODE(top.lstat().st_mode)}
    for path in top.rglob("*"):
        info = path.lstat()
        if not stat.S_ISLNK(info.st_mode):
            found[str(path.relative_to(top))] = stat.S_IMODE(info.st_mode)
    return found


def assert_private(top: Path) -> dict[str, int]:
    found = modes(top)
    wrong = {
        name: oct(mode)
        for name, mode in found.items()
        if mode != (0o700 if (top / name).is_dir() else 0o600)
    }
    assert not wrong, f"not private under {top}: {wrong}"
    return found


@pytest.mark.parametrize("helpers", HELPERS, ids=lambda m: m.__name__)
@pytest.mark.usefixtures("no_chmod")
def test_the_helpers_make_files_and_directories_private_from_the_start(
    helpers: ModuleType, tmp_path: Path
) -> None:
    top = tmp_path / "a"
    assert helpers.make_private_dir(top / "b" / "c") == top / "b" / "c"
    helpers.write_private(top / "b" / "c" / "secret.json", '{"password": "x"}')
    assert (top / "b" / "c" / "secret.json").read_text() == '{"password": "x"}'
    # An older, readable file is replaced by a new private one, not narrowed.
    older = top / "b" / "edge.toml"
    older.write_text("old")
    assert stat.S_IMODE(older.stat().st_mode) == 0o644
    helpers.write_private(older, b"new")
    assert older.read_bytes() == b"new"
    database = helpers.create_private(top / "outbox.db")
    database.write_bytes(b"kept")
    helpers.create_private(database)  # exists: left alone
    assert database.read_bytes() == b"kept"
    assert assert_private(top) == {
        ".": 0o700,
        "b": 0o700,
        "b/c": 0o700,
        "b/c/secret.json": 0o600,
        "b/edge.toml": 0o600,
        "outbox.db": 0o600,
    }, "no temporary file is left behind"
    # A directory that was there already (/var/lib, say) is not narrowed; what is made in it is.
    shared = tmp_path / "shared"
    shared.mkdir()
    helpers.make_private_dir(shared / "site")
    assert modes(shared) == {".": 0o755, "site": 0o700}


@pytest.mark.usefixtures("no_chmod")
def test_the_hub_logs_are_created_private_and_appended_to(tmp_path: Path) -> None:
    log = tmp_path / "hub.log"
    for line in (b"one\n", b"two\n"):
        with hub.core.private_files.open_private_append(log) as file:
            file.write(line)
    assert log.read_bytes() == b"one\ntwo\n"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


@pytest.mark.usefixtures("no_chmod")
def test_the_demo_writes_credentials_broker_accounts_edge_configs_and_logs_private(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "demo"
    hub.core.private_files.make_private_dir(data_dir / "logs")  # as the demo's main does
    gate = {"id": "gate-1", "kind": "people_counter", "port": "/dev/ttyUSB0", "unit_id": 1}
    creds, settings, _ = demo_sites(data_dir, ["centre-01"], {"venue-01": [gate]})
    accounts = broker_accounts(settings, {"publisher": creds["mqtt_password"]})
    for mosquitto in (True, False):
        broker = start_broker(mosquitto, data_dir, free_port(), accounts)
        broker.stop()
    process = spawn(["--help"], {}, data_dir / "logs" / "hub.log")
    assert process.wait(30) == 0
    found = assert_private(data_dir)
    assert {
        "credentials.json",
        "mosquitto/mosquitto.conf",
        "mosquitto/dynamic-security.json",
        "mosquitto/mosquitto.log",
        "amqtt/dynamic-security.json",
        "edges",
        "edges/centre-01/edge.toml",
        "edges/venue-01/edge.toml",
        "logs/hub.log",
    } <= set(found)


@pytest.mark.usefixtures("no_chmod")
def test_the_hubs_sqlite_database_and_its_wal_are_private(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub' / 'hub.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:  # held open: the -wal and -shm files exist meanwhile
            conn.execute(sa.text("CREATE TABLE probe (x INTEGER)"))
            conn.execute(sa.text("INSERT INTO probe VALUES (1)"))
            found = assert_private(tmp_path / "hub")
    finally:
        engine.dispose()
    assert {"hub.db", "hub.db-wal", "hub.db-shm"} <= set(found)


@pytest.mark.usefixtures("no_chmod")
def test_the_edges_outbox_and_allowlist_hold_card_hashes_privately(tmp_path: Path) -> None:
    site_dir = tmp_path / "edge" / "centre-01"
    outbox = Outbox(site_dir / "outbox.db")
    try:
        outbox.append(uuid.uuid4(), lambda seq: ("yp/v1/centre-01/reader-1/checkin", b"{}"))
        cache = AllowlistCache(path_beside(site_dir / "outbox.db"), "centre-01")
        for version in (1, 2):  # the second replaces the first
            assert cache.offer(
                Allowlist(
                    site="centre-01",
                    version=version,
                    issued_at=datetime.now(UTC),
                    card_hashes=["ab" * 32],
                )
            )
        found = assert_private(tmp_path / "edge")
    finally:
        outbox.close()
    assert set(found) == {
        ".",
        "centre-01",
        "centre-01/outbox.db",
        "centre-01/outbox.db-wal",
        "centre-01/outbox.db-shm",
        "centre-01/outbox.allowlist.json",
    }


@pytest.mark.slow
def test_a_running_demo_keeps_everything_it_creates_private(tmp_path: Path) -> None:
    """``community demo`` as a user runs it, from a shell with umask 0022: every file and
    directory it and its children (hub, edges, Mosquitto, simulators, SQLite) create."""
    data_dir = tmp_path / "demo"
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "community",
            "demo",
            "--data-dir",
            str(data_dir),
            "--centres",
            "1",
            "--venues",
            "1",
            "--http-port",
            str(free_port()),
            "--mqtt-port",
            str(free_port()),
            "--embedded",
            "mosquitto",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            output.append(line)
            if "Press Ctrl-C" in line:
                break
        else:
            raise AssertionError("the demo stopped before it ran:\n" + "".join(output[-40:]))
        # running: the hub's database in WAL mode, both edges' outboxes, an allowlist from the hub
        expected = [
            "hub.db-wal",
            "edges/venue-01/outbox.db",
            "edges/centre-01/outbox.allowlist.json",
        ]
        wait_until(
            lambda: all((data_dir / name).exists() for name in expected),
            timeout=120,
            what=" and ".join(expected),
        )
        running = assert_private(data_dir)
    finally:
        demo.send_signal(signal.SIGINT)
        demo.communicate(timeout=120)
    assert {
        "credentials.json",
        "hub.db",
        "hub.db-wal",
        "hub.db-shm",
        "logs/hub.log",
        "logs/edge-centre-01.log",
        "logs/edge-venues.log",
        "mosquitto/dynamic-security.json",
        "mosquitto/mosquitto.conf",
        "mosquitto/mosquitto.log",
        "edges/centre-01/edge.toml",
        "edges/centre-01/outbox.db",
        "edges/centre-01/outbox.db-wal",
        "edges/centre-01/outbox.allowlist.json",
        "edges/venue-01/edge.toml",
        "edges/venue-01/outbox.db",
        "venues",
    } <= set(running)
    stopped = assert_private(data_dir)  # and what the broker saved on its way out
    assert "mosquitto/mosquitto.db" in stopped
