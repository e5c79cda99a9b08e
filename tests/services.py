"""Service settings shared by fixtures and end-to-end harnesses."""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from demo.broker.mosquitto import MosquittoBroker
from hub.broker.acl import contract_acl
from hub.broker.tls import BrokerCertificates

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_admin(*statements: str) -> None:
    """Run statements that cannot run in a transaction (CREATE/DROP/ALTER DATABASE) as the admin."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        admin.dispose()


class DatabaseDropper:
    """Drops the tests' PostgreSQL databases in a thread of its own. ``DROP DATABASE`` waits for
    a checkpoint (up to seconds on a busy machine) that no test needs to wait for; ``close``
    waits for the last drop and raises the first that failed."""

    def __init__(self) -> None:
        self._names: queue.Queue[str | None] = queue.Queue()
        self._errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name="database-dropper", daemon=True)
        self._thread.start()

    def drop(self, name: str) -> None:
        self._names.put(name)

    def close(self) -> None:
        self._names.put(None)
        self._thread.join()
        if self._errors:
            raise self._errors[0]

    def _run(self) -> None:
        while (name := self._names.get()) is not None:
            try:
                postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as exc:  # reported by close(), at the end of the session
                self._errors.append(exc)


# Sites whose edges the test broker knows; username = site id, as in production.
TEST_SITES = ("centre-01", "centre-02", "centre-03", "venue-01", "venue-02")


@dataclass(frozen=True)
class BrokerAccounts:
    hub: tuple[str, str] = ("hub", "hub-secret")
    publisher: tuple[str, str] = ("publisher", "publisher-secret")

    @staticmethod
    def edge(site: str) -> tuple[str, str]:
        return site, f"{site}-secret"


ACCOUNTS = BrokerAccounts()


def make_broker(
    workdir: Path, *, tls: BrokerCertificates | None = None, **kwargs: int
) -> MosquittoBroker:
    """The test broker; with ``tls`` also a TLS listener (``broker.tls_url``) on those
    certificates."""
    accounts = dict([ACCOUNTS.hub, ACCOUNTS.publisher, *(ACCOUNTS.edge(s) for s in TEST_SITES)])
    acl = contract_acl(hub_users=[ACCOUNTS.hub[0]], publishers=[ACCOUNTS.publisher[0]])
    return MosquittoBroker(workdir, accounts, acl, tls=tls, **kwargs)
