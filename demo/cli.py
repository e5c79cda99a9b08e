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

from demo.broker.mosquitto import MosquittoBroker, free_port, mosquitto_binary
from demo.city import demo_cards, seed_on_first_run
from demo.history import seed_venues_on_first_run
from demo.users import LINK_TTL, demo_login_link
from demo.venues import registry_venues, start_venues, venue_devices, venue_sites
from firmware_sim.card_reader import CardReaderSim
from firmware_sim.venue import CITY_VENUES
from firmware_sim.venue_cli import ACCELERATION_HELP
from hub.broker.acl import contract_acl, edge_client_ids
from hub.core.card_keys import HubCardKeys, read_private_key, write_new_private_key
from hub.core.private_files import make_private_dir, open_private_append, write_private

log = logging.getLogger(__name__)

PUBLISHER = "publisher"
HUB_USER = "hub"
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


def load_credentials(data_dir: Path, sites: list[str]) -> dict[str, Any]:
    """Made once per data directory and kept (mode 0600) so that restarts keep working."""
    path = data_dir / "credentials.json"
    creds: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    creds.setdefault("mqtt_username", PUBLISHER)
    creds.setdefault("mqtt_password", secrets.token_urlsafe(16))
    creds.setdefault("hub_password", secrets.token_urlsafe(16))
    creds.setdefault("card_key", secrets.token_hex(32))  # the city key: the hub's alone
    if not (data_dir / CARD_KEY_FILE).exists():
        write_new_private_key(data_dir / CARD_KEY_FILE)  # opens the cards the edges seal
    edges: dict[str, str] = creds.setdefault("edges", {})
    for site in sites:
        edges.setdefault(site, secrets.token_urlsafe(16))
    save_credentials(data_dir, creds)
    return creds


def demo_card_keys(data_dir: Path, creds: dict[str, Any]) -> HubCardKeys:
    return HubCardKeys(creds["card_key"].encode(), read_private_key(data_dir / CARD_KEY_FILE))


def save_credentials(data_dir: Path, creds: dict[str, Any]) -> None:
    write_private(data_dir / "credentials.json", json.dumps(creds, indent=2) + "\n")


def start_broker(
    args: argparse.Namespace, data_dir: Path, creds: dict[str, Any]
) -> tuple[Broker, str]:
    accounts = {
        HUB_USER: creds["hub_password"],
        PUBLISHER: creds["mqtt_password"],
        **creds["edges"],
    }
    port = choose_port(args.mqtt_port, 1883, "MQTT")
    use_mosquitto = args.embedded == "mosquitto" or (
        args.embedded == "auto" and mosquitto_binary() is not None
    )
    acl = contract_acl(hub_users=[HUB_USER], publishers=[PUBLISHER])
    # Each site's account connects only as that site's edge; the hub's account is unbound (its
    # ingest and allowlist clients use distinct ids) and so is the publisher, a test account.
    client_ids = edge_client_ids(acl, accounts)
    if use_mosquitto:
        broker: Broker = MosquittoBroker(
            data_dir / "mosquitto", accounts, acl, client_ids=client_ids, port=port
        )
        protocol = "5"
    else:
        from demo.broker.embedded import EmbeddedBroker  # noqa: PLC0415 - only when needed

        broker = EmbeddedBroker(data_dir / "amqtt", accounts, acl, client_ids=client_ids, port=port)
        protocol = "3.1.1"  # amqtt speaks only MQTT 3.1.1
    broker.start()
    return broker, protocol


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


def edge_config(
    site: str,
    data_dir: Path,
    broker_url: str,
    protocol: str,
    creds: dict[str, Any],
    *,
    devices: str | None = None,
) -> Path:
    """The site's TOML config; ``devices`` (``[[devices]]`` entries) defaults to one card reader.
    Its card keys are the site's own and the hub's public key, never the city key."""
    keys = demo_card_keys(data_dir, creds)
    site_dir = data_dir / "edges" / site
    make_private_dir(site_dir)
    path = site_dir / "edge.toml"
    write_private(
        path,
        "\n".join(
            [
                f'site = "{site}"',
                'mode = "demo"',
                f'outbox_path = "{site_dir / "outbox.db"}"',
                f'site_card_key = "{keys.site_key(site)}"',
                f'hub_card_public_key = "{keys.public_key}"',
                "heartbeat_interval_s = 5.0",
                "[mqtt]",
                f'url = "{broker_url}"',
                f'password = "{creds["edges"][site]}"',
                f'protocol = "{protocol}"',
                devices or f'[[devices]]\nid = "reader-1"\nport = "{site_dir / "reader-1.tty"}"',
                "",
            ]
        ),
    )
    return path


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
    creds = load_credentials(data_dir, sites + venues)
    http_port = choose_port(args.http_port, 8000, "HTTP")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    with ExitStack() as cleanup:
        if args.broker:
            broker_url, protocol = args.broker, os.environ.get("HUB_MQTT_PROTOCOL", "5")
        else:
            broker, protocol = start_broker(args, data_dir, creds)
            cleanup.callback(broker.stop)
            broker_url = broker.url
        database_url = f"sqlite:///{data_dir / 'hub.db'}"
        year = seed_on_first_run(database_url, demo_card_keys(data_dir, creds), centres=sites)
        specs = registry_venues(database_url, venues)
        resume = seed_venues_on_first_run(database_url, specs)
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
            config = edge_config(site, data_dir, broker_url, protocol, creds)
            sim = CardReaderSim(config.parent / "reader-1.tty")
            cleanup.callback(sim.close)
            edge = spawn(
                ["edge", "--config", str(config)], {}, data_dir / "logs" / f"edge-{site}.log"
            )
            cleanup.callback(stop_process, edge)
            children.append(edge)
            threading.Thread(
                target=tap_forever, args=(sim, cards[site], args.tap_interval, stop), daemon=True
            ).start()
        if venues:
            sims = start_venues(specs, data_dir, args.acceleration, cleanup, resume)
            configs = [
                edge_config(
                    s.spec.site, data_dir, broker_url, protocol, creds, devices=venue_devices(s)
                )
                for s in sims
            ]
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
