"""A simulated RS-485 line: Modbus RTU devices served by pymodbus behind a fault-injecting bridge.

pymodbus's serial server opens its port by path, so the line is two pty pairs::

    edge (pyserial) ─ outer slave ═ outer master ─┐ bridge ┌─ inner master ═ inner slave ─ pymodbus
      opens the stable symlink (PtyPort)          └────────┘   server (opens the pty by path)

The bridge copies bytes both ways on the simulator's event loop, and is where faults happen: a
request to a unit that is silenced, powered off or not on the line is dropped (nobody answers on a
real bus), and a response can have a bit flipped (the edge sees a CRC error). A request is taken to
be the bytes of one read: the edge writes each request whole, and RTU frames are separated by
silence on a real line too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
import tty
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer
from pymodbus.simulator import SimDevice

from firmware_sim.closing import Closing
from firmware_sim.pty_port import PtyPort
from firmware_sim.sim_loop import SimLoop

log = logging.getLogger(__name__)


class SimModbusDevice(Protocol):
    unit_id: int

    @property
    def powered(self) -> bool: ...

    def sim_device(self) -> SimDevice: ...


@dataclass(frozen=True)
class LineStats:
    """What crossed the bridge, for tests to compare with what the edge counted."""

    requests: int = 0
    """Request frames the edge put on the line."""
    dropped: int = 0
    """Requests nobody answered: silenced, powered off or unknown unit."""
    responses: int = 0
    """Responses the devices sent back."""
    corrupted: int = 0
    """Responses that reached the edge with a flipped bit (a CRC error there)."""


class ModbusLine(Closing):
    """One line behind the stable path ``link``; its methods may be called from any thread."""

    def __init__(
        self,
        loop: SimLoop,
        link: Path,
        devices: Sequence[SimModbusDevice],
        *,
        baudrate: int = 9600,
        seed: int | None = None,
    ) -> None:
        units = [d.unit_id for d in devices]
        if not units or len(units) != len(set(units)):
            raise ValueError(f"a line needs devices with distinct unit ids, got {units}")
        self._loop = loop
        self._devices = {d.unit_id: d for d in devices}
        self._baudrate = baudrate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stats = LineStats()
        self._silent_units: set[int] = set()
        self._line_silent = False
        self._corrupt_next = 0
        self._crc_error_rate = 0.0
        self._server: ModbusSerialServer | None = None
        self._watched_fd: int | None = None
        self._port = PtyPort(link)
        self._inner_master, self._inner_slave = os.openpty()
        self._fds_closed = False
        tty.setraw(self._inner_slave)
        os.set_blocking(self._inner_master, False)
        try:
            loop.run(self._start())
        except BaseException:
            self._close_fds()
            raise

    @property
    def link(self) -> Path:
        return self._port.link

    @property
    def device(self) -> str | None:
        """The /dev/pts/N behind the link now (None while unplugged)."""
        return self._port.device

    @property
    def units(self) -> list[int]:
        return sorted(self._devices)

    def stats(self) -> LineStats:
        with self._lock:
            return self._stats

    # faults ------------------------------------------------------------------------------------

    def silence(self, unit_id: int | None = None) -> None:
        """Stop answering: one unit, or (``None``) the whole line, as a cut A/B pair would."""
        with self._lock:
            if unit_id is None:
                self._line_silent = True
            else:
                self._check_unit(unit_id)
                self._silent_units.add(unit_id)

    def speak(self, unit_id: int | None = None) -> None:
        """Undo :meth:`silence` for one unit, or for the line and every unit."""
        with self._lock:
            if unit_id is None:
                self._line_silent = False
                self._silent_units.clear()
            else:
                self._silent_units.discard(unit_id)

    def corrupt_next(self, responses: int = 1) -> None:
        """Flip a bit in each of the next ``responses`` responses (CRC errors at the edge)."""
        if responses < 0:
            raise ValueError("responses must be >= 0")
        with self._lock:
            self._corrupt_next += responses

    @property
    def crc_error_rate(self) -> float:
        return self._crc_error_rate

    @crc_error_rate.setter
    def crc_error_rate(self, rate: float) -> None:
        """Chance that any one response is corrupted: a noisy line."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("crc_error_rate must be between 0 and 1")
        with self._lock:
            self._crc_error_rate = rate

    def unplug(self) -> None:
        """Pull the cable: the stable path disappears and the edge's open port fails."""
        self._loop.run(self._unplug())

    def replug(self) -> None:
        self._loop.run(self._replug())

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._loop.run(self._stop())
        self._close_fds()

    # on the loop -------------------------------------------------------------------------------

    async def _start(self) -> None:
        server = ModbusSerialServer(
            [d.sim_device() for d in self._devices.values()],
            framer=FramerType.RTU,
            port=os.ttyname(self._inner_slave),
            baudrate=self._baudrate,
        )
        await server.serve_forever(background=True)
        self._server = server
        self._loop.loop.add_reader(self._inner_master, self._from_devices)
        self._watch_outer()

    async def _stop(self) -> None:
        self._unwatch_outer()
        if self._server is not None:
            self._loop.loop.remove_reader(self._inner_master)
            await self._server.shutdown()  # type: ignore[no-untyped-call]
            self._server = None
        self._port.close()

    async def _unplug(self) -> None:
        self._unwatch_outer()
        self._port.unplug()

    async def _replug(self) -> None:
        self._port.replug()
        self._watch_outer()

    def _watch_outer(self) -> None:
        fd = self._port.fileno()
        if fd is not None and self._watched_fd is None:
            self._loop.loop.add_reader(fd, self._from_edge)
            self._watched_fd = fd

    def _unwatch_outer(self) -> None:
        if self._watched_fd is not None:
            self._loop.loop.remove_reader(self._watched_fd)
            self._watched_fd = None

    def _from_edge(self) -> None:
        request = self._port.read(0)
        if not request:
            return
        unit = request[0]
        with self._lock:
            device = self._devices.get(unit)
            drop = (
                device is None
                or not device.powered
                or self._line_silent
                or unit in self._silent_units
            )
            s = self._stats
            self._stats = replace(s, requests=s.requests + 1, dropped=s.dropped + drop)
        if drop:
            log.debug("line %s: request to unit %d dropped", self.link, unit)
            return
        try:
            os.write(self._inner_master, request)
        except OSError as exc:
            log.warning("line %s: could not pass a request to the devices: %s", self.link, exc)

    def _from_devices(self) -> None:
        try:
            response = os.read(self._inner_master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.warning("line %s: device side failed: %s", self.link, exc)
            return
        with self._lock:
            corrupt = self._corrupt_next > 0 or (
                self._crc_error_rate > 0 and self._rng.random() < self._crc_error_rate
            )
            if corrupt and self._corrupt_next > 0:
                self._corrupt_next -= 1
            s = self._stats
            self._stats = replace(s, responses=s.responses + 1, corrupted=s.corrupted + corrupt)
        if corrupt:
            response = _flip_a_bit(response)
        self._port.write(response)

    def _check_unit(self, unit_id: int) -> None:
        if unit_id not in self._devices:
            raise ValueError(f"no unit {unit_id} on this line (units {self.units})")

    def _close_fds(self) -> None:
        if self._fds_closed:
            return
        self._fds_closed = True
        for fd in (self._inner_master, self._inner_slave):
            with contextlib.suppress(OSError):
                os.close(fd)


def _flip_a_bit(frame: bytes) -> bytes:
    """One bit wrong in the middle of the frame: what a burst of noise on the pair does."""
    if not frame:
        return frame
    i = len(frame) // 2
    return frame[:i] + bytes([frame[i] ^ 0x10]) + frame[i + 1 :]
