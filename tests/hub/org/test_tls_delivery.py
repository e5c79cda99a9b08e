"""The delivery path over TLS: a real edge agent (a card reader behind a pty) publishes over
mqtts:// to Mosquitto's TLS listener, the hub's ingest and allowlist publisher connect over TLS
too, the tap is recorded and its receipt returns. An edge that cannot verify the broker (another
CA, or a name its certificate does not carry) never connects: its tap stays in its outbox and the
hub records nothing, until it is given the right CA."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from demo.broker.mosquitto import MosquittoBroker
from hub.broker.tls import BrokerCertificates, ensure_certificates
from hub.core.settings import HubSettings
from hub.mqtt import HubConnection, Role, session_options
from hub.org.allowlist_publisher import AllowlistPublisher
from tests.hub.org.support import Centre, City
from tests.hub.support import Db, StartWorker, wait_until
from tests.services import ACCOUNTS, make_broker

KNOWN = "0A1B2C3D4E"


@pytest.fixture
def certs(tmp_path: Path) -> BrokerCertificates:
    return ensure_certificates(tmp_path / "certs", ["localhost"])


@pytest.fixture
def mosquitto(tmp_path: Path, certs: BrokerCertificates) -> Iterator[MosquittoBroker]:
    """The test broker with its TLS listener (this module's hub fixtures take this one)."""
    broker = make_broker(tmp_path / "mosquitto", tls=certs)
    broker.start()
    yield broker
    broker.kill()


@pytest.fixture
def tls_hub(
    hub_settings: HubSettings, mosquitto: MosquittoBroker, certs: BrokerCertificates
) -> HubSettings:
    return hub_settings.model_copy(
        update={"mqtt_url": mosquitto.tls_url, "mqtt_ca_file": certs.ca_cert}
    )


@pytest.fixture
def allowlists(tls_hub: HubSettings) -> Iterator[AllowlistPublisher]:
    handle = AllowlistPublisher(tls_hub, interval_s=0.2)
    handle.start()
    yield handle
    handle.stop()


@pytest.fixture
def edges() -> Iterator[list[Centre]]:
    started: list[Centre] = []
    yield started
    for centre in started:
        centre.close()


def _edge_mqtt(url: str, ca_file: Path) -> dict[str, Any]:
    return {"url": url, "ca_file": ca_file, "password": ACCOUNTS.edge("centre-01")[1]}


def _recorded(db: Db) -> set[uuid.UUID]:
    return {uuid.UUID(str(row[0])) for row in db.rows("SELECT event_id FROM checkins")}


def test_a_tap_travels_over_tls_and_its_receipt_returns(
    city: City,
    tls_hub: HubSettings,
    start_worker: StartWorker,
    allowlists: AllowlistPublisher,
    mosquitto: MosquittoBroker,
    certs: BrokerCertificates,
    edges: list[Centre],
    tmp_path: Path,
    db: Db,
) -> None:
    city.add_member(city.add_unit("U01"), card=KNOWN)
    city.commit()
    assert tls_hub.broker.tls
    assert tls_hub.broker.port != mosquitto.port
    start_worker(tls_hub)  # ready: connected over TLS and subscribed
    centre = Centre(tmp_path / "edge", mosquitto, mqtt=_edge_mqtt(mosquitto.tls_url, certs.ca_cert))
    edges.append(centre)

    # The allowlist publisher's connection is TLS too: the list reaches the edge.
    wait_until(lambda: centre.agent.allowlist.version is not None, what="the allowlist over TLS")
    tap = centre.tap(KNOWN)
    assert tap.data.decision == "allowed"
    wait_until(lambda: centre.agent.outbox.stats().pending == 0, what="the hub's receipt")
    assert centre.agent.publisher.connected
    # what the edge committed, the hub recorded (a hold split in two by a starved simulator is
    # two taps at the reader, as tests/edge/test_card_reader.py shows, and both arrive)
    assert tap.id in _recorded(db)
    assert _recorded(db) == {t.id for t in centre.taps()}


@pytest.mark.parametrize(
    ("case", "refusal"),
    [
        ("another CA", "self-signed certificate in certificate chain"),
        ("a name the certificate lacks", "mismatch"),
    ],
)
def test_an_edge_that_cannot_verify_the_broker_sends_nothing(
    case: str,
    refusal: str,
    city: City,
    tls_hub: HubSettings,
    start_worker: StartWorker,
    mosquitto: MosquittoBroker,
    certs: BrokerCertificates,
    edges: list[Centre],
    tmp_path: Path,
    db: Db,
    caplog: pytest.LogCaptureFixture,
) -> None:
    city.add_member(city.add_unit("U01"), card=KNOWN)
    city.commit()
    start_worker(tls_hub)
    if case == "another CA":
        other = ensure_certificates(tmp_path / "other-ca", ["localhost"])
        mqtt = _edge_mqtt(mosquitto.tls_url, other.ca_cert)
    else:  # the certificate names localhost, not 127.0.0.1
        mqtt = _edge_mqtt(f"mqtts://127.0.0.1:{mosquitto.tls_port}", certs.ca_cert)
    caplog.set_level(logging.WARNING, logger="edge.publisher")
    centre = Centre(tmp_path / "edge", mosquitto, mqtt=mqtt)
    edges.append(centre)

    tap = centre.tap(KNOWN)
    wait_until(
        lambda: refusal in caplog.text and "certificate was refused" in caplog.text,
        what="the edge to refuse the broker's certificate",
    )
    assert not centre.agent.publisher.connected, "it never got as far as MQTT"
    assert centre.agent.outbox.stats().pending >= 1
    assert _recorded(db) == set()

    # Given the broker's CA and its name, the same edge delivers the very tap it kept.
    centre.settings = centre.settings.model_copy(
        update={
            "mqtt": centre.settings.mqtt.model_copy(
                update={"url": mosquitto.tls_url, "ca_file": certs.ca_cert}
            )
        }
    )
    centre.restart()
    wait_until(lambda: tap.id in _recorded(db), timeout=30, what="the kept tap at the hub")
    wait_until(lambda: centre.agent.outbox.stats().pending == 0, what="the hub's receipt")


def test_the_hub_refuses_a_broker_whose_certificate_does_not_name_it(
    tls_hub: HubSettings, mosquitto: MosquittoBroker, caplog: pytest.LogCaptureFixture
) -> None:
    wrong_name = tls_hub.model_copy(update={"mqtt_url": f"mqtts://127.0.0.1:{mosquitto.tls_port}"})
    caplog.set_level(logging.WARNING, logger="hub.mqtt.connection")
    connection = HubConnection(
        "ingest", session_options(wrong_name, Role.INGEST), wrong_name.broker
    )
    connection.start()
    try:
        wait_until(
            lambda: "IP address mismatch" in caplog.text,
            what="the hub to refuse the broker's certificate",
        )
        assert not connection.connected
        assert "ingest: cannot connect to the broker at mqtts://127.0.0.1:" in caplog.text
    finally:
        connection.close()
