"""``community backup`` and ``community restore``: the hub's database to one file and back
(docs/operations.md).

* ``community backup --out FILE|DIR [--keep N]``: a backup while the hub runs; into a directory,
  named ``hub-<UTC time>.backup``, and ``--keep N`` removes all but the newest N there
* ``community restore FILE [--force]``: into an empty database, or with ``--force`` over the
  database's content; the hub must be stopped
* ``community restore --check FILE``: verify a backup without restoring it
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from hub.backup import postgres, sqlite
from hub.backup.archive import read_backup, write_backup
from hub.backup.inventory import check_revision, compare_counts
from hub.backup.manifest import BackupError, Manifest
from hub.core.private_files import make_private_dir
from hub.core.settings import settings_for_cli

BACKUP_PROG = "community backup"
RESTORE_PROG = "community restore"
NAME_PATTERN = "hub-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z.backup"
MAX_KEEP = 10_000


def _say(line: str) -> None:
    print(f"  {line}", flush=True)


def _keep(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_KEEP:
        raise argparse.ArgumentTypeError(f"{text!r}: a number from 1 to {MAX_KEEP}")
    return value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="default: HUB_DATABASE_URL or sqlite:///data/hub.db")
    parser.add_argument(
        "--pg-bin", type=Path, help="directory of pg_dump and pg_restore (default: the server's)"
    )


def backup_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=BACKUP_PROG, description="Back up the hub's database into one file."
    )
    parser.add_argument("--out", type=Path, required=True, help="a new file, or a directory")
    parser.add_argument("--keep", type=_keep, help="with a directory: keep the newest N backups")
    _common(parser)
    args = parser.parse_args(argv)
    if args.keep and not args.out.is_dir():
        parser.error("--keep needs --out to be a directory")
    settings = settings_for_cli(args.database_url, BACKUP_PROG)
    if settings is None:
        return 2
    out: Path = args.out
    if out.is_dir():
        out = out / f"hub-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.backup"
    if out.exists():
        print(f"{BACKUP_PROG}: {out} exists; a backup never replaces another", file=sys.stderr)
        return 1
    if not out.parent.is_dir():
        print(f"{BACKUP_PROG}: {out.parent}: no such directory", file=sys.stderr)
        return 1
    started = time.monotonic()
    print(f"backing up {settings.database_url_for_display()} to {out}", flush=True)
    try:
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=".hub-backup-") as work:
            if make_url(settings.database_url).get_backend_name() == "sqlite":
                manifest, data = sqlite.dump(settings.database_url, Path(work), _say)
            else:
                manifest, data = postgres.dump(settings.database_url, Path(work), _say, args.pg_bin)
            _say(f"writing {out.name}")
            write_backup(out, manifest, data)
    except (BackupError, OSError, SQLAlchemyError) as exc:
        print(f"{BACKUP_PROG}: {exc}", file=sys.stderr)
        return 1
    print(f"done in {time.monotonic() - started:.1f} s: {manifest.describe()}")
    if args.keep:
        _prune(out.parent, args.keep)
    return 0


def _prune(directory: Path, keep: int) -> None:
    """Remove all but the newest ``keep`` backups of the directory (by their names' times)."""
    for old in sorted(directory.glob(NAME_PATTERN), reverse=True)[keep:]:
        old.unlink()
        print(f"removed the old backup {old.name}")


def restore_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=RESTORE_PROG,
        description="Restore the hub's database from a backup (stop the hub first), or --check it.",
    )
    parser.add_argument("file", type=Path, help="a file made by community backup")
    parser.add_argument("--check", action="store_true", help="verify the backup; change nothing")
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace what the database holds (else it must be empty)",
    )
    parser.add_argument(
        "--no-privileges",
        action="store_true",
        help="PostgreSQL: leave out the backup's GRANTs (to roles this server has not)",
    )
    _common(parser)
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="hub-restore-") as work:
            manifest, data = read_backup(args.file, make_private_dir(Path(work)))
            print(f"{args.file}: {manifest.describe()}", flush=True)
            older_than = check_revision(manifest.alembic_revision)
            _verify_data(manifest, data, args.pg_bin)
            if args.check:
                print("the backup is sound: its data matches its manifest")
                if older_than:
                    print(f"restored, it needs `community hub migrate` (to revision {older_than})")
                return 0
            return _restore(args, manifest, data, older_than)
    except (BackupError, SQLAlchemyError) as exc:
        print(f"{RESTORE_PROG}: {exc}", file=sys.stderr)
        return 1


def _verify_data(manifest: Manifest, data: Path, pg_bin: Path | None) -> None:
    if manifest.database == "sqlite":
        problems = compare_counts(manifest.tables, sqlite.verify(data, lambda _line: None))
        if problems:
            raise BackupError("the backup's rows differ from its manifest: " + "; ".join(problems))
    else:
        postgres.archive_entries(manifest, data, pg_bin)


def _restore(
    args: argparse.Namespace, manifest: Manifest, data: Path, older_than: str | None
) -> int:
    settings = settings_for_cli(args.database_url, RESTORE_PROG)
    if settings is None:
        return 2
    kind = make_url(settings.database_url).get_backend_name()
    if kind != manifest.database:
        raise BackupError(
            f"the backup is of a {manifest.database} database; "
            f"{settings.database_url_for_display()} is {kind}"
        )
    backend = sqlite if kind == "sqlite" else postgres
    present = backend.target_tables(settings.database_url)
    if present and not args.force:
        raise BackupError(
            f"{settings.database_url_for_display()} is not empty ({len(present)} tables): "
            "restore into an empty database, or pass --force to replace its content"
        )
    print(f"restoring into {settings.database_url_for_display()}", flush=True)
    started = time.monotonic()
    if kind == "sqlite":
        found = sqlite.restore(settings.database_url, data, _say)
    else:
        found = postgres.restore(
            settings.database_url, manifest, data, clean=bool(present), progress=_say,
            bin_dir=args.pg_bin, privileges=not args.no_privileges,
        )  # fmt: skip
    problems = compare_counts(manifest.tables, found)
    if problems:
        raise BackupError("restored, but the rows differ from the backup's: " + "; ".join(problems))
    print(
        f"restored {sum(found.values())} rows in {len(found)} tables, as in the backup, "
        f"in {time.monotonic() - started:.1f} s"
    )
    if older_than:
        print(
            f"the backup's schema is revision {manifest.alembic_revision}; this hub's is "
            f"{older_than}: run `community hub migrate` (or start the hub, which migrates)"
        )
    return 0
