"""The broker's CA and server certificate (hub.broker.tls, `community broker-certs`): the names a
client dials, private keys, what a second run keeps and what it renews, and clear errors."""

from __future__ import annotations

import signal
import ssl
import stat
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from hub.broker.certs_cli import main
from hub.broker.tls import (
    RENEW_BEFORE,
    SERVER_VALIDITY,
    BrokerCertificates,
    CertificateError,
    certificate_hosts,
    ensure_certificates,
    tls_listener_lines,
)
from hub.mqtt import HubConnection
from mqtt_contract import topics
from mqtt_contract.session import BrokerEndpoint, SessionOptions
from tests.hub.support import wait_until
from tests.services import ACCOUNTS, make_broker


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_server_certificate_names_every_host_and_chains_to_the_ca(tmp_path: Path) -> None:
    certs = ensure_certificates(
        tmp_path / "certs", ["MQTT.Yuanping.example.", "10.20.0.5", "::1", "localhost"]
    )
    server, ca = _cert(certs.server_cert), _cert(certs.ca_cert)
    assert certificate_hosts(server) == ["mqtt.yuanping.example", "localhost", "10.20.0.5", "::1"]
    server.verify_directly_issued_by(ca)
    assert server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert server.not_valid_after_utc - server.not_valid_before_utc <= SERVER_VALIDITY + (
        timedelta(hours=1)
    )
    assert len(certs.made) == 2


def test_keys_are_private_and_the_ca_key_is_kept_apart(tmp_path: Path) -> None:
    certs = ensure_certificates(tmp_path / "certs", ["localhost"])
    assert _mode(certs.server_key) == 0o600
    assert _mode(certs.ca_key) == 0o600
    assert certs.ca_key.parent != certs.server_key.parent
    assert _mode(certs.ca_key.parent) == 0o700
    assert _mode(tmp_path / "certs") == 0o700
    assert _mode(certs.ca_cert) == 0o644, "public: the broker's user and the hub read it"
    assert _mode(certs.server_cert) == 0o644


def _contents(certs: BrokerCertificates) -> dict[str, bytes]:
    return {
        name: getattr(certs, name).read_bytes()
        for name in ("ca_cert", "ca_key", "server_cert", "server_key")
    }


def test_a_second_run_keeps_what_is_good_and_renews_what_is_due(tmp_path: Path) -> None:
    folder = tmp_path / "certs"
    first = ensure_certificates(folder, ["localhost", "127.0.0.1"])
    before = _contents(first)

    again = ensure_certificates(folder, ["127.0.0.1", "LOCALHOST"])
    assert again.made == ()
    assert _contents(again) == before

    more = ensure_certificates(folder, ["localhost", "mqtt.example"])  # a new name
    after = _contents(more)
    assert after["ca_cert"] == before["ca_cert"], "the edges keep their CA"
    assert after["ca_key"] == before["ca_key"]
    assert after["server_key"] != before["server_key"]
    assert certificate_hosts(_cert(more.server_cert)) == ["localhost", "mqtt.example"]
    assert [m.split(",")[0] for m in more.made] == ["server certificate for localhost"]

    # Within RENEW_BEFORE of its end the server certificate is made anew, from the same CA.
    due = _cert(more.server_cert).not_valid_after_utc - RENEW_BEFORE + timedelta(days=1)
    renewed = ensure_certificates(folder, ["localhost"], now=due)
    assert renewed.made
    assert _cert(renewed.server_cert).not_valid_after_utc > due + RENEW_BEFORE
    assert renewed.ca_cert.read_bytes() == before["ca_cert"]


def test_without_the_ca_key_a_good_certificate_is_kept_and_none_is_issued(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "certs"
    certs = ensure_certificates(folder, ["localhost"])
    certs.ca_key.rename(tmp_path / "ca.key.offline")  # as the docs advise
    assert ensure_certificates(folder, ["localhost"]).made == ()
    with pytest.raises(CertificateError, match=r"the CA's key is not at .*ca\.key"):
        ensure_certificates(folder, ["localhost", "mqtt.example"])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("ca_cert", r"ca\.crt: not a PEM certificate"),
        ("server_cert", r"server\.crt: not a PEM certificate"),
        ("server_key", r"server\.key: not an unencrypted PEM private key"),
        ("ca_key", r"ca\.key: not an unencrypted PEM private key"),
    ],
)
def test_a_damaged_file_is_named(tmp_path: Path, damage: str, message: str) -> None:
    certs = ensure_certificates(tmp_path / "certs", ["localhost"])
    getattr(certs, damage).write_text("garbage\n")
    with pytest.raises(CertificateError, match=message):
        ensure_certificates(tmp_path / "certs", ["localhost"])


def test_a_ca_key_that_is_not_the_certificates_is_refused(tmp_path: Path) -> None:
    certs = ensure_certificates(tmp_path / "certs", ["localhost"])
    other = ensure_certificates(tmp_path / "other", ["localhost"])
    certs.ca_key.write_bytes(other.ca_key.read_bytes())
    with pytest.raises(CertificateError, match=r"is not the key of .*ca\.crt"):
        ensure_certificates(tmp_path / "certs", ["localhost"])


