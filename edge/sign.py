"""A venue's sign at the gate, on the venue's RS-485 line: the alert lamp and the figures it shows.

Register map (docs/devices.md): coil 0 is the alert lamp; holding registers 0 and 1 are the
occupancy and the capacity shown. The sign is a device of its line's poller like the sensors, so
every request to it goes through the one thread that owns the line. At each poll the sign is read
back and, when it does not show what it should (a new alert, or a power loss that blanked it),
written: figures first, then the lamp, so the lamp never lights over stale figures. A write that
fails is retried like a failed read, and counts toward ``degraded`` the same way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from edge.modbus_master import RtuMaster
from mqtt_contract.models import CapacityAlert, DeviceKind
from mqtt_contract.topics import EventKind

log = logging.getLogger(__name__)

COIL_LAMP = 0
REG_FIGURES = 0
"""Occupancy, then capacity."""
MAX_FIGURE = 0xFFFF
"""What a 16-bit register holds; a larger figure is shown as this."""


def bounded(figure: int) -> int:
    return min(max(figure, 0), MAX_FIGURE)


@dataclass(frozen=True, slots=True)
class SignShows:
    """What the sign shows: the lamp, and the figures (each bounded to a register's range)."""

    lamp: bool
    occupancy: int
    capacity: int

    def __post_init__(self) -> None:
        if not (0 <= self.occupancy <= MAX_FIGURE and 0 <= self.capacity <= MAX_FIGURE):
            raise ValueError(f"figures must be 0..{MAX_FIGURE}: use SignShows.of_figures")

    @classmethod
    def of_figures(cls, lamp: bool, occupancy: int, capacity: int) -> SignShows:
        return cls(lamp, bounded(occupancy), bounded(capacity))

    @classmethod
    def of_alert(cls, alert: CapacityAlert) -> SignShows:
        """Raised: lamp on with the figures; cleared: lamp off, the figures at the clear."""
        return cls.of_figures(alert.state == "raised", alert.occupancy, alert.capacity)

    def describe(self) -> str:
        lamp = "lamp on" if self.lamp else "lamp off"
        return f"{lamp}, {self.occupancy} of {self.capacity}"


class VenueSign:
    """``show`` from any thread; ``read`` (the poll) on the line's poller thread."""

    kind: DeviceKind = "sign"
    event_kind: EventKind | None = None
    """A sign publishes no readings: only its health, in the heartbeat."""

    def __init__(self, device_id: str, unit_id: int) -> None:
        self.device_id, self.unit_id = device_id, unit_id
        self._changed = threading.Condition()
        self._wanted: SignShows | None = None
        self._shown: SignShows | None = None

    def show(self, shows: SignShows) -> None:
        """Ask for ``shows``; the next poll of the line writes it."""
        with self._changed:
            self._wanted = shows

    def shown(self) -> SignShows | None:
        """What the sign last confirmed showing (None before the first good poll)."""
        with self._changed:
            return self._shown

    def wanted(self) -> SignShows | None:
        with self._changed:
            return self._wanted

    def wait_shown(self, timeout_s: float) -> bool:
        """Whether the sign confirms what was last asked within ``timeout_s``."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._wanted is not None and self._shown == self._wanted, timeout_s
            )

    def read(self, master: RtuMaster, timeout_s: float, stop: threading.Event) -> None:
        """Read the sign back and write what differs from what it should show."""
        (lamp,) = master.read_coils(self.unit_id, COIL_LAMP, 1, timeout_s, stop)
        occupancy, capacity = master.read_holding_registers(
            self.unit_id, REG_FIGURES, 2, timeout_s, stop
        )
        now = SignShows(lamp, occupancy, capacity)
        wanted = self.wanted()
        if wanted is not None and now != wanted:
            if (now.occupancy, now.capacity) != (wanted.occupancy, wanted.capacity):
                master.write_registers(
                    self.unit_id, REG_FIGURES, [wanted.occupancy, wanted.capacity], timeout_s, stop
                )
                now = SignShows(now.lamp, wanted.occupancy, wanted.capacity)
            if now.lamp != wanted.lamp:
                master.write_coil(self.unit_id, COIL_LAMP, wanted.lamp, timeout_s, stop)
            now = wanted
            log.info("%s (unit %d) now shows: %s", self.device_id, self.unit_id, now.describe())
        with self._changed:
            self._shown = now
            self._changed.notify_all()


@dataclass(frozen=True, slots=True)
class AlertShown:
    """What became of an alert at a site: the signs told (none: the site has no sign), and
    whether all of them confirmed it in the time the caller waited."""

    signs: tuple[str, ...]
    shown: bool


def alert_from_args(site: str, args: Mapping[str, object], now: datetime) -> CapacityAlert:
    """The ``alert`` command's ``args`` (``state``, ``occupancy``, ``capacity``; ``venue``,
    ``threshold_pct`` and ``at`` optional) as the alert ``show_alert`` takes. Raises
    ``ValueError`` (a pydantic ``ValidationError``) naming what is wrong; the site is always
    this one, whatever the args say."""
    defaults: dict[str, object] = {"venue": site, "threshold_pct": 100.0, "at": now}
    return CapacityAlert.model_validate({**defaults, **args, "site": site})
