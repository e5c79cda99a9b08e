"""A USB serial adapter's identity (vendor, product, serial), given by the technician or read
from udev, checked before it goes into a udev rule.

Every value ends up between double quotes in a rules file, where a quote or a newline would end
the rule and ``* ? [ |`` are glob patterns that would match other adapters; so each is held to
what USB ids and serial numbers are: 4 hex digits, and a short run of letters, digits, ``. _ + -``.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

HEX4 = re.compile(r"[0-9a-fA-F]{4}")
SERIAL = re.compile(r"[A-Za-z0-9._+-]{1,64}")
DEVICE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
"""The contract's device id, whole (it names a file: ``/dev/community/<id>``)."""
UDEVADM_TIMEOUT_S = 10.0


class UsbIdentityError(ValueError):
    """A USB identity that cannot be used; the message says which part and why."""


@dataclass(frozen=True, slots=True)
class UsbIdentity:
    vendor: str
    product: str
    serial: str | None = None

    def __str__(self) -> str:
        return f"{self.vendor}:{self.product}" + (f":{self.serial}" if self.serial else "")


def identity(vendor: str, product: str, serial: str | None) -> UsbIdentity:
    for name, value in (("vendor", vendor), ("product", product)):
        if not HEX4.fullmatch(value):
            raise UsbIdentityError(f"USB {name} id {value!r} is not 4 hex digits (e.g. 0403)")
    if serial is not None and not SERIAL.fullmatch(serial):
        raise UsbIdentityError(
            f"USB serial {serial[:80]!r}: only letters, digits and . _ + - (1 to 64 of them); "
            "it goes into a udev rule, where quotes, spaces and * ? [ | mean something else"
        )
    return UsbIdentity(vendor.lower(), product.lower(), serial)


def parse_usb_option(text: str) -> tuple[str, UsbIdentity]:
    """``DEVICE_ID=VID:PID[:SERIAL]`` (``--usb``) as the device id and the adapter's identity."""
    device, sep, spec = text.partition("=")
    if not sep:
        raise UsbIdentityError(f"--usb {text[:80]!r}: expected DEVICE_ID=VID:PID:SERIAL")
    if not DEVICE_ID.fullmatch(device):
        raise UsbIdentityError(f"--usb: {device[:80]!r} is not a device id (a-z 0-9 - _)")
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise UsbIdentityError(
            f"--usb {device}: expected VID:PID:SERIAL (e.g. 0403:6001:A10K3X9Q), got {spec[:80]!r}"
        )
    return device, identity(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


def from_udev(port: Path) -> UsbIdentity | None:
    """The identity of the USB serial adapter at ``port`` as udev knows it; ``None`` when the
    port is not on this box or is no USB device. ``UsbIdentityError`` when udev's values would
    not be safe in a rule."""
    if not port.exists():
        return None
    try:
        done = subprocess.run(
            ["udevadm", "info", "--query=property", f"--name={port}"],
            capture_output=True,
            text=True,
            timeout=UDEVADM_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    props = dict(line.partition("=")[::2] for line in done.stdout.splitlines() if "=" in line)
    if props.get("ID_BUS") != "usb" or not props.get("ID_VENDOR_ID"):
        return None
    return identity(
        props["ID_VENDOR_ID"], props.get("ID_MODEL_ID", ""), props.get("ID_SERIAL_SHORT") or None
    )
