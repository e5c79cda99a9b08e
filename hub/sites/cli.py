"""``community site``: provision sites (docs/sites.md); ``community broker-config``: the broker's
accounts from the registry.

* ``add ID --kind centre|venue [--centre ID | --venue ID] [--device SPEC ...] [--bundle DIR]``
* ``list``
* ``rotate ID [--bundle DIR]``: a new password, the old one stops working at once
* ``revoke ID``: the account is deleted, its connection closed; the row stays, revoked
* ``bundle ID --out DIR [--device SPEC ...]``: the box's directory, with fresh credentials (the
  hub keeps only a hash, so a bundle always issues a new password and the old one stops working)

Every change goes to the running broker through its dynamic-security plugin as the admin account
(``HUB_BROKER_ADMIN_PASSWORD``); ``--no-broker`` changes only the registry, for a broker that is
rebuilt from it (``community broker-config``) before it next starts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hub.audit.console import console_session
from hub.broker.mosquitto_conf import dynsec_plugin
from hub.broker.tls import TLS_PORT, certificate_paths
from hub.core.card_keys import CardKeyError, card_keys
from hub.core.db import make_engine, upgrade
from hub.core.settings import HubSettings, settings_for_cli
from hub.sites.broker_config import registry_broker_config, site_acl, write_broker_dir
from hub.sites.broker_control import BrokerControlError, DynsecControl
from hub.sites.bundle import write_bundle
from hub.sites.devices import DeviceSpecError, parse_device, port_warnings
from hub.sites.models import SITE_KINDS
from hub.sites.service import (
    BrokerAccounts,
    Credentials,
    SiteError,
    active_site,
    add_site,
    list_sites,
    revoke_site,
    rotate_site,
    set_devices,
)

PROG = "community site"


def _device(text: str) -> dict[str, Any]:
    try:
        return parse_device(text)
    except DeviceSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: HUB_DATABASE_URL or sqlite:///data/hub.db")
    sub = parser.add_subparsers(dest="action", required=True)

    def changes(name: str, help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text)
        command.add_argument("site", help="the site id: its service centre's or venue's id")
        command.add_argument(
            "--no-broker",
            action="store_true",
            help="change the registry only (rebuild the broker with `community broker-config`)",
        )
        return command

    device_help = (
        "ID=KIND:PORT[,KEY=VALUE...], repeatable; KIND card_reader, people_counter (unit_id=N) "
        "or bay_sensor (unit_id=N,bays=N); PORT best under /dev/serial/by-id/"
    )
    add = changes("add", "register a site, make its broker account")
    add.add_argument("--kind", required=True, choices=SITE_KINDS)
    tied = add.add_mutually_exclusive_group()
    tied.add_argument("--centre", help="its service centre (must be the site id)")
    tied.add_argument("--venue", help="its venue (must be the site id)")
    add.add_argument("--device", type=_device, action="append", default=[], help=device_help)
    add.add_argument("--bundle", type=Path, metavar="DIR", help="write its bundle here")
    add.add_argument("--reinstate", action="store_true", help="provision a revoked site again")
    sub.add_parser("list", help="every site with its state")
    rotate = changes("rotate", "a new password; the old one stops working")
    rotate.add_argument("--bundle", type=Path, metavar="DIR", help="write its bundle here")
    changes("revoke", "delete its broker account; its connection is closed")
    bundle = changes("bundle", "write its bundle (issues new credentials)")
    bundle.add_argument("--out", type=Path, required=True, metavar="DIR")
    bundle.add_argument("--device", type=_device, action="append", default=[], help=device_help)
    for command in (add, rotate, bundle):
        command.add_argument(
            "--install-dir",
            type=Path,
            metavar="DIR",
            help="where the bundle will be on the box (its outbox goes there); default: DIR",
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = settings_for_cli(args.database_url, PROG)
    if settings is None:
        return 2
    engine = make_engine(settings.database_url)
    try:
        upgrade(settings.database_url)
        with console_session(engine, PROG, argv, expire_on_commit=False) as session:
            return _run(args, settings, session)
    except (SiteError, DeviceSpecError, BrokerControlError, CardKeyError) as exc:
        print(f"{PROG} {args.action}: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"{PROG} {args.action}: database error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


@contextmanager
def _broker(settings: HubSettings, args: argparse.Namespace) -> Iterator[BrokerAccounts | None]:
    if args.no_broker:
        print(
            f"{PROG}: --no-broker: the running broker is unchanged; rebuild its accounts with "
            "`community broker-config` before it next starts",
            file=sys.stderr,
        )
        yield None
        return
    with DynsecControl(settings, site_acl(settings)) as control:
        yield control


def _run(args: argparse.Namespace, settings: HubSettings, session: Session) -> int:
    if args.action == "list":
        return _list(session)
    bundle_to: Path | None = getattr(args, "bundle", None) or getattr(args, "out", None)
    if bundle_to is not None:
        keys = card_keys(settings)  # before any change: a bundle that cannot be written
        if keys is None:  # must not cost the site its working password
            raise SiteError(
                "a bundle carries the site's card key: set HUB_CARD_KEY and "
                "HUB_CARD_PRIVATE_KEY_FILE (docs/security.md, Cards)"
            )
    devices = getattr(args, "device", [])
    for warning in port_warnings(devices):
        print(f"warning: {warning}", file=sys.stderr)
    reserved = (settings.mqtt_username, settings.broker_admin_username)
    change: Callable[[BrokerAccounts | None], Credentials | None]
    if args.action == "add":
        if args.bundle is not None and not devices:
            raise SiteError("a bundle needs the site's devices: give them with --device")

        def change(broker: BrokerAccounts | None) -> Credentials | None:
            return add_site(
                session,
                args.site,
                args.kind,
                centre=args.centre,
                venue=args.venue,
                devices=devices,
                reserved=reserved,
                reinstate=args.reinstate,
                broker=broker,
            )
    elif args.action in ("rotate", "bundle"):
        if args.action == "bundle":
            row = active_site(session, args.site, "bundle")
            if devices:
                set_devices(session, args.site, devices)
            elif not row.devices:
                raise SiteError(
                    f"site {args.site!r} has no devices and an edge needs at least one: give "
                    "them with --device ID=KIND:PORT"
                )

        def change(broker: BrokerAccounts | None) -> Credentials | None:
            return rotate_site(session, args.site, broker=broker)
    else:

        def change(broker: BrokerAccounts | None) -> Credentials | None:
            revoke_site(session, args.site, broker=broker)
            return None

    with _broker(settings, args) as broker:
        credentials = change(broker)
    if credentials is None:
        print(f"site {args.site}: revoked; its broker account is gone")
        return 0
    print(f"site {args.site}: credentials version {credentials.version} ({args.action})")
    if bundle_to is None:
        print(
            f"  no bundle written; `community site bundle {args.site} --out DIR` issues its "
            "credentials (the hub keeps only a hash)"
        )
        return 0
    row = active_site(session, args.site, "bundle")
    path = write_bundle(
        bundle_to, row, credentials, settings, card_keys(settings), install_dir=args.install_dir
    )
    print(f"  bundle: {path} (0600; holds the password) -> community edge --config {path.name}")
    return 0


def _list(session: Session) -> int:
    rows = list_sites(session)
    if not rows:
        print("no sites yet: community site add ID --kind centre|venue")
        return 0
    print(f"{'site':<24} {'kind':<7} {'state':<8} {'version':>7}  {'credentials made':<17} devices")
    for row in rows:
        print(
            f"{row.site_id:<24} {row.kind:<7} {row.state:<8} {row.credentials_version:>7}  "
            f"{row.credentials_at:%Y-%m-%d %H:%M}  {len(row.devices)}"
        )
    return 0


def _listener(text: str) -> str:
    """Mosquitto's ``PORT [ADDRESS]``, checked before anything is written."""
    port, _, address = text.strip().partition(" ")
    if not port.isdigit() or not 0 < int(port) < 65_536 or " " in address.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not `PORT [ADDRESS]`")
    return text.strip()


