"""docker-compose.yml's production configuration, run natively (no container engine runs here):
Debian's caddy on the project's own deploy/Caddyfile (its variables set as .env would set them),
Mosquitto on what `community broker-config --tls-dir` writes from the site registry, PostgreSQL,
and `community hub` with no HUB_MODE (production by default) reading its secrets from files
(HUB_SECRETS_DIR, as compose mounts them). The operator's steps of docs/deployment.md make it:
certificates, the first operator, a site and its bundle. Chromium, trusting the test's CA through
an NSS database and nothing else, logs in over HTTPS and sees a tap on the site's simulated
reader arrive through the edge, MQTT over TLS, the hub and the proxy's live stream."""

from __future__ import annotations

import base64
import hashlib
import os
import ssl
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, sync_playwright

from demo.broker.mosquitto import MosquittoProcess, free_port, private_process_lines
from firmware_sim.card_reader import CardReaderSim
from hub.broker.tls import BrokerCertificates, certificate_paths
from hub.core.private_files import make_private_dir, write_private
from tests.dashboards.support import CHROMIUM, CHROMIUM_FLAGS
from tests.e2e.harness import EdgeSite, Program, wait_for
from tests.hub.org.support import City
from tests.services import POSTGRES_ADMIN_URL, DatabaseDropper, postgres_admin
from tests.users import bearer

ROOT = Path(__file__).resolve().parents[2]
CADDYFILE = ROOT / "deploy" / "Caddyfile"
CADDY = Path("/usr/bin/caddy")
SITE = "centre-01"
CARD = "0A1B2C3D4E"


