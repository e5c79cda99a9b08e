"""``community edge install BUNDLE``: make this box run its site's edge agent as a service.

From the site's bundle (``edge.toml``, ``ca.crt``; docs/sites.md) it writes:

- ``/etc/community-edge/edge.toml`` and ``ca.crt`` (0600, root's; systemd hands the service its
  own copy), with the outbox in ``/var/lib/community-edge`` and each device's port at its stable
  name, ``/dev/community/<device-id>``;
- the systemd unit (``Type=notify``, watchdog, hardening) and the service user (sysusers.d);
- the udev rules that give each serial adapter that stable name, by USB vendor, product and
  serial (``--usb DEVICE_ID=VID:PID:SERIAL``, or read with ``udevadm`` from the bundle's port when
  the adapter is plugged in).

Everything goes under ``--root`` (default ``/``, which needs root); it then prints what to run.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from edge import box_files
from edge.box_files import CONFIG_DIR, STATE_DIR, Link
from edge.config import ConfigError, load_settings
from edge.private_files import make_private_dir, write_private
from edge.usb_identity import UsbIdentity, UsbIdentityError, from_udev

CONFIG_FILE = "edge.toml"
CA_FILE = "ca.crt"
MAX_CONFIG_BYTES = 1_000_000
EXECUTABLE = re.compile(r"/[A-Za-z0-9/._+-]{1,254}")
HIDDEN_FROM_THE_SERVICE = ("/home", "/root", "/run/user", "/tmp", "/var/tmp")  # noqa: S108
"""``ProtectHome=`` and ``PrivateTmp=`` hide these: an agent installed there could not start."""


class InstallError(Exception):
    """The box cannot be set up as asked; the message says why and what to do."""


@dataclass
class Plan:
    """What the install writes, before anything is written."""

    site: str
    config: str
    ca: str | None
    links: list[Link]
    unmapped: dict[str, list[str]] = field(default_factory=dict)  # port -> its devices
    warnings: list[str] = field(default_factory=list)

    def files(self, executable: str) -> dict[PurePosixPath, tuple[str, int]]:
        """Path on the box -> (text, mode)."""
        files = {
            CONFIG_DIR / CONFIG_FILE: (self.config, 0o600),
            box_files.UNIT_PATH: (box_files.unit(executable, with_ca=self.ca is not None), 0o644),
            box_files.SYSUSERS_PATH: (box_files.sysusers(), 0o644),
            box_files.RULES_PATH: (box_files.udev_rules(self.links), 0o644),
        }
        if self.ca is not None:
            files[CONFIG_DIR / CA_FILE] = (self.ca, 0o600)
        return files


def read_bundle(bundle: Path) -> tuple[dict[str, Any], str | None]:
    """The bundle's ``edge.toml`` (as data) and ``ca.crt`` (as text, when there is one)."""
    if not bundle.is_dir():
        raise InstallError(
            f"{bundle}: no such bundle directory (make one at the hub: "
            "`community site bundle SITE --out DIR`, then copy DIR here)"
        )
    config = bundle / CONFIG_FILE
    if not config.is_file():
        raise InstallError(f"{bundle} is not a site bundle: it has no {CONFIG_FILE}")
    if config.stat().st_size > MAX_CONFIG_BYTES:
        raise InstallError(f"{config} is larger than an edge config can be")
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InstallError(f"{config}: not valid TOML: {exc}") from None
    ca_path = bundle / CA_FILE
    ca = ca_path.read_text(encoding="ascii") if ca_path.is_file() else None
    mqtt = data.get("mqtt")
    if not (isinstance(mqtt, dict) and "ca_file" in mqtt):
        ca = None  # a CA the config does not name is not used
    elif ca is None:
        raise InstallError(
            f"{config} names a CA file ({mqtt['ca_file']}) but the bundle has no {CA_FILE}"
        )
    else:
        mqtt["ca_file"] = CA_FILE  # beside the config, wherever systemd puts the service's copy
    data["outbox_path"] = str(STATE_DIR / "outbox.db")
    return data, ca