def broker_config_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="community broker-config",
        description="Write mosquitto.conf and dynamic-security.json for a fresh Mosquitto from "
        "the site registry: the hub's account (HUB_MQTT_USERNAME/PASSWORD), the admin account "
        "(HUB_BROKER_ADMIN_USERNAME/PASSWORD) and every active site with its stored hash. "
        "Start Mosquitto with `mosquitto -c DIR/mosquitto.conf`; it then keeps the file itself "
        "and `community site` changes it live.",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--database-url", help="default: HUB_DATABASE_URL or sqlite:///data/hub.db")
    parser.add_argument(
        "--listener", default="1883", help="Mosquitto's `listener PORT [ADDRESS]` (default 1883)"
    )
    parser.add_argument("--plugin", help="mosquitto_dynamic_security.so (default: found here)")
    parser.add_argument("--persistence-dir", type=Path, help="default: DIR")
    parser.add_argument(
        "--tls-dir",
        type=Path,
        metavar="CERTS",
        help="add the TLS listener edges dial, on the files of `community broker-certs --out "
        "CERTS` (ca.crt, server.crt, server.key) at this path as the broker sees it",
    )
    parser.add_argument(
        "--tls-listener",
        type=_listener,
        default=str(TLS_PORT),
        metavar="'PORT [ADDRESS]'",
        help=f"with --tls-dir: that listener (default {TLS_PORT})",
    )
    args = parser.parse_args(argv)
    settings = settings_for_cli(args.database_url, parser.prog)
    if settings is None:
        return 2
    plugin = args.plugin or dynsec_plugin()
    if plugin is None:
        print(
            f"{parser.prog}: Mosquitto's dynamic-security plugin is not installed here; give its "
            "path on the broker's machine with --plugin",
            file=sys.stderr,
        )
        return 2
    engine = make_engine(settings.database_url)
    try:
        upgrade(settings.database_url)
        with Session(engine) as session:
            config = registry_broker_config(session, settings)
        conf, dynsec = write_broker_dir(
            args.out,
            config,
            listener=args.listener,
            plugin=plugin,
            persistence_dir=args.persistence_dir,
            tls=certificate_paths(args.tls_dir.absolute()) if args.tls_dir else None,
            tls_listener=args.tls_listener,
        )
    except (SiteError, ValueError, OSError, SQLAlchemyError) as exc:
        print(f"{parser.prog}: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"{conf}\n{dynsec}: {config.sites} active sites, the hub and the admin account")
    return 0
