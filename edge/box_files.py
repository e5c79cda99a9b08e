"""The files that make a box run its site's edge as a service: the systemd unit, the service
user (sysusers.d), the udev rules that name its serial adapters, and the installed ``edge.toml``.

Pure text, no I/O: ``edge.install`` decides what goes in and where it is written.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from edge.usb_identity import UsbIdentity, UsbIdentityError, identity

SERVICE = "community-edge"
USER = "community-edge"
CONFIG_DIR = PurePosixPath("/etc/community-edge")
STATE_DIR = PurePosixPath("/var/lib/community-edge")
UNIT_PATH = PurePosixPath(f"/etc/systemd/system/{SERVICE}.service")
RULES_PATH = PurePosixPath(f"/etc/udev/rules.d/70-{SERVICE}.rules")
SYSUSERS_PATH = PurePosixPath(f"/etc/sysusers.d/{SERVICE}.conf")
LINK_DIR = PurePosixPath("/dev/community")
"""``/dev/community/<device-id>``: each adapter's stable name, made by the udev rules."""
WATCHDOG_S = 60
"""systemd kills and restarts an agent that has not said it is healthy for this long."""


def unit(executable: str, *, with_ca: bool) -> str:
    """The service: its own user in ``dialout``, the config handed over by systemd
    (``LoadCredential``: the root-owned 0600 files are copied where only the service reads
    them), state in ``/var/lib/community-edge``, everything else read-only or hidden."""
    credentials = [f"LoadCredential=edge.toml:{CONFIG_DIR}/edge.toml"]
    if with_ca:
        credentials.append(f"LoadCredential=ca.crt:{CONFIG_DIR}/ca.crt")
    return "\n".join(
        [
            "# Written by `community edge install` (docs/edge.md); run it again rather than",
            "# editing this file.",
            "[Unit]",
            "Description=Community edge agent (card readers and venue sensors to the hub)",
            "Wants=network-online.target",
            "After=network-online.target",
            # a box far away keeps trying (a broken USB hub, a full disk): never given up on
            "StartLimitIntervalSec=0",
            "",
            "[Service]",
            "Type=notify",
            "NotifyAccess=main",
            f"WatchdogSec={WATCHDOG_S}s",
            "Restart=always",
            "RestartSec=10s",
            f"ExecStart={executable} edge --config ${{CREDENTIALS_DIRECTORY}}/edge.toml",
            *credentials,
            f"User={USER}",
            f"Group={USER}",
            "SupplementaryGroups=dialout",
            f"StateDirectory={STATE_DIR.name}",
            "StateDirectoryMode=0700",
            f"ReadWritePaths={STATE_DIR}",
            "UMask=0077",
            # the card readers and RS-485 adapters (USB serial, and the box's own UARTs)
            "DevicePolicy=closed",
            "DeviceAllow=char-ttyUSB rw",
            "DeviceAllow=char-ttyACM rw",
            "DeviceAllow=char-ttyS rw",
            "DeviceAllow=char-ttyAMA rw",  # a Raspberry Pi's UART
            "ProtectSystem=strict",
            "ProtectHome=yes",
            "PrivateTmp=yes",
            "PrivateMounts=yes",
            "NoNewPrivileges=yes",
            "CapabilityBoundingSet=",
            "AmbientCapabilities=",
            "ProtectKernelTunables=yes",
            "ProtectKernelModules=yes",
            "ProtectKernelLogs=yes",
            "ProtectControlGroups=yes",
            "ProtectClock=yes",
            "ProtectHostname=yes",
            "ProtectProc=invisible",
            "ProcSubset=pid",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
            "RestrictNamespaces=yes",
            "RestrictRealtime=yes",
            "RestrictSUIDSGID=yes",
            "LockPersonality=yes",
            "RemoveIPC=yes",
            "KeyringMode=private",
            "SystemCallArchitectures=native",
            "SystemCallFilter=@system-service",
            "SystemCallFilter=~@privileged @resources",
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ]
    )


def sysusers() -> str:
    """The service's own system user, a member of ``dialout`` (``systemd-sysusers`` makes it)."""
    return (
        "# Written by `community edge install`: the edge agent's own user.\n"
        f'u {USER} - "Community edge agent" {STATE_DIR} -\n'
        f"m {USER} dialout\n"
    )


@dataclass(frozen=True, slots=True)
class Link:
    """One serial adapter's stable name: ``/dev/community/<name>`` for the adapter ``usb``."""

    name: str
    usb: UsbIdentity
    devices: tuple[str, ...]

    @property
    def path(self) -> str:
        return str(LINK_DIR / self.name)


def udev_rules(links: Sequence[Link]) -> str:
    """One rule per adapter. Every value was checked where it entered (``edge.usb_identity``,
    device ids): none holds a quote, a newline or a glob character."""
    lines = [
        "# Written by `community edge install`: each serial adapter of the edge under",
        f"# {LINK_DIR}/<device-id>, whichever USB socket it is in. Reload with",
        "# `udevadm control --reload && udevadm trigger --subsystem-match=tty --action=add`.",
    ]
    for link in links:
        match = [
            'SUBSYSTEM=="tty"',
            f'ATTRS{{idVendor}}=="{link.usb.vendor}"',
            f'ATTRS{{idProduct}}=="{link.usb.product}"',
        ]
        if link.usb.serial is not None:
            match.append(f'ATTRS{{serial}}=="{link.usb.serial}"')
        lines += [
            f"# {', '.join(link.devices)}",
            ", ".join(
                [
                    *match,
                    f'SYMLINK+="{LINK_DIR.name}/{link.name}"',
                    'GROUP="dialout"',
                    'MODE="0660"',
                ]
            ),
        ]
    return "\n".join(lines) + "\n"


_RULE = re.compile(
    r'SUBSYSTEM=="tty", ATTRS\{idVendor\}=="([^"]*)", ATTRS\{idProduct\}=="([^"]*)"'
    r'(?:, ATTRS\{serial\}=="([^"]*)")?, SYMLINK\+="community/([a-z0-9][a-z0-9_-]{0,62})"'
)


def installed_links(rules: str) -> dict[str, UsbIdentity]:
    """Name -> identity of the rules ``udev_rules`` wrote; a line it did not write (or one
    edited into something unsafe) is left out."""
    links: dict[str, UsbIdentity] = {}
    for line in rules.splitlines():
        match = _RULE.match(line)
        if match is None:
            continue
        vendor, product, serial, name = match.groups()
        try:
            links[name] = identity(vendor, product, serial)
        except UsbIdentityError:
            continue
    return links


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    raise ValueError(f"unexpected value {value!r} in edge.toml")


def edge_toml(data: Mapping[str, Any], header: str) -> str:
    """The edge config's shape (scalars, ``[mqtt]``, ``[[devices]]``) as TOML; read back and
    compared, so a value this cannot write is refused rather than changed."""
    lines = [f"# {line}" for line in header.splitlines()]
    tables = {"mqtt"}
    lines += [f"{k} = {_value(v)}" for k, v in data.items() if k not in tables | {"devices"}]
    if isinstance(data.get("mqtt"), Mapping):
        lines += ["", "[mqtt]", *(f"{k} = {_value(v)}" for k, v in data["mqtt"].items())]
    for device in data.get("devices", []):
        lines += ["", "[[devices]]", *(f"{k} = {_value(v)}" for k, v in device.items())]
    text = "\n".join(lines) + "\n"
    if tomllib.loads(text) != dict(data):
        raise ValueError("edge.toml holds something other than the edge config's keys")
    return text
