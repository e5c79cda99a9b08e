"""Files that hold secrets or personal data, created private (0600, directories 0700) from the start.

Writing a file and narrowing it with ``chmod`` afterwards leaves a moment in which another local
user can open it, and an open descriptor survives the ``chmod``. So nothing here ever widens or
narrows a mode: a file is born 0600 (``mkstemp``, or ``os.open`` with mode 0600) and reaches its
name by an atomic rename, so a reader sees the old content or the new, never half of it.

The edge keeps its own copy of these few lines (``edge/private_files.py``): it must not import the
hub, and the contract package does no I/O. ``tests/hub/test_private_files.py`` holds both to the
same behaviour.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

FILE_MODE = 0o600
DIR_MODE = 0o700


def make_private_dir(path: Path) -> Path:
    """Create ``path`` and each missing parent with mode 0700. A directory that exists already is
    left as it is: it may be shared (``/var/lib``, ``/tmp``) and is not ours to narrow."""
    missing: list[Path] = []
    here = path
    while not here.is_dir():
        missing.append(here)
        here = here.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            if not directory.is_dir():
                raise
    return path


def write_private(path: Path, data: bytes | str) -> None:
    """Replace ``path`` atomically with ``data`` in a new file of mode 0600 (also when ``path``
    existed with a wider mode: the old inode goes, with its mode)."""
    content = data.encode() if isinstance(data, str) else data
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:  # mkstemp: O_CREAT | O_EXCL, mode 0600
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


def create_private(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 unless it exists (for a database that a library
    creates and then fills: SQLite gives its ``-wal`` and ``-shm`` files the database's mode)."""
    with contextlib.suppress(FileExistsError):  # one that exists keeps its mode
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    return path


def open_private_append(path: Path) -> BinaryIO:
    """``path`` opened to append (a log), created with mode 0600 if it is new."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE), "ab")
