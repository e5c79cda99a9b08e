from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import ConfigError, load_settings

GOOD = """
site = "centre-01"
card_key = "0123456789abcdef0123"
[mqtt]
url = "mqtt://127.0.0.1:1883"
password = "pw"
[[devices]]
id = "reader-1"
port = "/dev/ttyUSB0"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "edge.toml"
    path.write_text(text)
    return path


def test_good_config_loads(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.mqtt_username == "centre-01"
    assert settings.devices[0].baudrate == 9600


def test_secret_may_come_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGE_MQTT__PASSWORD", "from-env")
    text = GOOD.replace('password = "pw"\n', "")
    settings = load_settings(write(tmp_path, text))
    assert settings.mqtt.password is not None
    assert settings.mqtt.password.get_secret_value() == "from-env"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace('password = "pw"\n', ""), "production mode needs mqtt.password"),
        (GOOD.replace("0123456789abcdef0123", "short"), "card_key must be at least 16 bytes"),
        (GOOD.replace('site = "centre-01"', 'site = "Centre 01"'), "site"),
        (GOOD + '[[devices]]\nid = "reader-1"\nport = "/dev/x"\n', "device ids must be unique"),
        ("site = [", "not valid TOML"),
    ],
)
def test_bad_config_says_why(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "nope.toml")
