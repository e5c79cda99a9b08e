"""Polls the Modbus devices on one serial port (an RS-485 line) and hands over their readings.

Each device is read every ``poll_interval_s``. A reading is handed over (to be committed to the
outbox) when it differs from the last one handed over, or when ``keepalive_s`` has passed without
one, so a quiet venue still shows it is alive while a busy one reports every change. A failed
request is retried ``retries`` times within the poll. A device is ``degraded`` after
``degraded_after`` failed requests in a row (timeouts, CRC errors, refusals) and ``ok`` again at
its next good answer; every device on a port that is gone is ``disconnected``.

The poller is the only owner of its line: a device that is written to (the venue sign) is one of
its devices too, and ``poll_soon`` brings its next poll forward when there is something to write.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from edge.modbus_master import RtuMaster
from edge.modbus_rtu import FrameError, NoResponseError, RefusedError
from edge.serial_port import Backoff, PortError, SerialPort
from mqtt_contract.models import BaysData, CounterData, DeviceHealth, DeviceKind
from mqtt_contract.topics import EventKind, is_valid_id

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.01
"""pyserial's wait for one more byte: how finely an answer's deadline is kept."""


class LineDevice(Protocol):
    """A Modbus device of a line: a sensor (``edge.venue_sensors``), whose poll gives a reading
    to publish as ``event_kind``, or the sign (``edge.sign``), whose poll gives none."""

    device_id: str
    unit_id: int
    kind: DeviceKind

    @property
    def event_kind(self) -> EventKind | None: ...

    def read(
        self, master: RtuMaster, timeout_s: float, stop: threading.Event
    ) -> CounterData | BaysData | None: ...


@dataclass(frozen=True)
class PollOptions:
    poll_interval_s: float = 1.0
    keepalive_s: float = 60.0
    timeout_s: float = 0.3
    """How long to wait for the first byte of an answer before counting a timeout."""
    retries: int = 1
    degraded_after: int = 3

    def __post_init__(self) -> None:
        if min(self.poll_interval_s, self.keepalive_s, self.timeout_s) <= 0:
            raise ValueError("poll_interval_s, keepalive_s and timeout_s must be > 0")
        if self.retries < 0 or self.degraded_after < 1:
            raise ValueError("retries must be >= 0 and degraded_after >= 1")


@dataclass(frozen=True)
class Reading:
    device_id: str
    kind: EventKind
    data: CounterData | BaysData
    at: datetime
    """When the answer arrived (aware, UTC)."""


class _Polled:
    """One device's schedule and counters; the counters are guarded by the poller's lock."""

    def __init__(self, sensor: LineDevice, options: PollOptions) -> None:
        if not is_valid_id(sensor.device_id):
            raise ValueError(f"invalid device id {sensor.device_id!r}")
        self.sensor, self.options = sensor, options
        self.next_due = 0.0
        self.frames_ok = self.frame_errors = self.timeouts = self.failures_in_a_row = 0
        self.last_frame_at: datetime | None = None
        self.last_data: CounterData | BaysData | None = None
        self.last_handed_over = float("-inf")


class ModbusPoller:
    """One port, read by its own daemon thread.

    ``on_reading`` runs on that thread, synchronously: the agent commits the reading to its
    outbox inside it. If it raises, the failure is logged and the reading is offered again at the
    next poll.
    """

    def __init__(
        self,
        port: str,
        sensors: Sequence[tuple[LineDevice, PollOptions]],
        on_reading: Callable[[Reading], object],
        *,
        baudrate: int = 9600,
        backoff: Backoff | None = None,
    ) -> None:
        if not sensors:
            raise ValueError("a poller needs at least one device")
        units = [s.unit_id for s, _ in sensors]
        if len(units) != len(set(units)):
            raise ValueError(f"unit ids on one port must differ, got {units}")
        self._polled = [_Polled(s, o) for s, o in sensors]
        self._on_reading = on_reading
        self._port = SerialPort(
            port, baudrate=baudrate, read_timeout_s=READ_TIMEOUT_S, backoff=backoff
        )
        self._master = RtuMaster(self._port)
        self._stop = threading.Event()
        self._wakeup = threading.Event()
        self._lock = threading.Lock()
        self._soon: set[str] = set()  # device ids to poll at once, guarded by _lock
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> str:
        return self._port.path

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"the poller of {self.port} was already started")
        self._thread = threading.Thread(target=self._run, name=f"modbus-{self.port}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        self._wakeup.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
            if thread.is_alive():
                log.warning("the poller of %s did not stop within %.1f s", self.port, timeout_s)

    def poll_soon(self, device_id: str) -> None:
        """Poll this device at the poller's next step rather than at its next due time."""
        if device_id not in {p.sensor.device_id for p in self._polled}:
            raise ValueError(f"no device {device_id!r} on {self.port}")
        with self._lock:
            self._soon.add(device_id)
        self._wakeup.set()

    @property
    def running(self) -> bool:
        """Its thread is alive (it never ends on an error, only on ``stop``)."""
        return self._thread is not None and self._thread.is_alive()

    def health(self) -> list[DeviceHealth]:
        connected = self._port.is_open
        port_errors = self._port.errors
        with self._lock:
            return [self._health(p, connected, port_errors) for p in self._polled]

    def _health(self, p: _Polled, connected: bool, port_errors: int) -> DeviceHealth:
        state: Literal["ok", "degraded", "disconnected"]
        if not connected:
            state = "disconnected"
        elif p.failures_in_a_row >= p.options.degraded_after:
            state = "degraded"
        else:
            state = "ok"
        return DeviceHealth(
            id=p.sensor.device_id,
            kind=p.sensor.kind,
            state=state,
            frames_ok=p.frames_ok,
            frame_errors=p.frame_errors,
            port_errors=port_errors,
            timeouts=p.timeouts,
            last_frame_at=p.last_frame_at,
        )

    # the poller thread -------------------------------------------------------------------------

    def _run(self) -> None:
        log.info("polling %d Modbus device(s) on %s", len(self._polled), self.port)
        try:
            while not self._stop.is_set():
                try:
                    self._step()
                except Exception:
                    # Never lose the poller thread; pause so a persistent fault cannot spin.
                    log.exception("poller of %s: unexpected error; going on", self.port)
                    self._stop.wait(1.0)
        finally:
            self._port.close()
            log.info("poller of %s stopped", self.port)

    def _step(self) -> None:
        if not self._port.ensure_open(self._stop):
            return
        with self._lock:
            soon, self._soon = self._soon, set()
        now = time.monotonic()
        for p in self._polled:
            if p.sensor.device_id in soon:
                p.next_due = now
        due = [p for p in self._polled if p.next_due <= now]
        if not due:
            self._wakeup.wait(min(p.next_due for p in self._polled) - now)
            self._wakeup.clear()
            return
        for p in due:
            if self._stop.is_set() or not self._port.is_open:
                return
            self._poll(p)
            p.next_due += p.options.poll_interval_s
            if p.next_due <= time.monotonic():  # fell behind (a long outage): do not catch up
                p.next_due = time.monotonic() + p.options.poll_interval_s

    def _poll(self, p: _Polled) -> None:
        data = None
        answered = False
        for _attempt in range(1 + p.options.retries):
            try:
                data = p.sensor.read(self._master, p.options.timeout_s, self._stop)
                answered = True
                break
            except NoResponseError:
                self._failed(p, timeout=True, why="no answer")
            except FrameError as exc:
                self._failed(p, timeout=False, why=str(exc))
            except RefusedError as exc:
                # A refusal will not change on a retry: a wrong unit_id or bays in the config.
                self._failed(p, timeout=False, why=str(exc))
                log.warning("%s (unit %d) refused: %s", p.sensor.device_id, p.sensor.unit_id, exc)
                break
            except PortError:
                return  # counted by the port, shown as disconnected
        if not answered:
            return
        wall = datetime.now(UTC)
        with self._lock:
            recovered = p.failures_in_a_row >= p.options.degraded_after
            p.frames_ok += 1
            p.failures_in_a_row = 0
            p.last_frame_at = wall
        if recovered:
            log.info("%s answers again", p.sensor.device_id)
        kind = p.sensor.event_kind
        if data is None or kind is None:
            return  # a device with nothing to publish (the sign)
        now = time.monotonic()
        if data == p.last_data and now - p.last_handed_over < p.options.keepalive_s:
            return
        try:
            self._on_reading(Reading(p.sensor.device_id, kind, data, wall))
        except Exception:
            log.exception("%s: on_reading failed; offering it again next poll", p.sensor.device_id)
            return
        p.last_data, p.last_handed_over = data, now

    def _failed(self, p: _Polled, *, timeout: bool, why: str) -> None:
        with self._lock:
            if timeout:
                p.timeouts += 1
            else:
                p.frame_errors += 1
            p.failures_in_a_row += 1
            degraded_now = p.failures_in_a_row == p.options.degraded_after
        log.debug("%s (unit %d): %s", p.sensor.device_id, p.sensor.unit_id, why)
        if degraded_now:
            log.warning(
                "%s (unit %d on %s) degraded: %d failed requests in a row, last: %s",
                p.sensor.device_id,
                p.sensor.unit_id,
                self.port,
                p.failures_in_a_row,
                why,
            )
