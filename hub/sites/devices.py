"""A site's devices as ``community site add --device`` takes them, checked before they are stored.

``ID=KIND:PORT[,KEY=VALUE...]``, for example::

    reader-1=card_reader:/dev/serial/by-id/usb-FTDI_FT232R_A1B2C3-if00-port0
    gate-1=people_counter:/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0,unit_id=1
    bays-1=bay_sensor:/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0,unit_id=2,bays=40
    sign-1=sign:/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0,unit_id=3

The keys are those of the edge config's ``[[devices]]`` (docs/edge.md). Devices on one RS-485 line
share its port and differ in ``unit_id``. A port that is not under ``/dev/serial/by-id/`` works
but is worth a warning: ``/dev/ttyUSB0`` can name another adapter after a reboot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mqtt_contract.topics import is_valid_id

STABLE_PREFIX = "/dev/serial/by-id/"
_PORT_MAX = 255
_SPEC_MAX = 1000

KINDS = ("card_reader", "people_counter", "bay_sensor", "sign")
_MODBUS: dict[str, Callable[[str], Any]] = {
    "baudrate": int,
    "unit_id": int,
    "poll_interval_s": float,
    "keepalive_s": float,
    "timeout_s": float,
    "retries": int,
    "degraded_after": int,
}
_OPTIONS: dict[str, dict[str, Callable[[str], Any]]] = {
    "card_reader": {"baudrate": int, "release_s": float},
    "people_counter": _MODBUS,
    "bay_sensor": {**_MODBUS, "bays": int},
    "sign": _MODBUS,  # the venue's sign shares the counters' line
}
_REQUIRED = {
    "card_reader": (),
    "people_counter": ("unit_id",),
    "bay_sensor": ("unit_id", "bays"),
    "sign": ("unit_id",),
}
_RANGES: dict[str, tuple[float, float]] = {
    "unit_id": (1, 247),
    "bays": (1, 2000),
    "baudrate": (50, 4_000_000),
    "retries": (0, 5),
    "degraded_after": (1, 1000),
}
_SECONDS = (0.001, 86_400.0)  # every *_s option


class DeviceSpecError(ValueError):
    """A device spec or list that cannot be used; the message says which and why."""


def parse_device(spec: str) -> dict[str, Any]:
    """One ``--device`` spec as the edge config's ``[[devices]]`` entry."""
    if len(spec) > _SPEC_MAX:
        raise DeviceSpecError(f"device spec longer than {_SPEC_MAX} characters")
    device_id, eq, rest = spec.partition("=")
    kind, colon, tail = rest.partition(":")
    if not eq or not colon:
        raise DeviceSpecError(
            f"device {spec!r}: write ID=KIND:PORT[,KEY=VALUE...], e.g. "
            "reader-1=card_reader:/dev/serial/by-id/usb-..."
        )
    port, *options = tail.split(",")
    entry: dict[str, Any] = {"id": device_id.strip(), "kind": kind.strip(), "port": port.strip()}
    for option in options:
        key, eq, value = option.partition("=")
        if not eq:
            raise DeviceSpecError(f"device {device_id!r}: option {option!r} is not KEY=VALUE")
        entry[key.strip()] = value.strip()
    return check_device(entry)


def check_device(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry with known keys of the right type and range (strings are converted)."""
    device_id = str(entry.get("id", ""))
    if not is_valid_id(device_id):
        raise DeviceSpecError(f"device id {device_id!r}: use a-z, 0-9, '-' or '_' (at most 63)")
    kind = str(entry.get("kind", ""))
    if kind not in KINDS:
        raise DeviceSpecError(
            f"device {device_id!r}: kind {kind!r} is not one of {', '.join(KINDS)}"
        )
    port = str(entry.get("port", ""))
    if not port.startswith("/") or len(port) > _PORT_MAX or any(c.isspace() for c in port):
        raise DeviceSpecError(
            f"device {device_id!r}: port {port!r} is not an absolute device path "
            f"(at most {_PORT_MAX} characters, no spaces)"
        )
    allowed = _OPTIONS[kind]
    checked: dict[str, Any] = {"id": device_id, "kind": kind, "port": port}
    for key, raw in entry.items():
        if key in checked:
            continue
        if key not in allowed:
            raise DeviceSpecError(
                f"device {device_id!r}: {kind} has no option {key!r} "
                f"(it has {', '.join(sorted(allowed))})"
            )
        if allowed[key] is int and isinstance(raw, float) and not raw.is_integer():
            raise DeviceSpecError(f"device {device_id!r}: {key} must be a whole number")
        try:
            value = allowed[key](str(raw)) if isinstance(raw, str) else allowed[key](raw)
        except (TypeError, ValueError):
            raise DeviceSpecError(
                f"device {device_id!r}: {key} must be a number, got {raw!r}"
            ) from None
        low, high = _RANGES.get(key, _SECONDS)
        if not low <= value <= high:  # NaN fails too
            raise DeviceSpecError(f"device {device_id!r}: {key} {raw!r} is out of range")
        checked[key] = value
    missing = [key for key in _REQUIRED[kind] if key not in checked]
    if missing:
        raise DeviceSpecError(f"device {device_id!r}: a {kind} needs {', '.join(missing)}")
    return checked


def check_devices(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every entry checked, ids unique, a card reader alone on its port, one line's devices on
    one baud rate with distinct unit ids (as the edge checks its config)."""
    devices = [check_device(entry) for entry in entries]
    ids = [d["id"] for d in devices]
    if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
        raise DeviceSpecError(f"device ids must be unique: {', '.join(duplicates)} repeated")
    by_port: dict[str, list[dict[str, Any]]] = {}
    for device in devices:
        by_port.setdefault(device["port"], []).append(device)
    for port, group in by_port.items():
        if len(group) < 2:
            continue
        if any(d["kind"] == "card_reader" for d in group):
            raise DeviceSpecError(f"port {port}: a card reader cannot share its port")
        if len({d.get("baudrate", 9600) for d in group}) > 1:
            raise DeviceSpecError(f"port {port}: devices on one line need the same baudrate")
        units = [d["unit_id"] for d in group]
        if len(units) != len(set(units)):
            raise DeviceSpecError(f"port {port}: unit ids on one line must differ, got {units}")
    return devices


def port_warnings(devices: Iterable[Mapping[str, Any]]) -> list[str]:
    """One line per port that may not name the same adapter after a reboot."""
    ports = dict.fromkeys(str(d["port"]) for d in devices)
    return [
        f"port {port} is not a stable {STABLE_PREFIX} path: after a reboot or a re-plug it may "
        "name another adapter (ls -l /dev/serial/by-id/ at the site shows the stable names)"
        for port in ports
        if not port.startswith(STABLE_PREFIX)
    ]
