"""Settings: environment prefix, validation, no default secrets in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from hub.core.settings import HubSettings


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_MODE", "demo")  # the defaults of everything else, without secrets
    settings = HubSettings()
    assert settings.database_url == "sqlite:///data/hub.db"
    assert settings.mqtt_protocol == "5"
    assert settings.receive_maximum == 5000
    monkeypatch.setenv("HUB_MQTT_URL", "mqtts://broker.example:8884")
    monkeypatch.setenv("HUB_MQTT_SHARED_GROUP", "hub")
    monkeypatch.setenv("HUB_BATCH_MAX", "2000")
    settings = HubSettings()
    assert (settings.broker.host, settings.broker.port, settings.broker.tls) == (
        "broker.example",
        8884,
        True,
    )
    assert settings.mqtt_shared_group == "hub"
    assert settings.batch_max == 2000


def test_production_needs_a_broker_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_MODE", "production")
    with pytest.raises(ValidationError, match="HUB_MQTT_PASSWORD"):
        HubSettings()
    monkeypatch.setenv("HUB_MQTT_PASSWORD", "s3cret")
    with pytest.raises(ValidationError, match="HUB_CARD_KEY"):
        HubSettings()
    monkeypatch.setenv("HUB_CARD_KEY", "short")
    with pytest.raises(ValidationError, match="at least 16 bytes"):
        HubSettings()
    monkeypatch.setenv("HUB_CARD_KEY", "a-card-key-of-24-bytes!!")
    with pytest.raises(ValidationError, match="HUB_CARD_PRIVATE_KEY_FILE"):
        HubSettings()
    monkeypatch.setenv("HUB_CARD_PRIVATE_KEY_FILE", "/etc/yp/card-key")
    settings = HubSettings()
    assert settings.mqtt_password is not None
    assert settings.card_key_bytes() == b"a-card-key-of-24-bytes!!"
    assert "a-card-key" not in settings.describe()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mqtt_url", "http://broker:1883", "mqtt://host:port"),
        ("mqtt_url", "mqtt://user:pw@broker", "credentials"),
        ("database_url", "mysql://x/y", "SQLite and PostgreSQL"),
        ("mqtt_protocol", "4", "mqtt_protocol"),
        ("receive_maximum", 70000, "receive_maximum"),
        ("mqtt_shared_group", "a/b", "mqtt_shared_group"),
    ],
)
def test_invalid_settings_say_what_is_wrong(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        HubSettings.model_validate({"mode": "demo", field: value})


def test_description_hides_the_database_password() -> None:
    settings = HubSettings(
        mode="demo",
        database_url="postgresql+psycopg://hub:topsecret@db.example/hub",
        mqtt_password=SecretStr("brokersecret"),
    )
    text = settings.describe()
    assert "topsecret" not in text
    assert "brokersecret" not in text
    assert "db.example/hub" in text


def test_the_default_mode_is_production(monkeypatch: pytest.MonkeyPatch) -> None:
    """A forgotten HUB_MODE is production: secrets required, the cookie Secure, no city-wide
    card hashes; only an explicit HUB_MODE=demo relaxes it."""
    for name in ("HUB_MODE", "HUB_MQTT_PASSWORD", "HUB_CARD_KEY", "HUB_CARD_PRIVATE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError, match="production mode needs a broker password"):
        HubSettings()
    settings = HubSettings(
        mqtt_password=SecretStr("s3cret"),
        card_key=SecretStr("a-card-key-of-24-bytes!!"),
        card_private_key_file=Path("/etc/yp/card-key"),
    )
    assert settings.mode == "production"
    assert settings.session_cookie_secure
    assert not settings.accepts_city_card_hash
    monkeypatch.setenv("HUB_MODE", "demo")
    demo = HubSettings()
    assert (demo.mode, demo.session_cookie_secure, demo.accepts_city_card_hash) == (
        "demo",
        False,
        True,
    )


def test_secrets_come_from_files_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HUB_SECRETS_DIR (compose's /run/secrets): each file named after its variable."""
    (tmp_path / "hub_mqtt_password").write_text("from-a-file\n")
    (tmp_path / "hub_card_key").write_text("a-card-key-of-24-bytes!!\n")
    monkeypatch.setenv("HUB_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("HUB_CARD_PRIVATE_KEY_FILE", "/etc/yp/card-key")
    for name in ("HUB_MODE", "HUB_MQTT_PASSWORD", "HUB_CARD_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = HubSettings()
    assert settings.mqtt_password == SecretStr("from-a-file")
    assert settings.card_key_bytes() == b"a-card-key-of-24-bytes!!"
    monkeypatch.setenv("HUB_MQTT_PASSWORD", "from-the-environment")
    assert HubSettings().mqtt_password == SecretStr("from-the-environment")
    monkeypatch.setenv("HUB_SECRETS_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(ValidationError, match=r"HUB_SECRETS_DIR=.*nowhere: not a directory"):
        HubSettings()


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("127.0.0.1,::1", True),
        ("172.28.80.2", True),
        ("172.28.80.0/28, 10.0.0.5", True),
        ("*", True),
        ("proxy.example", False),
        ("172.28.80.0/33", False),
    ],
)
def test_the_proxies_the_hub_believes_are_addresses_or_networks(value: str, accepted: bool) -> None:
    if accepted:
        assert HubSettings(mode="demo", forwarded_allow_ips=value).forwarded_allow_ips == value
    else:
        with pytest.raises(ValidationError, match=r"HUB_FORWARDED_ALLOW_IPS: .* not an address"):
            HubSettings(mode="demo", forwarded_allow_ips=value)
