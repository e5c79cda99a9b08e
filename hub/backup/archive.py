"""The backup file: a plain tar of ``manifest.json`` then the data, written whole or not at all.

The data is already compressed (``pg_dump -Fc``) or a database file, so the tar adds no
compression; it exists so that a backup is one file whose parts cannot be separated, and which
``tar tf`` can list by hand. Reading checks the data against the manifest's size and SHA-256 while
it is copied out, so a truncated or altered backup is refused before anything is restored.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tarfile
import tempfile
import time
from pathlib import Path
from typing import IO

from hub.backup.manifest import MAX_MANIFEST_BYTES, BackupError, Manifest

MANIFEST = "manifest.json"
_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_backup(out: Path, manifest: Manifest, data: Path) -> None:
    """Write the backup to ``out`` (mode 0600) by an atomic rename: a backup that stops half way
    leaves no file that looks like a backup."""
    fd, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            with tarfile.open(fileobj=file, mode="w", format=tarfile.PAX_FORMAT) as tar:
                _add(tar, MANIFEST, manifest.to_json())
                info = tarfile.TarInfo(manifest.data_member)
                info.size = data.stat().st_size
                info.mode = 0o600
                info.mtime = int(os.stat(data).st_mtime)
                with data.open("rb") as source:
                    tar.addfile(info, source)
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, out)  # fails if ``out`` appeared meanwhile: never replace a backup
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    directory = os.open(out.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _add(tar: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    info.mode = 0o600
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(content))


def read_backup(path: Path, into: Path) -> tuple[Manifest, Path]:
    """The backup's manifest, and its data copied to a file in the directory ``into`` after
    checking it against the manifest; ``BackupError`` says what is wrong with a bad file."""
    try:
        with tarfile.open(path, mode="r:") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise BackupError(f"{path}: not a hub backup (no {MANIFEST} first)")
            if first.size > MAX_MANIFEST_BYTES:
                raise BackupError(f"{path}: the manifest is larger than {MAX_MANIFEST_BYTES} bytes")
            manifest = Manifest.from_json(_read_member(tar, first).read())
            data = tar.next()
            if data is None or data.name != manifest.data_member or not data.isfile():
                raise BackupError(f"{path}: the data ({manifest.data_member}) is missing")
            if data.size != manifest.data_bytes:
                raise BackupError(
                    f"{path}: the data is {data.size} bytes, the manifest says "
                    f"{manifest.data_bytes}: the backup is damaged"
                )
            target = into / manifest.data_member
            _copy_checked(_read_member(tar, data), target, manifest, path)
            if tar.next() is not None:
                raise BackupError(f"{path}: unexpected members after the data")
    except (tarfile.TarError, EOFError) as exc:
        raise BackupError(f"{path}: not a complete hub backup ({exc})") from None
    except OSError as exc:
        raise BackupError(f"{path}: cannot read the backup: {exc}") from None
    return manifest, target


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    file = tar.extractfile(member)
    if file is None:
        raise BackupError(f"{member.name} is not a file")
    return file


def _copy_checked(source: IO[bytes], target: Path, manifest: Manifest, path: Path) -> None:
    digest = hashlib.sha256()
    copied = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            copied += len(chunk)
            out.write(chunk)
    if copied != manifest.data_bytes or digest.hexdigest() != manifest.data_sha256:
        raise BackupError(
            f"{path}: the data does not match the manifest's SHA-256: the backup is damaged"
        )