@pytest.mark.parametrize(
    ("hosts", "message"),
    [
        ([], "at least one host"),
        (["bad host"], "neither a DNS name"),
        (["-lead.example"], "neither a DNS name"),
        (["a" * 64 + ".example"], "neither a DNS name"),
        (["ok.example", "under_score.example"], "under_score"),
        ([f"h{i}.example" for i in range(51)], "at most 50"),
    ],
)
def test_bad_host_names_say_why(tmp_path: Path, hosts: list[str], message: str) -> None:
    with pytest.raises(CertificateError, match=message):
        ensure_certificates(tmp_path / "certs", hosts)
    assert not (tmp_path / "certs").exists(), "nothing is made from a bad request"


def test_listener_lines_for_mosquitto(tmp_path: Path) -> None:
    certs = ensure_certificates(tmp_path / "certs", ["localhost"])
    assert tls_listener_lines(certs, port=8884, bind="127.0.0.1") == [
        "listener 8884 127.0.0.1",
        f"cafile {certs.ca_cert}",
        f"certfile {certs.server_cert}",
        f"keyfile {certs.server_key}",
        "tls_version tlsv1.2",
        "require_certificate false",
    ]
    assert tls_listener_lines(certs)[0] == "listener 8883"


def test_mosquitto_will_not_start_with_a_broken_key(tmp_path: Path) -> None:
    """The test broker lists its TLS listener first: a key Mosquitto cannot load stops it."""
    certs = ensure_certificates(tmp_path / "certs", ["localhost"])
    certs.server_key.write_text("garbage\n")
    broker = make_broker(tmp_path / "mosquitto", tls=certs)
    try:
        with pytest.raises(RuntimeError, match="mosquitto exited"):
            broker.start()
    finally:
        broker.kill()


def test_the_command_says_what_it_made_and_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "certs"
    assert main(["--out", str(out), "--host", "mqtt.example", "--host", "10.0.0.9"]) == 0
    first = capsys.readouterr().out
    assert "made: CA certificate" in first
    assert "made: server certificate for mqtt.example, 10.0.0.9" in first
    assert f"HUB_MQTT_CA_FILE): {out / 'ca.crt'}" in first
    assert f"keyfile {out / 'server.key'}" in first
    assert main(["--out", str(out), "--host", "mqtt.example"]) == 0
    assert "nothing to do" in capsys.readouterr().out

    assert main(["--out", str(tmp_path / "x"), "--host", "no such host"]) == 1
    assert "'no such host' is neither a DNS name" in capsys.readouterr().err


def test_a_clock_far_ahead_does_not_reissue_the_ca(tmp_path: Path) -> None:
    """A CA near its end is refused, never silently replaced: every edge trusts it."""
    certs = ensure_certificates(tmp_path / "certs", ["localhost"])
    late = _cert(certs.ca_cert).not_valid_after_utc - timedelta(days=1)
    with pytest.raises(CertificateError, match="make a new CA"):
        ensure_certificates(tmp_path / "certs", ["localhost"], now=late.astimezone(UTC))
    assert datetime.now(UTC) < late


def _served_certificate(port: int) -> x509.Certificate:
    pem = ssl.get_server_certificate(("127.0.0.1", port))  # what the listener presents, unverified
    return x509.load_pem_x509_certificate(pem.encode())


def test_a_renewed_server_certificate_is_served_after_sighup_and_clients_stay(
    tmp_path: Path,
) -> None:
    """Rotation as docs/security.md tells it: renew, SIGHUP; the connected client stays, a new one
    verifies the new certificate, and the edges' CA does not change."""
    certs = ensure_certificates(tmp_path / "certs", ["localhost"])
    broker = make_broker(tmp_path / "mosquitto", tls=certs)
    broker.start()
    endpoint = BrokerEndpoint.parse(broker.tls_url, ca_file=certs.ca_cert)
    user, password = ACCOUNTS.hub
    received: list[bytes] = []

    def connection(name: str, subscriptions: list[str]) -> HubConnection:
        return HubConnection(
            name,
            SessionOptions(
                client_id=f"{name}-{uuid.uuid4().hex[:6]}", username=user, password=password
            ),
            endpoint,
            subscriptions=subscriptions,
            on_message=lambda message: received.append(message.payload),
        )

    topic = topics.status("centre-01")
    before = connection("before", [topic])
    after = connection("after", [])
    try:
        before.start()
        assert before.wait_ready(10)
        old = _cert(certs.server_cert)
        assert _served_certificate(broker.tls_port or 0) == old

        certs.server_cert.unlink()
        certs.server_key.unlink()
        renewed = ensure_certificates(tmp_path / "certs", ["localhost"])
        assert [m.split(" for")[0] for m in renewed.made] == ["server certificate"]
        new = _cert(renewed.server_cert)
        assert new != old
        assert broker.process is not None
        broker.process.send_signal(signal.SIGHUP)
        wait_until(
            lambda: _served_certificate(broker.tls_port or 0) == new,
            what="Mosquitto to serve the renewed certificate",
        )

        after.start()
        assert after.wait_ready(10), "a new client verifies the renewed certificate"
        assert before.connected
        assert after.publish_and_wait(topic, b"after the rotation", timeout=10)
        wait_until(lambda: b"after the rotation" in received, what="the old connection to hear it")
    finally:
        after.close()
        before.close()
        broker.kill()