def _lines(devices: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Port -> the ids of the devices on it (an RS-485 line holds several): one adapter each."""
    lines: dict[str, list[str]] = {}
    for device in devices:
        lines.setdefault(str(device.get("port", "")), []).append(str(device.get("id", "")))
    return lines


def map_ports(
    data: dict[str, Any],
    usb: Mapping[str, UsbIdentity],
    plan: Plan,
    kept: Mapping[str, UsbIdentity],
) -> None:
    """Each adapter (one port of the bundle) gets its identity from ``--usb``, else from udev
    when it is plugged in at that port, else from the rule installed before under its name
    (``kept``: a new bundle, or a reader replaced, leaves the other adapters' rules as they
    were); its devices' ports become ``/dev/community/<first device id>``."""
    devices = data.get("devices")
    if not isinstance(devices, list) or not all(isinstance(d, dict) for d in devices):
        raise InstallError(f"{CONFIG_FILE}: devices must be a list of [[devices]] tables")
    lines = _lines(devices)
    known = [d for ids in lines.values() for d in ids]
    unknown = sorted(set(usb) - set(known))
    if unknown:
        raise InstallError(
            f"--usb {', '.join(unknown)}: no such device in the bundle (it has {', '.join(known)})"
        )
    new_port: dict[str, str] = {}
    seen: list[Link] = []
    for port, ids in lines.items():
        given = {d: usb[d] for d in ids if d in usb}
        if len(given) > 1:
            raise InstallError(
                f"{' and '.join(given)} share one line ({port}), so one adapter: give --usb once"
            )
        try:
            found = (
                next(iter(given.values()), None)
                or from_udev(Path(port))
                or next((kept[d] for d in ids if d in kept), None)
            )
        except UsbIdentityError as exc:
            raise InstallError(f"the adapter at {port} ({', '.join(ids)}): {exc}") from None
        if found is None:
            plan.unmapped[port] = ids
            continue
        link = Link(ids[0], found, tuple(ids))
        clash = next((other for other in seen if _ambiguous(other.usb, found)), None)
        if clash is not None:
            raise InstallError(
                f"{', '.join(clash.devices)} and {', '.join(ids)} would match one adapter "
                f"({found}): give each adapter's own serial (`udevadm info {port}` shows "
                "ID_SERIAL_SHORT); two adapters without one cannot be told apart"
            )
        seen.append(link)
        if found.serial is None:
            plan.warnings.append(
                f"{link.name}: the adapter {found} has no serial number, so any adapter of that "
                "model takes the name; keep only one of them on this box"
            )
        plan.links.append(link)
        for device_id in ids:
            new_port[device_id] = link.path
    for device in devices:
        device["port"] = new_port.get(str(device.get("id")), device.get("port"))
    for port, ids in plan.unmapped.items():
        plan.warnings.append(
            f"{', '.join(ids)}: no USB identity given, and {port} is no USB adapter plugged "
            f"into this box: the port stays {port} (give --usb {ids[0]}=VID:PID:SERIAL for a "
            "stable name)"
        )


def _ambiguous(a: UsbIdentity, b: UsbIdentity) -> bool:
    """One rule would match the other's adapter: the same model, and no serial tells them apart."""
    same_model = (a.vendor, a.product) == (b.vendor, b.product)
    return same_model and (a.serial is None or b.serial is None or a.serial == b.serial)


def make_plan(
    bundle: Path, usb: Mapping[str, UsbIdentity], kept: Mapping[str, UsbIdentity] | None = None
) -> Plan:
    data, ca = read_bundle(bundle)
    plan = Plan(site=str(data.get("site", "")), config="", ca=ca, links=[])
    map_ports(data, usb, plan, kept or {})
    header = (
        f"Edge config of site {plan.site}, installed by `community edge install` from "
        f"{bundle.absolute()}.\nIt holds the site's broker password: root's, 0600; systemd hands "
        "the service a copy.\nInstall a new bundle rather than editing this file."
    )
    try:
        plan.config = box_files.edge_toml(data, header)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise InstallError(f"{bundle / CONFIG_FILE}: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="community-edge-install-") as staging:
        check = Path(staging) / CONFIG_FILE
        write_private(check, plan.config)
        if ca is not None:
            write_private(Path(staging) / CA_FILE, ca)
        try:
            load_settings(check)  # as the service will read it: refused now, not at boot
        except ConfigError as exc:
            raise InstallError(str(exc).replace(str(check), str(bundle / CONFIG_FILE))) from None
    return plan


def check_executable(executable: str, root: Path) -> str:
    if not EXECUTABLE.fullmatch(executable) or "/../" in executable:
        raise InstallError(
            f"--exec {executable[:80]!r}: an absolute path of letters, digits and / . _ + -"
        )
    hidden = [d for d in HIDDEN_FROM_THE_SERVICE if executable.startswith(d + "/")]
    if hidden:
        raise InstallError(
            f"{executable} is under {hidden[0]}, which the service cannot see: install the edge "
            "in its own environment, e.g. python3 -m venv /opt/community-edge && "
            "/opt/community-edge/bin/pip install 'yuanping-community[edge]'"
        )
    here = root / executable.lstrip("/")
    if not (os.access(executable, os.X_OK) or os.access(here, os.X_OK)):
        raise InstallError(f"{executable} is not an executable file (give --exec PATH)")
    return executable


def default_executable() -> str:
    """The ``community`` beside this Python (the environment the edge was installed into)."""
    beside = Path(sys.executable).parent / "community"
    found = str(beside) if beside.is_file() else shutil.which("community")
    if found is None:
        raise InstallError("cannot find the `community` command: give --exec PATH")
    return str(Path(found).absolute())


def installed_site(root: Path) -> str | None:
    path = root / str(CONFIG_DIR / CONFIG_FILE).lstrip("/")
    try:
        site = tomllib.loads(path.read_text(encoding="utf-8")).get("site")
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    return str(site) if site is not None else None


def write(plan: Plan, executable: str, root: Path) -> list[Path]:
    """Write the plan's files under ``root``; the config directory 0700, its files 0600."""
    written = []
    config_dir = root / str(CONFIG_DIR).lstrip("/")
    make_private_dir(config_dir)
    config_dir.chmod(0o700)  # ours: narrowed even when it was there before
    for target, (text, mode) in plan.files(executable).items():
        path = root / str(target).lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        write_private(path, text)
        path.chmod(mode)
        written.append(path)
    if plan.ca is None:  # a stale CA from an earlier bundle would mislead
        (config_dir / CA_FILE).unlink(missing_ok=True)
    return written


def install(
    bundle: Path, usb: Mapping[str, UsbIdentity], root: Path, executable: str
) -> tuple[Plan, list[Path]]:
    """Check everything, then write the box's files under ``root``."""
    if not root.is_dir():
        raise InstallError(f"--root {root}: no such directory")
    executable = check_executable(executable, root)
    rules = root / str(box_files.RULES_PATH).lstrip("/")
    try:
        kept = box_files.installed_links(rules.read_text(encoding="utf-8"))
    except FileNotFoundError:
        kept = {}
    plan = make_plan(bundle, usb, kept)
    installed = installed_site(root)
    if installed is not None and installed != plan.site:
        raise InstallError(
            f"this box runs site {installed}, not {plan.site}: stop it and remove "
            f"{CONFIG_DIR / CONFIG_FILE} first to make it another site's box"
        )
    return plan, write(plan, executable, root)