def community(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "community", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"community {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def trusting_home(home: Path, ca: Path) -> Path:
    """A HOME whose NSS database (what Chromium on Linux trusts besides the system's) holds the
    test's CA: Chromium checks the proxy's certificate as it would a city's, no error ignored."""
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    for args in (
        ["-N", "--empty-password"],
        ["-A", "-t", "C,,", "-n", "yuanping test CA", "-i", str(ca)],
    ):
        done = subprocess.run(
            ["certutil", "-d", f"sql:{nssdb}", *args], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, (
            f"certutil {args}: {done.stderr} (apt-get install libnss3-tools)"
        )
    return home


@dataclass
class ProductionCity:
    url: str
    http_url: str
    certs: BrokerCertificates
    token: str
    home: Path
    reader: CardReaderSim
    edge: EdgeSite
    hub: Program
    internal_url: str
    internal_root: Path
    """The same Caddyfile with ``HUB_TLS=internal``: Caddy's own CA, for a closed network."""


class Caddy:
    """Debian's caddy on the project's Caddyfile; ``env`` is what .env gives compose's proxy."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        assert CADDY.exists(), f"{CADDY} is missing: run `bash .ci/services caddy`"
        make_private_dir(workdir)
        self.log_path = workdir / "caddy.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(CADDY), "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                # its own storage (internal CA, OCSP staples) and no trust store it could change
                env={
                    "PATH": os.environ["PATH"],
                    "HOME": str(workdir),
                    "XDG_DATA_HOME": str(workdir / "data"),
                    "XDG_CONFIG_HOME": str(workdir / "config"),
                    **env,
                },
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def city(
    tmp_path_factory: pytest.TempPathFactory, database_dropper: DatabaseDropper
) -> Iterator[ProductionCity]:
    tmp = tmp_path_factory.mktemp("production")
    name = f"yp_test_{uuid.uuid4().hex[:12]}"
    postgres_admin(f'CREATE DATABASE "{name}"')
    database_url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)
    stops: list[Callable[[], None]] = []
    try:
        yield _start(tmp, database_url, stops)
    finally:
        for stop in reversed(stops):
            stop()
        database_dropper.drop(name)


def _start(tmp: Path, database_url: str, stops: list[Callable[[], None]]) -> ProductionCity:
    broker_port, tls_port, hub_port = free_port(), free_port(), free_port()
    http_port, https_port = free_port(), free_port()
    internal_http, internal_https = free_port(), free_port()
    # The secret files, as deploy/init-secrets.sh makes them and compose mounts them.
    secrets = tmp / "run-secrets"
    make_private_dir(secrets)
    for file, value in {
        "hub_database_url": database_url,
        "hub_mqtt_password": "hub-" + uuid.uuid4().hex,
        "hub_broker_admin_password": "admin-" + uuid.uuid4().hex,
        "hub_card_key": "card-" + uuid.uuid4().hex,
        "card-key": base64.b64encode(hashlib.sha256(b"production-test").digest()).decode(),
    }.items():
        write_private(secrets / file, value + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        {
            # no HUB_MODE: a hub is in production unless told otherwise
            "HUB_SECRETS_DIR": str(secrets),
            "HUB_CARD_PRIVATE_KEY_FILE": str(secrets / "card-key"),
            "HUB_MQTT_URL": f"mqtts://localhost:{tls_port}",
            "HUB_EDGE_MQTT_URL": f"mqtts://localhost:{tls_port}",
        }
    )
    community("broker-certs", "--out", str(tmp / "certs"), "--host", "localhost", env=env)
    certs = certificate_paths(tmp / "certs")
    env["HUB_MQTT_CA_FILE"] = str(certs.ca_cert)

    # The records a site is tied to, then the operator's steps of docs/deployment.md.
    community("hub", "migrate", env=env)
    engine = sa.create_engine(database_url)
    try:
        City(engine).commit()  # its service centre centre-01
    finally:
        engine.dispose()
    token = community("user", "add", "admin", "--role", "operator", env=env).split()[-1]
    tty = tmp / "reader-1.tty"
    bundle = tmp / "bundle"
    community(
        "site", "add", SITE, "--kind", "centre",
        "--device", f"reader-1=card_reader:{tty},release_s=2.0",
        "--bundle", str(bundle), "--no-broker",
        env=env,
    )  # fmt: skip
    community(
        "broker-config", "--out", str(tmp / "broker"),
        "--listener", f"{broker_port} 127.0.0.1",
        "--tls-dir", str(tmp / "certs"), "--tls-listener", f"{tls_port} 127.0.0.1",
        env=env,
    )  # fmt: skip
    conf = (tmp / "broker" / "mosquitto.conf").read_text()
    broker = MosquittoProcess(
        tmp / "mosquitto", conf + "\n".join(private_process_lines()), broker_port
    )
    broker.start()
    stops.append(broker.stop)

    # the test's environment less every HUB_ variable: nothing from outside sets its mode
    hub = Program(
        "hub", ["hub", "--http-port", str(hub_port)], env, tmp / "hub.log", inherit_env=False
    )
    hub.start()
    stops.append(hub.stop)
    caddy = Caddy(
        tmp / "caddy",
        {
            "HUB_SITE_ADDRESS": f"localhost:{https_port}",
            "HUB_TLS": f"{certs.server_cert} {certs.server_key}",
            "HUB_UPSTREAM": f"127.0.0.1:{hub_port}",
            "HUB_HTTP_PORT": str(http_port),
            "HUB_HTTPS_PORT": str(https_port),
        },
    )
    stops.append(caddy.close)
    internal = Caddy(
        tmp / "caddy-internal",
        {
            "HUB_SITE_ADDRESS": f"localhost:{internal_https}",
            "HUB_TLS": "internal",
            "HUB_UPSTREAM": f"127.0.0.1:{hub_port}",
            "HUB_HTTP_PORT": str(internal_http),
            "HUB_HTTPS_PORT": str(internal_https),
        },
    )
    stops.append(internal.close)
    url = f"https://localhost:{https_port}"
    trust = ssl.create_default_context(cafile=certs.ca_cert)

    def ready() -> bool:
        assert hub.alive(), "hub exited:\n" + hub.log_tail()
        assert caddy.process.poll() is None, "caddy exited:\n" + caddy.log_tail()
        try:
            health = httpx.get(
                url + "/healthz", verify=trust, timeout=5, headers=bearer(token)
            ).json()
        except (httpx.HTTPError, ValueError):
            return False
        return bool(health.get("broker") == "connected")

    wait_for(ready, 60, "the hub through the proxy, connected to the broker over TLS")

    reader = CardReaderSim(tty)
    stops.append(reader.close)
    edge = EdgeSite(SITE, bundle, f"mqtts://localhost:{tls_port}")
    edge.program = Program(
        "edge", ["edge", "--config", str(bundle / "edge.toml")], {}, tmp / "edge.log"
    )
    edge.program.start()
    stops.append(edge.program.stop)
    home = trusting_home(tmp / "browser-home", certs.ca_cert)
    return ProductionCity(
        url,
        f"http://localhost:{http_port}",
        certs,
        token,
        home,
        reader,
        edge,
        hub,
        f"https://localhost:{internal_https}",
        # where Caddy keeps its internal CA (compose: the caddy-data volume, /data/caddy/...)
        tmp / "caddy-internal" / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt",
    )


@pytest.fixture(scope="module")
def browser(city: ProductionCity) -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `bash .ci/services chromium`"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=CHROMIUM_FLAGS,
            headless=True,
            env={**os.environ, "HOME": str(city.home)},
        )
        yield browser
        browser.close()


def test_an_operator_logs_in_over_https_and_sees_a_tap_arrive_over_mqtt_tls(
    city: ProductionCity, browser: Browser
) -> None:
    ca = ssl.create_default_context(cafile=city.certs.ca_cert)
    # Caddy: plain HTTP only redirects; HTTPS answers with HSTS and without its own banner.
    plain = httpx.get(city.http_url + "/checkins", follow_redirects=False, timeout=5)
    assert plain.status_code in {301, 308}
    # (to the same name on 443, where a city's proxy listens; this one listens elsewhere)
    moved = urlsplit(plain.headers["location"])
    assert (moved.scheme, moved.hostname, moved.path) == ("https", "localhost", "/checkins")
    api = httpx.Client(base_url=city.url, verify=ca, headers=bearer(city.token), timeout=10)
    assert api.get("/healthz").headers["strict-transport-security"].startswith("max-age=")
    # The same file on a closed network: Caddy's internal CA, whose root a browser is given.
    wait_for(city.internal_root.exists, 30, "Caddy's internal CA")
    closed = ssl.create_default_context(cafile=city.internal_root)
    health = httpx.get(city.internal_url + "/healthz", verify=closed, timeout=10)
    assert health.json() == {"status": "ok"}
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(city.internal_url + "/healthz", verify=ca, timeout=10)  # another CA's
    # The hub believes the proxy's X-Forwarded-Proto: an address it makes is https://.
    slash = api.get("/api/v1/checkins/", follow_redirects=False)
    assert slash.status_code == 307
    assert slash.headers["location"].startswith(city.url + "/api/v1/checkins")

    context = browser.new_context()  # no ignore_https_errors: the CA is trusted, or this fails
    page = context.new_page()
    page.goto(f"{city.url}/checkins?site={SITE}")
    page.wait_for_url("**/login?next=*")
    page.wait_for_function("() => document.documentElement.dataset.ready === 'true'")
    page.fill("#token", city.token)
    page.click("#login-submit")
    page.wait_for_url(f"{city.url}/checkins?site={SITE}")
    page.wait_for_function("() => document.documentElement.dataset.ready === 'true'")
    session = {c["name"]: c for c in context.cookies()}["yp_session"]
    assert session["secure"] is True, "production: the cookie goes over HTTPS alone"
    assert session["httpOnly"] is True

    # A tap on the site's reader: edge -> MQTT over TLS -> hub -> the page's live stream.
    def reader_ok() -> bool:
        devices = api.get("/api/v1/devices", params={"site": SITE}).json()["data"]
        return any(d["id"] == "reader-1" and d["state"] == "ok" for d in devices)

    wait_for(reader_ok, 60, "the edge's heartbeat over TLS")
    city.reader.tap(CARD, hold_s=0.3)
    row = page.wait_for_selector("#feed-table tr[data-event-id]", timeout=60_000)
    assert row is not None
    shown = row.get_attribute("data-event-id")
    wait_for(lambda: city.edge.pending() == 0, 30, "the hub's receipt at the edge")
    assert {shown} == city.edge.committed_event_ids()
    listed = api.get("/api/v1/checkins", params={"site": SITE}).json()["data"]
    assert [r["event_id"] for r in listed] == [shown]
    assert city.edge.program is not None
    assert "certificate was refused" not in city.edge.program.log_tail(100_000)
    assert "without TLS" not in city.hub.log_tail(100_000)
    context.close()
    api.close()
