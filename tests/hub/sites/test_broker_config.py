"""``community broker-config``: a fresh Mosquitto started from the files it writes knows exactly
the registry's accounts (active sites bound to their client ids, no revoked site), and its admin
account can change them live at once."""

from __future__ import annotations

import queue
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from community.cli import main as community
from demo.broker.mosquitto import MosquittoProcess, free_port, private_process_lines
from hub.core.settings import HubSettings
from tests.hub.org.support import City
from tests.hub.sites.conftest import ADMIN
from tests.hub.sites.test_provisioning import connack
from tests.services import ACCOUNTS

READER = "reader-1=card_reader:/dev/serial/by-id/usb-FTDI_FT232R_A1-if00-port0"


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
def processes() -> Iterator[list[MosquittoProcess]]:
    started: list[MosquittoProcess] = []
    yield started
    for process in started:
        process.kill()


def granted(url: str, account: tuple[str, str], topic_filter: str) -> bool:
    """Whether the broker grants this account a subscription to ``topic_filter``."""
    answers: queue.Queue[list[ReasonCode]] = queue.Queue()
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"probe-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )
    client.username_pw_set(*account)
    client.on_connect = lambda c, *_: c.subscribe(topic_filter, qos=1)
    client.on_subscribe = lambda _c, _u, _m, reasons, _p: answers.put(reasons)
    host, port = url.removeprefix("mqtt://").split(":")
    client.connect(host, int(port))
    client.loop_start()
    try:
        (reason,) = answers.get(timeout=10)
        return not reason.is_failure
    finally:
        client.disconnect()
        client.loop_stop()


def password(bundle: Path) -> str:
    value: str = tomllib.loads((bundle / "edge.toml").read_text())["mqtt"]["password"]
    return value


def test_a_fresh_broker_starts_with_the_registrys_accounts(
    city: City,
    site_env: HubSettings,
    monkeypatch: pytest.MonkeyPatch,
    processes: list[MosquittoProcess],
    tmp_path: Path,
) -> None:
    for site in ("centre-02", "centre-03"):
        city.add_centre(site, city.add_community(f"C{site[-2:]}", f"社区{site[-2:]}"))
    city.commit()
    for site in ("centre-01", "centre-02"):
        assert community(
            ["site", "add", site, "--kind", "centre", "--device", READER,
             "--bundle", str(tmp_path / site), "--no-broker"]
        ) == 0  # fmt: skip
    assert community(["site", "revoke", "centre-02", "--no-broker"]) == 0

    port = free_port()
    out = tmp_path / "broker"
    assert community(["broker-config", "--out", str(out), "--listener", f"{port} 127.0.0.1"]) == 0
    conf = (out / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf
    assert (out / "dynamic-security.json").stat().st_mode & 0o777 == 0o600
    # This broker runs as the test's user (as root Mosquitto would drop to user mosquitto).
    broker = MosquittoProcess(tmp_path / "run", conf + "\n".join(private_process_lines()), port)
    processes.append(broker)
    broker.start()

    one = password(tmp_path / "centre-01")
    assert not connack(broker.url, "centre-01", one, "edge-centre-01").is_failure
    assert connack(broker.url, "centre-01", one, "hub-ingest").is_failure, "client id not bound"
    assert connack(
        broker.url, "centre-02", password(tmp_path / "centre-02"), "edge-centre-02"
    ).is_failure
    assert not connack(broker.url, *ACCOUNTS.hub, "hub-check").is_failure
    assert not connack(broker.url, *ADMIN, "admin-check").is_failure
    # Least privilege: the admin reads the plugin's answers and no topic of the contract; the
    # hub and the sites never see the plugin's answers.
    assert granted(broker.url, ADMIN, "$CONTROL/dynamic-security/v1/response")
    assert not granted(broker.url, ADMIN, "yp/v1/#")
    assert not granted(broker.url, ADMIN, "yp/v1/centre-01/cmd/#")
    assert not granted(broker.url, ACCOUNTS.hub, "$CONTROL/dynamic-security/#")

    # The admin account of that broker provisions a site live: no restart, in at once.
    monkeypatch.setenv("HUB_MQTT_URL", broker.url)
    assert community(
        ["site", "add", "centre-03", "--kind", "centre", "--device", READER,
         "--bundle", str(tmp_path / "centre-03")]
    ) == 0  # fmt: skip
    three = password(tmp_path / "centre-03")
    assert not connack(broker.url, "centre-03", three, "edge-centre-03").is_failure
