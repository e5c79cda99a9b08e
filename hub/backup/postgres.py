"""PostgreSQL: ``pg_dump --format=custom`` in the snapshot the manifest's counts were read in, and
``pg_restore`` in one transaction.

pg_dump refuses a server newer than itself, and pg_restore an archive from a newer pg_dump; both
are checked first so the operator reads which binary to install instead of pg_dump's own words.
On Debian several versions may be installed side by side: ``/usr/lib/postgresql/N/bin`` for the
server's major version N is preferred to the ``PATH``'s.

The audit log's triggers (migration 0010) refuse UPDATE, TRUNCATE and the DELETE of young rows.
A restore does none of these: ``--clean`` drops the triggers, the table and their function
(DROP is not DELETE), the data goes back with COPY (an INSERT), and the triggers are made again
after the data, as pg_dump orders them (its post-data section).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL, make_url

from hub.backup.archive import sha256_of
from hub.backup.inventory import (
    Progress,
    hub_version,
    postgres_counts,
    postgres_revision,
    postgres_tables,
)
from hub.backup.manifest import DATA_MEMBER, BackupError, Manifest
from hub.core.db import make_engine
from hub.core.partitions import SCHEMA as PARTITION_SCHEMA

_VERSION = re.compile(r"\(PostgreSQL\) (\d+)(?:\.(\d+))?")
_DUMPING = re.compile(r"dumping contents of table \"?([\w.\"]+)")
_RESTORING = re.compile(r"processing data for table \"?([\w.\"]+)")
# pg_restore --list: "123; 1259 16390 TABLE public audit_log owner"
_TOC_ENTRY = re.compile(
    r"^\d+; \d+ \d+ (FK CONSTRAINT|TABLE|SEQUENCE|VIEW|FUNCTION|TYPE) public (\S+(?: \S+)?)"
)


@dataclass(frozen=True)
class Tool:
    path: str
    major: int
    version: str


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """The libpq URI without its password, and the environment that carries the password (so
    no password shows in the process list)."""
    url: URL = make_url(database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def find_tool(name: str, server_major: int | None, bin_dir: Path | None) -> Tool:
    """``pg_dump`` or ``pg_restore``: from ``bin_dir`` if given, else Debian's directory for the
    server's major version, else the ``PATH``."""
    candidates = []
    if bin_dir is not None:
        candidates.append(str(bin_dir / name))
    else:
        if server_major is not None:
            candidates.append(f"/usr/lib/postgresql/{server_major}/bin/{name}")
        found = shutil.which(name)
        if found:
            candidates.append(found)
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return _version_of(candidate)
    where = str(bin_dir) if bin_dir is not None else "PATH or /usr/lib/postgresql/*/bin"
    raise BackupError(
        f"{name} is not installed ({where}): install the PostgreSQL client of the server's "
        f"version (Debian: apt install postgresql-client-{server_major or 'N'})"
    )


def _version_of(path: str) -> Tool:
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackupError(f"{path} --version failed: {exc}") from None
    match = _VERSION.search(out)
    if match is None:
        raise BackupError(f"{path} --version said {out.strip()!r}: not PostgreSQL's tool")
    return Tool(path, int(match.group(1)), out.strip())


def server_major(conn: Connection) -> tuple[int, str]:
    number = int(conn.execute(text("SHOW server_version_num")).scalar_one())
    return number // 10000, str(conn.execute(text("SHOW server_version")).scalar_one())


def dump(
    database_url: str, work: Path, progress: Progress, bin_dir: Path | None
) -> tuple[Manifest, Path]:
    """Dump the database into ``work``; the manifest's counts and revision are read in the very
    snapshot pg_dump dumps (``pg_export_snapshot``), so they match the dump exactly while the
    hub goes on writing."""
    engine = make_engine(database_url)
    data = work / DATA_MEMBER["postgresql"]
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            conn.execute(text("SET TRANSACTION READ ONLY"))
            major, server_version = server_major(conn)
            tool = find_tool("pg_dump", major, bin_dir)
            if tool.major < major:
                raise BackupError(
                    f"{tool.path} is version {tool.major}, older than the server "
                    f"({server_version}): pg_dump cannot dump a newer server; install "
                    f"postgresql-client-{major} or pass --pg-bin"
                )
            snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
            revision = postgres_revision(conn)
            progress(f"schema revision {revision}")
            counts = postgres_counts(conn, progress)
            uri, env = _libpq(database_url)
            _run(
                [tool.path, "--format=custom", "--verbose", f"--snapshot={snapshot}",
                 f"--file={data}", f"--dbname={uri}"],
                env, progress, _DUMPING, "dumping",
            )  # fmt: skip
            conn.rollback()
    finally:
        engine.dispose()
    manifest = Manifest(
        hub_version=hub_version(),
        alembic_revision=revision,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        database="postgresql",
        data_member=data.name,
        data_bytes=data.stat().st_size,
        data_sha256=sha256_of(data),
        tables=counts,
        server_version=server_version,
        dump_tool_version=tool.version,
    )
    return manifest, data


