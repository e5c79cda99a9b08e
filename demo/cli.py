"""``community demo``: the whole system in one process tree, on embedded defaults.

A broker (a private Mosquitto when one is on PATH, else the embedded amqtt broker), the hub on
SQLite, and simulated service centres: card-reader simulators behind pty serial ports, each read by
its own edge agent process. Credentials are made on first run and kept in the data directory.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Protocol

from demo.broker.mosquitto import DynsecMosquitto, free_port, mosquitto_binary
from demo.city import demo_cards, seed_on_first_run
from demo.history import seed_venues_on_first_run
from demo.sites import DemoSite, broker_accounts, centre_site, provision, reader_link
from demo.users import LINK_TTL, demo_login_link
from demo.venues import registry_venues, start_venues, venue_device_list, venue_sites
from firmware_sim.card_reader import CardReaderSim
from firmware_sim.venue import CITY_VENUES
from firmware_sim.venue_cli import ACCELERATION_HELP
from hub.core.card_keys import HubCardKeys, read_private_key, write_new_private_key
from hub.core.private_files import make_private_dir, open_private_append, write_private
from hub.core.settings import HubSettings

log = logging.getLogger(__name__)

PUBLISHER = "publisher"
HUB_USER = "hub"
BROKER_ADMIN = "broker-admin"
CARD_KEY_FILE = "card-key"
"""The hub's card private key in the demo's data directory (made on first run, mode 0600)."""


class Broker(Protocol):
    @property
    def url(self) -> str: ...
    def start(self, timeout: float = ...) -> None: ...
    def stop(self) -> None: ...


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_port(requested: int | None, default: int, what: str) -> int:
    """An explicit port must be free; the default falls back to a free one with a notice."""
    if requested is not None:
        if not port_is_free(requested):
            raise SystemExit(f"community demo: {what} port {requested} is already in use")
        return requested
    if port_is_free(default):
        return default
    port = free_port()
    print(f"note: {what} port {default} is in use; using {port} instead")
    return port


def load_credentials(data_dir: Path) -> dict[str, Any]:
    """Made once per data directory and kept (mode 0600) so that restarts keep working. The
    sites' passwords are not here: each is in its bundle, and the registry keeps its hash."""
    path = data_dir / "credentials.json"
    creds: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    creds.pop("edges", None)  # an older demo's edge passwords: the registry has the sites now
    creds.setdefault("mqtt_username", PUBLISHER)
    creds.setdefault("mqtt_password", secrets.token_urlsafe(16))
    creds.setdefault("hub_password", secrets.token_urlsafe(16))
    creds.setdefault("broker_admin_password", secrets.token_urlsafe(16))
    creds.setdefault("card_key", secrets.token_hex(32))  # the city key: the hub's alone
    if not (data_dir / CARD_KEY_FILE).exists():
        write_new_private_key(data_dir / CARD_KEY_FILE)  # opens the cards the edges seal
    save_credentials(data_dir, creds)
    return creds


def demo_settings(
    data_dir: Path, creds: dict[str, Any], database_url: str, broker_url: str, protocol: str
) -> HubSettings:
    """The hub's settings as the demo runs it, for provisioning its sites."""
    return HubSettings(
        mode="demo",
        database_url=database_url,
        mqtt_url=broker_url,
        mqtt_username=HUB_USER,
        mqtt_password=creds["hub_password"],
        mqtt_protocol=protocol,
        broker_admin_username=BROKER_ADMIN,
        broker_admin_password=creds["broker_admin_password"],
        card_key=creds["card_key"],
        card_private_key_file=data_dir / CARD_KEY_FILE,
    )


def demo_card_keys(data_dir: Path, creds: dict[str, Any]) -> HubCardKeys:
    return HubCardKeys(creds["card_key"].encode(), read_private_key(data_dir / CARD_KEY_FILE))


def save_credentials(data_dir: Path, creds: dict[str, Any]) -> None:
    write_private(data_dir / "credentials.json", json.dumps(creds, indent=2) + "\n")


def use_mosquitto(args: argparse.Namespace) -> bool:
    return args.embedded == "mosquitto" or (
        args.embedded == "auto" and mosquitto_binary() is not None
    )


