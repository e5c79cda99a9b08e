"""A serial port by path that survives its device going away: closed, counted, reopened.

USB serial adapters get unplugged and power-cycled; the agent must not need a restart for that.
pyserial stays inside this module: callers get bytes, or our ``PortError``.
"""

from __future__ import annotations

import contextlib
import logging
import termios
import threading
import time
from dataclasses import dataclass, field

import serial

log = logging.getLogger(__name__)


class PortError(Exception):
    """The open port failed or went away. It is closed already; the next read tries to reopen."""


@dataclass
class Backoff:
    """Capped exponential delay between reopen attempts: quick after a blip, calm in an outage."""

    initial_s: float = 0.05
    max_s: float = 2.0
    factor: float = 2.0
    _next_s: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.initial_s <= self.max_s or self.factor < 1:
            raise ValueError("need 0 < initial_s <= max_s and factor >= 1")
        self.reset()

    def next(self) -> float:
        delay = self._next_s
        self._next_s = min(self._next_s * self.factor, self.max_s)
        return delay

    def reset(self) -> None:
        self._next_s = self.initial_s


class SerialPort:
    """One serial device, read by one thread (``is_open`` and ``errors`` may be read by any).

    ``errors`` counts outages, not attempts: the port lost while open, or a first failed open,
    each count once however many reopen attempts follow.
    """

    def __init__(
        self,
        path: str,
        *,
        baudrate: int = 9600,
        read_timeout_s: float = 0.05,
        backoff: Backoff | None = None,
    ) -> None:
        self.path = path
        self._baudrate = baudrate
        self._read_timeout_s = read_timeout_s
        self._backoff = backoff or Backoff()
        self._serial: serial.Serial | None = None
        self._in_outage = False
        self._errors = 0
        self._retry_at = 0.0

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    @property
    def errors(self) -> int:
        return self._errors

    def read(self, stop: threading.Event) -> bytes:
        """Bytes that arrived, as soon as some do; b'' after ``read_timeout_s`` of silence.

        While the port is closed, a call either tries to open it or, before the next attempt is
        due, waits (cut short by ``stop``) and returns b''. Raises ``PortError`` when the open port
        fails; it is then closed and counted.
        """
        if not self.ensure_open(stop):
            return b""
        port = self._serial
        assert port is not None
        try:
            data = port.read(1)
            waiting = port.in_waiting if data else 0
            if waiting:
                data += port.read(waiting)
        except (serial.SerialException, OSError) as exc:
            # A pty or USB adapter that went away: EIO, or "readiness to read but returned no
            # data" when select said readable and the read got nothing.
            self._lost(exc)
            raise PortError(f"serial port {self.path} failed: {exc}") from exc
        # Only a port that works resets the backoff: one that opens and fails at once must not
        # be reopened in a tight loop.
        self._backoff.reset()
        return bytes(data)

    def ensure_open(self, stop: threading.Event) -> bool:
        """True when the port is open; else try to open it if an attempt is due, or wait (cut
        short by ``stop``) until one is, and say whether it opened."""
        if self._serial is not None:
            return True
        delay = self._retry_at - time.monotonic()
        if delay > 0:
            stop.wait(delay)
            return False
        if self._open() is None:
            self._retry_at = time.monotonic() + self._backoff.next()
            return False
        return True

    def write(self, data: bytes) -> None:
        """Send ``data`` whole; raises ``PortError`` (and closes the port) when it fails."""
        port = self._serial
        if port is None:
            raise PortError(f"serial port {self.path} is not open")
        try:
            port.write(data)
        except (serial.SerialException, OSError) as exc:
            self._lost(exc)
            raise PortError(f"serial port {self.path} failed: {exc}") from exc

    def discard_input(self) -> None:
        """Throw away what arrived unasked (a late answer to an earlier request, noise)."""
        port = self._serial
        if port is None:
            return
        try:
            port.reset_input_buffer()
        except (serial.SerialException, OSError, termios.error) as exc:  # tcflush: termios.error
            self._lost(exc)
            raise PortError(f"serial port {self.path} failed: {exc}") from exc

    def close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def _open(self) -> serial.Serial | None:
        try:
            port = serial.Serial(
                self.path,
                baudrate=self._baudrate,
                bytesize=serial.EIGHTBITS,
                parity=serial.PARITY_NONE,
                stopbits=serial.STOPBITS_ONE,
                timeout=self._read_timeout_s,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            if not self._in_outage:
                self._in_outage = True
                self._errors += 1
                log.warning("cannot open serial port %s: %s; retrying", self.path, exc)
            else:
                log.debug("serial port %s still unavailable: %s", self.path, exc)
            return None
        if self._in_outage:
            log.info("serial port %s is back", self.path)
        else:
            log.info("opened serial port %s", self.path)
        self._in_outage = False
        self._serial = port
        return port

    def _lost(self, exc: BaseException) -> None:
        log.warning("serial port %s lost: %s", self.path, exc)
        # Counted before it shows as closed: whoever sees it closed also sees the error.
        self._errors += 1
        self._in_outage = True
        self.close()
        self._retry_at = time.monotonic() + self._backoff.next()
