"""HUB_MQTT_CA_FILE: the broker's CA at the hub, checked when the settings load; and the warning of a
production hub that reaches a broker on another machine without TLS."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from pydantic import SecretStr, ValidationError

import edge.broker_tls
import hub.core.broker_tls
from hub.broker.tls import ensure_certificates
from hub.core.settings import HubSettings
from mqtt_contract.tls import MAX_CA_BYTES


def test_the_ca_file_goes_with_every_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = ensure_certificates(tmp_path, ["mqtt.example"]).ca_cert
    monkeypatch.setenv("HUB_MQTT_URL", "mqtts://mqtt.example")
    monkeypatch.setenv("HUB_MQTT_CA_FILE", str(ca))
    monkeypatch.setenv("HUB_MODE", "demo")  # no secrets needed to read the broker's settings
    settings = HubSettings()
    assert (settings.broker.port, settings.broker.tls, settings.broker.ca_file) == (8883, True, ca)
    assert f"(CA {ca})" in settings.describe()


@pytest.mark.parametrize(
    ("url", "content", "message"),
    [
        ("mqtt://mqtt.example:1883", None, "is plain mqtt://: use mqtts://"),
        ("mqtts://mqtt.example", "no certificate here", "holds no PEM certificate"),
        ("mqtts://mqtt.example", "", "holds no PEM certificate"),
    ],
)
def test_a_ca_file_that_cannot_be_used_says_why(
    tmp_path: Path, url: str, content: str | None, message: str
) -> None:
    ca = ensure_certificates(tmp_path, ["mqtt.example"]).ca_cert
    if content is not None:
        ca = tmp_path / "garbage.pem"
        ca.write_text(content)
    with pytest.raises(ValidationError, match=message):
        HubSettings(mode="demo", mqtt_url=url, mqtt_ca_file=ca)


def test_a_missing_ca_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"CA file .*nowhere\.pem: cannot read it"):
        HubSettings(
            mode="demo", mqtt_url="mqtts://mqtt.example", mqtt_ca_file=tmp_path / "nowhere.pem"
        )


def _production(url: str) -> HubSettings:
    return HubSettings(
        mode="production",
        mqtt_url=url,
        mqtt_password=SecretStr("pw"),
        card_key=SecretStr("a-card-key-of-24-bytes!!"),
        card_private_key_file=Path("/etc/yp/card-key"),
    )


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("mqtt://mosquitto:1883", True),
        ("mqtt://10.0.0.7:1883", True),
        ("mqtt://127.0.0.1:1883", False),
        ("mqtt://localhost:1883", False),
        ("mqtt://[::1]:1883", False),
        ("mqtts://mosquitto:8883", False),
    ],
)
def test_production_warns_of_a_plain_broker_on_another_machine(url: str, warned: bool) -> None:
    warning = _production(url).plain_broker_warning()
    assert (warning is not None) == warned
    if warning:
        assert url.removeprefix("mqtt://") in warning
        assert "without TLS" in warning
    demo = HubSettings(mode="demo", mqtt_url=url)
    assert demo.plain_broker_warning() is None


@pytest.mark.parametrize("helper", [edge.broker_tls, hub.core.broker_tls])
def test_the_edge_and_the_hub_read_a_ca_file_alike(tmp_path: Path, helper: ModuleType) -> None:
    """The edge and the hub read a CA file through the contract's one reader."""
    good = ensure_certificates(tmp_path / "certs", ["mqtt.example"]).ca_cert
    context = helper.tls_context(good)
    assert len(context.get_ca_certs()) == 1
    assert helper.tls_context(None).check_hostname
    huge = tmp_path / "huge.pem"
    huge.write_bytes(b"-" * (MAX_CA_BYTES + 1))
    for path, message in [
        (tmp_path / "nowhere.pem", "cannot read it: No such file"),
        (huge, "over 1048576 bytes"),
        (tmp_path, "cannot read it: Is a directory"),
    ]:
        with pytest.raises(ValueError, match=message):
            helper.tls_context(path)
