"""``community edge install BUNDLE [--usb DEVICE_ID=VID:PID:SERIAL ...] [--root DIR]``: what
``edge.install`` does, from the command line, and what to run next."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from edge import box_files
from edge.install import (
    InstallError,
    default_executable,
    install,
)
from edge.usb_identity import UsbIdentity, UsbIdentityError, parse_usb_option

NEXT_STEPS = f"""\
Next, as root on the box:
  systemd-sysusers {box_files.SYSUSERS_PATH}
  udevadm control --reload && udevadm trigger --subsystem-match=tty --action=add
  ls -l {box_files.LINK_DIR}/
  systemctl daemon-reload
  systemctl enable --now {box_files.SERVICE}.service
  systemctl status {box_files.SERVICE}
  journalctl -u {box_files.SERVICE} -f
(docs/edge.md, "Installing a box", says what each shows.)"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="community edge install",
        description="Set this box up to run its site's edge agent as a systemd service.",
    )
    parser.add_argument("bundle", type=Path, help="the site's bundle directory (edge.toml, ca.crt)")
    parser.add_argument(
        "--usb",
        action="append",
        default=[],
        metavar="DEVICE_ID=VID:PID:SERIAL",
        help="the USB identity of a device's serial adapter (`udevadm info /dev/ttyUSB0`: "
        "ID_VENDOR_ID, ID_MODEL_ID, ID_SERIAL_SHORT); one per adapter, for any device on it",
    )
    parser.add_argument(
        "--root", type=Path, default=None, help="write under this directory instead of /"
    )
    parser.add_argument(
        "--exec", dest="executable", default=None, help="the `community` command the unit runs"
    )
    args = parser.parse_args(argv)
    try:
        usb: dict[str, UsbIdentity] = {}
        for option in args.usb:
            device, found = parse_usb_option(option)
            if device in usb:
                raise InstallError(f"--usb {device} is given twice")
            usb[device] = found
        root = args.root if args.root is not None else Path("/")
        if args.root is None and os.geteuid() != 0:
            raise InstallError(
                "writing /etc/systemd, /etc/udev and /etc/community-edge needs root: run it with "
                "sudo, or give --root DIR to write the files under DIR instead"
            )
        executable = args.executable or default_executable()
        plan, written = install(args.bundle, usb, root, executable)
    except (InstallError, UsbIdentityError, OSError) as exc:
        print(f"community edge install: {exc}", file=sys.stderr)
        return 2
    for warning in plan.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"site {plan.site}: installed for {executable}")
    for path in written:
        print(f"  wrote {path}")
    for link in plan.links:
        print(f"  {link.path}: {', '.join(link.devices)} (USB {link.usb})")
    if args.root is not None:
        print(f"(under {root}: on the box these paths start at /)")
    print(NEXT_STEPS)
    return 0
