"""``mqtt.ca_file``: the broker's CA at an edge. Verified when the config is loaded, so a wrong
file is named before the agent starts; only with an mqtts:// URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import ConfigError, load_settings
from hub.broker.tls import ensure_certificates
from tests.edge.test_config import GOOD, write

TLS = GOOD.replace('url = "mqtt://127.0.0.1:1883"', 'url = "mqtts://mqtt.example"')


def test_a_relative_ca_file_is_beside_the_config(tmp_path: Path) -> None:
    certs = ensure_certificates(tmp_path / "certs", ["mqtt.example"])
    (tmp_path / "broker-ca.crt").write_bytes(certs.ca_cert.read_bytes())
    text = TLS.replace('password = "pw"', 'password = "pw"\nca_file = "broker-ca.crt"')
    settings = load_settings(write(tmp_path, text))
    endpoint = settings.mqtt.endpoint
    assert (endpoint.host, endpoint.port, endpoint.tls) == ("mqtt.example", 8883, True)
    assert endpoint.ca_file == tmp_path / "broker-ca.crt"


def test_mqtts_without_a_ca_file_trusts_the_system_store(tmp_path: Path) -> None:
    endpoint = load_settings(write(tmp_path, TLS)).mqtt.endpoint
    assert endpoint.tls
    assert endpoint.ca_file is None


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("plain", r"broker URL mqtt://127\.0\.0\.1:1883 is plain mqtt://: use mqtts://"),
        ("missing", r"CA file .*ca\.crt: cannot read it: No such file"),
        ("garbage", r"CA file .*ca\.crt holds no PEM certificate"),
        ("broken", r"CA file .*ca\.crt: not a usable PEM certificate"),
        ("huge", r"CA file .*ca\.crt: over 1048576 bytes"),
    ],
)
def test_a_ca_file_that_cannot_be_used_says_why(tmp_path: Path, setup: str, message: str) -> None:
    ca = tmp_path / "ca.crt"
    text = TLS
    if setup == "plain":
        ensure_certificates(tmp_path / "certs", ["x.example"]).ca_cert.rename(ca)
        text = GOOD
    elif setup == "garbage":
        ca.write_text("not a certificate\n")
    elif setup == "broken":
        ca.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    elif setup == "huge":
        ca.write_bytes(b"-" * (1024 * 1024 + 1))
    text = text.replace('password = "pw"', f'password = "pw"\nca_file = "{ca}"')
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, text))