def _run(
    argv: list[str], env: dict[str, str], progress: Progress, pattern: re.Pattern[str], verb: str
) -> None:
    """Run a PostgreSQL tool, turning its ``--verbose`` lines into one progress line per table,
    and its failure into a ``BackupError`` with the lines that say why."""
    errors: list[str] = []
    with subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:
            match = pattern.search(line)
            if match:
                progress(f"{verb} {match.group(1).replace(chr(34), '')}")
            elif "error" in line.lower() or "fatal" in line.lower() or "warning" in line.lower():
                errors.append(line.rstrip())
    if process.returncode != 0:
        detail = "\n  ".join(errors[-10:]) or f"exit status {process.returncode}"
        raise BackupError(f"{Path(argv[0]).name} failed:\n  {detail}")


def archive_entries(manifest: Manifest, data: Path, bin_dir: Path | None) -> set[tuple[str, str]]:
    """Read the archive's table of contents with pg_restore (which proves it readable):
    ``(kind, name)`` of what it makes in schema public (``FK CONSTRAINT``: the constraint's)."""
    tool = restore_tool(manifest, bin_dir)
    try:
        out = subprocess.run(
            [tool.path, "--list", str(data)],
            check=False,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackupError(f"pg_restore --list failed: {exc}") from None
    if out.returncode != 0:
        raise BackupError(f"the archive is not readable by pg_restore: {out.stderr.strip()}")
    entries = set()
    for line in out.stdout.splitlines():
        match = _TOC_ENTRY.match(line)
        if match:
            kind, words = match.group(1), match.group(2).split()
            name = words[1] if kind == "FK CONSTRAINT" and len(words) > 1 else words[0]
            entries.add((kind, name.split("(")[0]))
    return entries


def restore_tool(manifest: Manifest, bin_dir: Path | None) -> Tool:
    made_by = _VERSION.search(manifest.dump_tool_version or "")
    needed = int(made_by.group(1)) if made_by else None
    tool = find_tool("pg_restore", needed, bin_dir)
    if needed is not None and tool.major < needed:
        raise BackupError(
            f"{tool.path} is version {tool.major}; the backup was made by pg_dump {needed}: "
            f"install postgresql-client-{needed} or pass --pg-bin"
        )
    return tool


def target_tables(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return postgres_tables(conn)
    finally:
        engine.dispose()


def restore(
    database_url: str,
    manifest: Manifest,
    data: Path,
    *,
    clean: bool,
    progress: Progress,
    bin_dir: Path | None,
    privileges: bool = True,
) -> dict[str, int]:
    """Restore ``data`` in one transaction: a failure leaves the database as it was. With
    ``clean``, over what is there: first what the backup has not (a newer schema's tables,
    constraints and functions, which would keep pg_restore's DROPs from running), then
    ``pg_restore --clean --if-exists``. The counts of the restored tables come back.

    pg_restore writes its SQL to psql (``--single-transaction``, stop on the first error), so
    those DROPs and the restore commit together; when pg_restore fails, psql is stopped before
    the end of its input, where it would commit."""
    entries = archive_entries(manifest, data, bin_dir)
    tool = restore_tool(manifest, bin_dir)
    psql = find_tool("psql", None, Path(tool.path).parent)
    prelude = _leftovers(database_url, entries) if clean else []
    for line in prelude:
        progress(f"{line.split(' CASCADE')[0].lower()}: not in the backup")
    if clean:
        # --clean drops a partition's primary key before the partition, which PostgreSQL
        # refuses for a key inherited from its parent; the backup makes the schema again
        prelude.append(f"DROP SCHEMA IF EXISTS {PARTITION_SCHEMA} CASCADE")
    uri, env = _libpq(database_url)
    restore_argv = [tool.path, "--verbose", "--no-owner", "--file=-"]
    if clean:
        restore_argv += ["--clean", "--if-exists"]
    if not privileges:  # grants to roles this server may not have (grafana_reader)
        restore_argv.append("--no-privileges")
    psql_argv = [psql.path, "--no-psqlrc", "--quiet", "--single-transaction"]
    psql_argv += ["--set=ON_ERROR_STOP=1", "--file=-", f"--dbname={uri}"]
    _pipe([*restore_argv, str(data)], psql_argv, prelude, env, progress)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return postgres_counts(conn, lambda _line: None)
    finally:
        engine.dispose()


def _pipe(
    restore_argv: list[str],
    psql_argv: list[str],
    prelude: list[str],
    env: dict[str, str],
    progress: Progress,
) -> None:
    psql_errors: list[str] = []
    restore_errors: list[str] = []
    pipe = subprocess.PIPE
    with subprocess.Popen(
        psql_argv, env=env, stdin=pipe, stdout=subprocess.DEVNULL, stderr=pipe
    ) as psql:
        sql, psql_stderr = psql.stdin, psql.stderr
        assert sql is not None
        assert psql_stderr is not None
        reader = threading.Thread(target=_collect, args=(psql_stderr, psql_errors), daemon=True)
        reader.start()
        try:
            with subprocess.Popen(restore_argv, stdout=pipe, stderr=pipe) as pg_restore:
                script, log = pg_restore.stdout, pg_restore.stderr
                assert script is not None
                assert log is not None
                logger = threading.Thread(
                    target=_progress, args=(log, progress, restore_errors), daemon=True
                )
                logger.start()
                psql_alive = _feed(sql, prelude, script)
                if not psql_alive:
                    pg_restore.kill()
                logger.join()
            restored = pg_restore.returncode == 0
            if restored and psql_alive:
                with contextlib.suppress(BrokenPipeError):
                    sql.close()  # the end of its input: psql commits
            else:
                psql.kill()  # before the end of its input: nothing is committed
        except BaseException:
            psql.kill()
            raise
        psql.wait()
        reader.join()
    if not psql_alive or (restored and psql.returncode != 0):
        detail = "\n  ".join(psql_errors[-10:]) or f"psql's exit status {psql.returncode}"
        if "role" in detail and "does not exist" in detail:
            detail += "\n(create the role first, or restore with --no-privileges)"
        raise BackupError(f"the restore failed (nothing was changed):\n  {detail}")
    if not restored:
        detail = "\n  ".join(restore_errors[-10:]) or f"exit status {pg_restore.returncode}"
        raise BackupError(f"pg_restore failed (nothing was changed):\n  {detail}")


def _feed(sql: IO[bytes], prelude: list[str], script: IO[bytes]) -> bool:
    """Write the prelude and pg_restore's script to psql; ``False`` when psql stopped reading
    (it stopped on an error and rolled back)."""
    try:
        sql.write("".join(f"{line};\n" for line in prelude).encode())
        shutil.copyfileobj(script, sql, 1 << 20)
        sql.flush()
    except BrokenPipeError:
        return False
    return True


def _collect(stream: IO[bytes], into: list[str]) -> None:
    for raw in stream:
        into.append(raw.decode(errors="replace").rstrip())


def _progress(stream: IO[bytes], progress: Progress, errors: list[str]) -> None:
    for raw in stream:
        line = raw.decode(errors="replace")
        match = _RESTORING.search(line)
        if match:
            progress(f"restoring {match.group(1).replace(chr(34), '')}")
        elif "error" in line.lower() or "fatal" in line.lower():
            errors.append(line.rstrip())


def _leftovers(database_url: str, entries: set[tuple[str, str]]) -> list[str]:
    """DROP statements for what the database has in schema public and the backup has not:
    foreign keys (which would keep ``--clean`` from dropping the tables they point to), tables,
    views, sequences and functions (which ``community hub migrate`` makes again)."""
    keys = {name for kind, name in entries if kind == "FK CONSTRAINT"}
    relations = {name for kind, name in entries if kind in {"TABLE", "VIEW", "SEQUENCE"}}
    functions = {name for kind, name in entries if kind == "FUNCTION"}
    engine = make_engine(database_url)
    statements: list[str] = []
    try:
        with engine.connect() as conn:
            quote = conn.dialect.identifier_preparer.quote
            for table, name in conn.execute(
                text(
                    "SELECT conrelid::regclass::text, conname FROM pg_constraint"
                    " WHERE connamespace = 'public'::regnamespace AND contype = 'f'"
                )
            ):
                if name not in keys:
                    statements.append(
                        f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {quote(name)} CASCADE"
                    )
            word = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW"}
            word["S"] = "SEQUENCE"
            for name, kind in conn.execute(
                text(
                    "SELECT relname, relkind FROM pg_class"
                    " WHERE relnamespace = 'public'::regnamespace"
                    " AND relkind IN ('r', 'p', 'v', 'm', 'S') AND NOT relispartition"
                )
            ):
                if name not in relations:
                    statements.append(f"DROP {word[kind]} IF EXISTS public.{quote(name)} CASCADE")
            for (signature,) in conn.execute(
                text(
                    "SELECT p.oid::regprocedure::text FROM pg_proc p"
                    " WHERE p.pronamespace = 'public'::regnamespace AND NOT EXISTS"
                    " (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
                )
            ):
                if str(signature).split("(")[0] not in functions:
                    statements.append(f"DROP FUNCTION IF EXISTS public.{signature} CASCADE")
    finally:
        engine.dispose()
    return statements
