"""Migrated databases made by copying, not by migrating: the migrations run once per test process.

Running every migration costs about 0.2 s of CPU per database, and hundreds of tests want a
migrated one; a copy of an already migrated template costs a tenth of that. ``upgrade`` still runs
on the copy (a no-op at head) so a test sees exactly what the hub's own start-up would leave.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import sqlalchemy as sa

from hub.core.db import upgrade
from tests.services import POSTGRES_ADMIN_URL, postgres_admin


class MigratedTemplates:
    """A migrated SQLite file and PostgreSQL database, private to one test process (one xdist
    worker), that fresh test databases are made from."""

    def __init__(self, workdir: Path) -> None:
        self.sqlite = workdir / "template.db"
        upgrade(f"sqlite:///{self.sqlite}")
        self.postgres = f"yp_tpl_{uuid.uuid4().hex[:12]}"
        postgres_admin(f'CREATE DATABASE "{self.postgres}"')
        template = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=self.postgres)
        upgrade(template.render_as_string(hide_password=False))
        self._copies: set[str] = set()

    def copy_postgres(self, name: str) -> None:
        """Create the PostgreSQL database ``name`` as a copy of the template: at head at once,
        without the empty database that ``migrate`` would drop and make again."""
        postgres_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.postgres}"')
        self._copies.add(name)

    def migrate(self, database_url: str) -> None:
        """Bring the new database at ``database_url`` to head: an empty one from the template; a
        ``copy_postgres`` copy is there already."""
        url = sa.engine.make_url(database_url)
        if url.get_backend_name() == "sqlite":
            path = Path(str(url.database))
            if not path.exists():
                # created 0600, as the hub creates its own database (tests check it stays private)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as copy:
                    copy.write(self.sqlite.read_bytes())
        elif url.database not in self._copies:
            # The fixture made it empty and nobody has connected yet: make it again from the
            # template (which nobody else uses: CREATE DATABASE wants the template idle).
            postgres_admin(
                f'DROP DATABASE "{url.database}"',
                f'CREATE DATABASE "{url.database}" TEMPLATE "{self.postgres}"',
            )
        upgrade(database_url)

    def close(self) -> None:
        postgres_admin(f'DROP DATABASE IF EXISTS "{self.postgres}" WITH (FORCE)')
