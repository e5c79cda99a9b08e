"""systemd's service notification protocol (``sd_notify``): a few lines over a unix datagram socket.

Under ``Type=notify`` systemd names its socket in ``NOTIFY_SOCKET`` (a path, or ``@name`` in the
abstract namespace) and, with ``WatchdogSec=``, the period in ``WATCHDOG_USEC`` (for the process
in ``WATCHDOG_PID`` when set). Each datagram is ``KEY=VALUE`` lines: ``READY=1``, ``WATCHDOG=1``,
``STATUS=...``, ``STOPPING=1``. Without ``NOTIFY_SOCKET`` (a shell, a test) nothing is sent.
No library: the protocol is this small, and PyPI's pure-Python ones are unmaintained since 2017.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)

STATUS_MAX = 200
"""A STATUS line is shown by ``systemctl status``; keep it to one readable line."""


def status_line(text: str) -> str:
    """``STATUS=`` with ``text`` on one line, bounded."""
    flat = " ".join(text.split())
    return "STATUS=" + (flat if len(flat) <= STATUS_MAX else flat[: STATUS_MAX - 1] + "…")


class Notifier:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self.address: str | None = None
        if address.startswith("/") or (address.startswith("@") and len(address) > 1):
            # "@name": the abstract namespace, where the name starts with a NUL byte
            self.address = "\0" + address[1:] if address.startswith("@") else address
        elif address:
            log.warning("NOTIFY_SOCKET %r is not a unix socket; not notifying systemd", address)
        self.watchdog_s = _watchdog_period(env)
        self._failed = False

    @property
    def active(self) -> bool:
        return self.address is not None

    def send(self, *lines: str) -> bool:
        """Send one datagram of ``lines``; ``False`` when there is no socket or it failed."""
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(self.address)
                sock.sendall("\n".join(lines).encode())
        except OSError as exc:
            if not self._failed:  # once: a watchdog message every few seconds would flood
                log.warning("cannot notify systemd at %s: %s", self.address, exc)
            self._failed = True
            return False
        self._failed = False
        return True


def _watchdog_period(env: Mapping[str, str]) -> float | None:
    """The watchdog's period in seconds, when it is this process's to keep (``WatchdogSec=``)."""
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID")
    if usec <= 0 or (pid is not None and pid != str(os.getpid())):
        return None
    return usec / 1_000_000
