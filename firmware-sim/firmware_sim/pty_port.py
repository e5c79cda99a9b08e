"""A simulated serial port: a pty pair behind a stable path, that can be unplugged and replugged.

The edge opens the slave end by path with pyserial, exactly as it opens /dev/ttyUSB0; the
simulator writes to the master. The pts number changes on every replug, so the caller chooses a
stable symlink (like /dev/serial/by-id/...) that always points at the current slave.
"""

from __future__ import annotations

import contextlib
import os
import select
import termios
import threading
import tty
from pathlib import Path

from firmware_sim.closing import Closing


class PtyPort(Closing):
    """Thread-safe: writes, reads, unplug and replug may come from different threads."""

    def __init__(self, link: Path) -> None:
        self._link = Path(link)
        if self._link.exists() and not self._link.is_symlink():
            raise FileExistsError(f"{self._link} exists and is not a symlink; not replacing it")
        self._lock = threading.Lock()
        self._master: int | None = None
        self._slave: int | None = None
        self._device: str | None = None
        self._closed = False
        self.bytes_written = 0
        self.bytes_dropped = 0
        """Bytes not sent: written while unplugged."""
        self.overruns = 0
        """Times the unread bytes were thrown away to make room."""
        self.replug()

    @property
    def link(self) -> Path:
        return self._link

    @property
    def device(self) -> str | None:
        """The current /dev/pts/N, or None while unplugged."""
        return self._device

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def fileno(self) -> int | None:
        """The master end's fd (to wait on it in an event loop), or None while unplugged."""
        return self._master

    def write(self, data: bytes) -> int:
        """Send bytes down the line; returns how many went out (0 while unplugged).

        Never blocks. When nobody drains the other end and the pty buffer is full, the unread old
        bytes are thrown away (an overrun, counted), as a real line with no listener loses them,
        and the new bytes go out.
        """
        with self._lock:
            if self._master is None or self._slave is None:
                self.bytes_dropped += len(data)
                return 0
            sent = _write_some(self._master, data)
            if sent < len(data):
                termios.tcflush(self._slave, termios.TCIFLUSH)
                self.overruns += 1
                sent += _write_some(self._master, data[sent:])
            self.bytes_written += sent
            self.bytes_dropped += len(data) - sent
            return sent

    def read(self, timeout: float = 0.0) -> bytes:
        """What the other end (the agent) wrote, waiting up to ``timeout``; b'' if nothing."""
        master = self._master
        if master is None:
            return b""
        try:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                return b""
            with self._lock:
                if self._master != master:
                    return b""
                return os.read(master, 4096)
        except (OSError, ValueError):
            # Closed by an unplug on another thread while we waited.
            return b""

    def unplug(self) -> None:
        """The cable is pulled: the pty pair is closed and the stable path disappears.

        An agent reading the old slave gets an I/O error; opening the path fails until replug.
        """
        with self._lock:
            self._unlink()
            for fd in (self._master, self._slave):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._master = self._slave = self._device = None

    def replug(self) -> None:
        """A new pty pair (a new /dev/pts/N), with the stable path pointing at it."""
        with self._lock:
            if self._closed:
                raise RuntimeError("port is closed")
            if self._master is not None:
                return
            master, slave = os.openpty()
            # Keep the slave open ourselves: if only the agent held it, every close of the agent's
            # port would make reads on the master fail with EIO.
            tty.setraw(slave)
            os.set_blocking(master, False)
            device = os.ttyname(slave)
            self._point_link_at(device)
            self._master, self._slave, self._device = master, slave, device

    def close(self) -> None:
        self.unplug()
        with self._lock:
            self._closed = True

    def _point_link_at(self, device: str) -> None:
        """Atomically (re)point the stable path, so a reader never sees it half made."""
        self._link.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._link.with_name(f".{self._link.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(device)
        tmp.replace(self._link)

    def _unlink(self) -> None:
        if self._link.is_symlink():
            self._link.unlink()


def _write_some(fd: int, data: bytes) -> int:
    try:
        return os.write(fd, data)
    except BlockingIOError:
        return 0
