"""The services a benchmark runs against, made fresh for each run and thrown away after it.

A private Mosquitto on a free port with the contract's accounts and ACL (random passwords, made per
run), and a new database: PostgreSQL under ``TEST_POSTGRES_URL`` (the server the tests use) or an
SQLite file. A service that cannot be had is an error, never a figure quietly measured elsewhere.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import sqlalchemy as sa

from demo.broker.mosquitto import MosquittoBroker, mosquitto_binary
from hub.broker.acl import contract_acl

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

DatabaseKind = Literal["postgresql", "sqlite"]

MOSQUITTO_AUTOSAVE_S = 1800
"""Mosquitto's own default: the broker is not killed here, so its disk writes stay out of the way."""


class ServiceUnavailableError(RuntimeError):
    """A service the benchmark needs is missing or unreachable."""


Account = tuple[str, str]


@dataclass(frozen=True)
class Accounts:
    """Who may connect to the benchmark's broker, with passwords made for this run only.

    ``hub`` reads and writes the whole prefix; ``bench`` is the benchmark's own eyes and hands
    (it may read receipts and publish anywhere under the prefix, as the tests' publisher may);
    each edge's username is its site id and it may publish only its own site's events.
    """

    hub: Account
    bench: Account
    edges: dict[str, str]

    @classmethod
    def make(cls, sites: Sequence[str]) -> Accounts:
        return cls(
            hub=("hub", secrets.token_urlsafe(16)),
            bench=("bench", secrets.token_urlsafe(16)),
            edges={site: secrets.token_urlsafe(16) for site in sites},
        )

    def edge(self, site: str) -> Account:
        return site, self.edges[site]

    def passwords(self) -> dict[str, str]:
        return dict([self.hub, self.bench, *self.edges.items()])


@contextmanager
def private_broker(workdir: Path, accounts: Accounts) -> Iterator[MosquittoBroker]:
    acl = contract_acl(hub_users=[accounts.hub[0]], publishers=[accounts.bench[0]])
    broker = MosquittoBroker(
        workdir, accounts.passwords(), acl, autosave_interval=MOSQUITTO_AUTOSAVE_S
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()


@contextmanager
def fresh_database(kind: DatabaseKind, workdir: Path) -> Iterator[str]:
    """The URL of a new, empty database, dropped (PostgreSQL) or left in ``workdir`` (SQLite)."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'hub.db'}"
        return
    name = f"yp_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        raise ServiceUnavailableError(
            f"PostgreSQL is required and not reachable at TEST_POSTGRES_URL "
            f"({sa.make_url(POSTGRES_ADMIN_URL).render_as_string()}): {exc}"
        ) from exc
    try:
        yield (
            sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def versions(database_url: str | None = None) -> str:
    """Mosquitto's version and, given a URL, the database server's: for the report's header."""
    found = ["Mosquitto unknown"]
    binary = mosquitto_binary()
    if binary:
        banner = subprocess.run([binary, "-h"], capture_output=True, text=True, check=False)
        found[0] = (banner.stdout or banner.stderr).splitlines()[0].strip()
    if database_url and sa.make_url(database_url).get_backend_name() == "postgresql":
        engine = sa.create_engine(database_url)
        try:
            with engine.connect() as conn:
                version = conn.execute(sa.text("SHOW server_version")).scalar_one()
            found.append(f"PostgreSQL {version}")
        except sa.exc.OperationalError:
            found.append("PostgreSQL unreachable")
        finally:
            engine.dispose()
    return ", ".join(found)
