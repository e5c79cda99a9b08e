"""The card-reader driver: a thread that turns an EM4100 reader's serial frames into taps.

A held card repeats its frame about every 100 ms; the member tapped once. The first good frame is
the tap (fast feedback at the door); the same card counts again only after it has been off the
reader (no frame of it) for ``release_s``. A frame of another card means the first was taken away.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from edge.em4100 import FrameParser
from edge.serial_port import Backoff, PortError, SerialPort
from mqtt_contract.models import DeviceHealth
from mqtt_contract.topics import is_valid_id

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.05
"""Longest silence before a read returns: bounds how long ``stop()`` waits, and a frame open
across that much silence (a frame takes ~15 ms at 9600 baud) is counted as cut short."""


@dataclass(frozen=True)
class Tap:
    card: str
    """10 upper-case hex digits."""
    at: datetime
    """When its first frame arrived (aware, UTC)."""


class CardReader:
    """One reader on one serial port, read by its own daemon thread.

    ``on_tap`` runs on that thread, synchronously: the agent commits the tap to its outbox inside
    it, so a tap is durable before the next one is read. An exception from it is logged and the
    reader goes on. Health is ``degraded`` while ``degraded_errors`` or more frame errors fell in
    the last ``degraded_window_s`` (a failing cable or a noisy line).
    """

    def __init__(
        self,
        device_id: str,
        port: str,
        on_tap: Callable[[Tap], object],
        *,
        baudrate: int = 9600,
        release_s: float = 0.3,
        degraded_errors: int = 5,
        degraded_window_s: float = 60.0,
        backoff: Backoff | None = None,
    ) -> None:
        if not is_valid_id(device_id):
            raise ValueError(f"invalid device id {device_id!r}")
        if release_s <= 0 or degraded_errors < 1 or degraded_window_s <= 0:
            raise ValueError("release_s and degraded_window_s must be > 0, degraded_errors >= 1")
        self.device_id = device_id
        self._on_tap = on_tap
        self._release_s = release_s
        self._degraded_errors = degraded_errors
        self._degraded_window_s = degraded_window_s
        self._port = SerialPort(
            port, baudrate=baudrate, read_timeout_s=READ_TIMEOUT_S, backoff=backoff
        )
        self._parser = FrameParser()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Shared with health(): guarded by the lock.
        self._lock = threading.Lock()
        self._frames_ok = 0
        self._frame_errors = 0
        # Times of the latest frame errors; only whether enough fell in the window matters.
        self._recent_errors: deque[float] = deque(maxlen=degraded_errors)
        self._last_frame_at: datetime | None = None
        # Debounce state: reader thread only.
        self._held_card: str | None = None
        self._held_seen = 0.0

    @property
    def port(self) -> str:
        return self._port.path

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"card reader {self.device_id} was already started")
        self._thread = threading.Thread(
            target=self._run, name=f"card-reader-{self.device_id}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop the thread and close the port; returns within about ``READ_TIMEOUT_S``."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
            if thread.is_alive():
                log.warning("card reader %s did not stop within %.1f s", self.device_id, timeout_s)

    @property
    def running(self) -> bool:
        """Its thread is alive (it never ends on an error, only on ``stop``)."""
        return self._thread is not None and self._thread.is_alive()

    def health(self) -> DeviceHealth:
        with self._lock:
            self._forget_old_errors(time.monotonic())
            state: Literal["ok", "degraded", "disconnected"]
            if not self._port.is_open:
                state = "disconnected"
            elif len(self._recent_errors) >= self._degraded_errors:
                state = "degraded"
            else:
                state = "ok"
            return DeviceHealth(
                id=self.device_id,
                kind="card_reader",
                state=state,
                frames_ok=self._frames_ok,
                frame_errors=self._frame_errors,
                port_errors=self._port.errors,
                last_frame_at=self._last_frame_at,
            )

    def _run(self) -> None:
        log.info("card reader %s reading %s", self.device_id, self._port.path)
        try:
            while not self._stop.is_set():
                try:
                    self._step()
                except Exception:
                    # Never lose the reader thread; pause so a persistent fault cannot spin.
                    log.exception("card reader %s: unexpected error; going on", self.device_id)
                    self._stop.wait(1.0)
        finally:
            self._port.close()
            log.info("card reader %s stopped", self.device_id)

    def _step(self) -> None:
        try:
            data = self._port.read(self._stop)
        except PortError:
            self._parser.reset()
            return
        now = time.monotonic()
        errors_before = self._parser.error_count
        if data:
            cards = self._parser.feed(data)
        else:
            cards = []
            self._parser.idle()
        new_errors = self._parser.error_count - errors_before
        if not cards and not new_errors:
            return
        wall = datetime.now(UTC)
        with self._lock:
            self._frames_ok += len(cards)
            if cards:
                self._last_frame_at = wall
            if new_errors:
                self._frame_errors += new_errors
                self._recent_errors.extend([now] * min(new_errors, self._degraded_errors))
        if new_errors:
            log.debug("card reader %s: %d frame error(s)", self.device_id, new_errors)
        for card in cards:
            if self._is_new_tap(card, now):
                self._deliver(Tap(card=card, at=wall))
                # Frames that queued up while on_tap ran (an outbox commit can stall) arrive
                # in one late read: count from its end, so they do not look like a new tap.
                now = self._held_seen = time.monotonic()

    def _is_new_tap(self, card: str, now: float) -> bool:
        new = card != self._held_card or now - self._held_seen >= self._release_s
        self._held_card, self._held_seen = card, now
        return new

    def _deliver(self, tap: Tap) -> None:
        log.info("card reader %s: tap", self.device_id)
        try:
            self._on_tap(tap)
        except Exception:
            log.exception("card reader %s: on_tap failed for a tap at %s", self.device_id, tap.at)

    def _forget_old_errors(self, now: float) -> None:
        horizon = now - self._degraded_window_s
        while self._recent_errors and self._recent_errors[0] < horizon:
            self._recent_errors.popleft()