def start_broker(mosquitto: bool, data_dir: Path, port: int, accounts: dict[str, Any]) -> Broker:
    """Mosquitto, or amqtt, on ``port`` with ``accounts`` (a dynamic-security document, built
    from the site registry by :func:`demo.sites.broker_accounts`)."""
    broker: Broker
    if mosquitto:
        broker = DynsecMosquitto(data_dir / "mosquitto", accounts, port=port)
    else:
        from demo.broker.embedded import DynsecEmbedded  # noqa: PLC0415 - only when needed

        broker = DynsecEmbedded(data_dir / "amqtt", accounts, port=port)
    broker.start()
    return broker


def spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with open_private_append(log_path) as log_file:
        return subprocess.Popen(
            [sys.executable, "-m", "community", *args],
            env={**os.environ, **env},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us alone; we stop the children in order
        )


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_http(url: str, timeout: float, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"community demo: the hub exited; see {log_path}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own localhost URL
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"community demo: the hub did not answer at {url}; see {log_path}")


def tap_forever(
    sim: CardReaderSim, cards: list[str], interval_s: float, stop: threading.Event
) -> None:
    """Members arrive at random: a tap now and then, a fault on the line once in a while."""
    rng = random.Random()
    while not stop.wait(rng.expovariate(1 / interval_s)):
        if rng.random() < 0.05:
            sim.noise(rng.randint(3, 20))
        sim.tap(rng.choice(cards), hold_s=rng.uniform(0.15, 0.6))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="community demo", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("data/demo"))
    parser.add_argument("--http-port", type=int, default=None, help="API port (default 8000)")
    parser.add_argument("--mqtt-port", type=int, default=None, help="broker port (default 1883)")
    parser.add_argument(
        "--broker", help="use this broker (mqtt://host:port) instead of starting one"
    )
    parser.add_argument("--embedded", choices=["auto", "mosquitto", "amqtt"], default="auto")
    parser.add_argument("--centres", type=int, default=2, help="simulated service centres")
    parser.add_argument("--tap-interval", type=float, default=4.0, help="mean seconds between taps")
    parser.add_argument("--venues", type=int, default=52, help="simulated shared venues (0-52)")
    parser.add_argument("--acceleration", type=float, default=1.0, help=ACCELERATION_HELP)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    data_dir: Path = args.data_dir.resolve()
    make_private_dir(data_dir / "logs")  # and data_dir: 0700 where the demo creates them
    sites = [f"centre-{n:02d}" for n in range(1, args.centres + 1)]
    if not 0 <= args.venues <= CITY_VENUES or args.acceleration <= 0:
        parser.error(f"--venues must be 0..{CITY_VENUES} and --acceleration > 0")
    venues = venue_sites(args.venues)
    creds = load_credentials(data_dir)
    http_port = choose_port(args.http_port, 8000, "HTTP")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    with ExitStack() as cleanup:
        mosquitto = use_mosquitto(args)
        if args.broker:
            broker_url, protocol = args.broker, os.environ.get("HUB_MQTT_PROTOCOL", "5")
        else:
            port = choose_port(args.mqtt_port, 1883, "MQTT")
            broker_url, protocol = f"mqtt://127.0.0.1:{port}", "5" if mosquitto else "3.1.1"
        database_url = f"sqlite:///{data_dir / 'hub.db'}"
        year = seed_on_first_run(database_url, demo_card_keys(data_dir, creds), centres=sites)
        specs = registry_venues(database_url, venues)
        resume = seed_venues_on_first_run(database_url, specs)
        sims = start_venues(specs, data_dir, args.acceleration, cleanup, resume) if venues else []
        # The sites as an operator provisions them (hub.sites): registry rows, then bundles;
        # the broker starts with the registry's accounts (amqtt has no control topic anyway).
        settings = demo_settings(data_dir, creds, database_url, broker_url, protocol)
        bundles = provision(
            settings,
            [centre_site(data_dir, site) for site in sites]
            + [DemoSite(s.spec.site, "venue", venue_device_list(s)) for s in sims],
            data_dir,
        )
        if not args.broker:
            accounts = broker_accounts(settings, {PUBLISHER: creds["mqtt_password"]})
            broker = start_broker(mosquitto, data_dir, port, accounts)
            cleanup.callback(broker.stop)
        api = f"http://127.0.0.1:{http_port}"
        # a single-use, short-lived login link, never a token (an older demo's is revoked)
        link, operator = demo_login_link(database_url, api, creds.pop("api_token", None))
        save_credentials(data_dir, creds)
        hub_log = data_dir / "logs" / "hub.log"
        hub = spawn(
            [
                "hub",
                "--database-url",
                f"sqlite:///{data_dir / 'hub.db'}",
                "--mqtt-url",
                broker_url,
                "--http-port",
                str(http_port),
            ],
            # The hub's default time window (HUB_EVENT_MAX_FUTURE_S 300) holds here: the edges
            # stamp the venues' readings with their own wall clock (edge/modbus_poller.py), not
            # the simulators' accelerated one (checked: no `clock` dead letters in a demo run).
            {
                "HUB_MODE": "demo",
                "HUB_MQTT_USERNAME": HUB_USER,
                "HUB_MQTT_PASSWORD": creds["hub_password"],
                "HUB_MQTT_PROTOCOL": protocol,
                "HUB_CARD_KEY": creds["card_key"],
                "HUB_CARD_PRIVATE_KEY_FILE": str(data_dir / CARD_KEY_FILE),
            },
            hub_log,
        )
        cleanup.callback(stop_process, hub)
        wait_http(f"{api}/healthz", 60, hub, hub_log)

        cards = {site: demo_cards(database_url, site) for site in sites}  # seeded members' cards
        children = [hub]
        for site in sites:
            if site not in bundles:
                continue  # revoked by an operator
            sim = CardReaderSim(reader_link(data_dir, site))
            cleanup.callback(sim.close)
            edge = spawn(
                ["edge", "--config", str(bundles[site])],
                {},
                data_dir / "logs" / f"edge-{site}.log",
            )
            cleanup.callback(stop_process, edge)
            children.append(edge)
            threading.Thread(
                target=tap_forever, args=(sim, cards[site], args.tap_interval, stop), daemon=True
            ).start()
        configs = [bundles[s.spec.site] for s in sims if s.spec.site in bundles]
        if configs:
            venue_edge = spawn(
                ["edge", *(arg for c in configs for arg in ("--config", str(c)))],
                {},
                data_dir / "logs" / "edge-venues.log",
            )
            cleanup.callback(stop_process, venue_edge)  # before the simulators close
            children.append(venue_edge)
        cleanup.callback(stop.set)  # runs first: the tappers stop before the edges

        print(
            f"\n  Yuanping smart community demo is running ({len(sites)} service centres)\n"
            f"  Log in:       {link}\n"
            f"                (works once, within {LINK_TTL.seconds // 60} minutes; another: "
            f"community user login-link {operator} --database-url {database_url})\n"
            f"  Dashboard:    {api}/   (venues, check-ins, operations, records)\n"
            f"  API:          {api}/api/v1/checkins   (docs: {api}/docs; header "
            f"'Authorization: Bearer <token>', a token: community user token {operator} "
            f"--database-url {database_url})\n"
            f"  Venues:       {len(venues)} ("
            f"{'wall clock' if args.acceleration == 1 else f'time-lapse x{args.acceleration:g}'}): "
            f"{api}/api/v1/counter-readings, {api}/api/v1/bay-readings\n"
            f"  Records:      {api}/api/v1/members, {api}/api/v1/attendance, "
            f"{api}/api/v1/reports/assessment?year={year} (docs/records.md)\n"
            f"  Health:       {api}/healthz    metrics: {api}/metrics\n"
            f"  MQTT broker:  {broker_url} (MQTT {protocol})\n"
            f"  Credentials:  {data_dir / 'credentials.json'} (mqtt_password)\n"
            f"  Sites:        community site list --database-url {database_url}; bundles in "
            f"{data_dir / 'edges'} (docs/sites.md)\n"
            f"  Logs:         {data_dir / 'logs'}\n"
            f"  Try:          mosquitto_sub -h 127.0.0.1 -p {broker_url.rsplit(':', 1)[1]} "
            f"-u {PUBLISHER} -P <mqtt_password> -t 'yp/v1/#' -v\n"
            f"  Press Ctrl-C to stop.\n",
            flush=True,
        )
        while not stop.wait(1.0):
            dead = [p for p in children if p.poll() is not None]
            if dead:
                print(
                    f"community demo: process {dead[0].pid} exited ({dead[0].returncode}); stopping"
                )
                break
        print("stopping ...")
    return 0
