from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import (
    BaySensorSettings,
    ConfigError,
    PeopleCounterSettings,
    SignSettings,
    load_settings,
)

GOOD = """
site = "centre-01"
site_card_key = "0123456789abcdef0123"
hub_card_public_key = "7/LxDwJf29tIPFzSlzdM0FGeZWnyUnBcUDjJ43IHaBw="
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
        (GOOD.replace("0123456789abcdef0123", "short"), "site_card_key must be at least 16 bytes"),
        (
            GOOD.replace("site_card_key", "card_key"),
            "card_key .the city-wide key. no longer belongs",
        ),
        (GOOD.replace("7/LxDwJf29tI", "7/LxDwJf"), "hub_card_public_key must be 32 bytes"),
        (GOOD.replace("7/LxDwJf29", "7/Lx!wJf29"), "hub_card_public_key must be base64"),
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


VENUE = """
site = "venue-01"
site_card_key = "0123456789abcdef0123"
hub_card_public_key = "7/LxDwJf29tIPFzSlzdM0FGeZWnyUnBcUDjJ43IHaBw="
[mqtt]
password = "pw"
[[devices]]
id = "gate-1"
kind = "people_counter"
port = "/dev/ttyUSB0"
unit_id = 1
[[devices]]
id = "bays-1"
kind = "bay_sensor"
port = "/dev/ttyUSB0"
unit_id = 2
bays = 48
poll_interval_s = 2.0
"""


def test_venue_devices_share_a_line(tmp_path: Path) -> None:
    counter, bays = load_settings(write(tmp_path, VENUE)).devices
    assert isinstance(counter, PeopleCounterSettings)
    assert (counter.unit_id, counter.poll_interval_s, counter.keepalive_s) == (1, 1.0, 60.0)
    assert isinstance(bays, BaySensorSettings)
    assert (bays.bays, bays.poll_interval_s) == (48, 2.0)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('kind = "bay_sensor"', 'kind = "thermometer"', "does not match any of the expected"),
        ("unit_id = 2", "unit_id = 1", "unit ids on one line must differ"),
        ("unit_id = 2", "unit_id = 248", "less than or equal to 247"),
        ("bays = 48", "bays = 2001", "less than or equal to 2000"),
        ("bays = 48\n", "", "bays: Field required"),
        ("bays = 48", "bays = 48\nbaudrate = 19200", "need the same baudrate"),
        ('id = "gate-1"', 'id = "gate-1"\nparity = "E"', "Extra inputs are not permitted"),
    ],
)
def test_bad_venue_devices_say_why(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in VENUE
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, VENUE.replace(old, new, 1)))


def test_a_card_reader_does_not_share_its_port(tmp_path: Path) -> None:
    text = VENUE + '[[devices]]\nid = "reader-1"\nport = "/dev/ttyUSB0"\n'
    with pytest.raises(ConfigError, match="a card reader cannot share its port"):
        load_settings(write(tmp_path, text))


def test_a_card_readers_release_time_is_set_per_reader_and_bounded(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.devices[0].release_s == 0.3  # type: ignore[union-attr]
    slow = GOOD.replace('port = "/dev/ttyUSB0"\n', 'port = "/dev/ttyUSB0"\nrelease_s = 1.5\n')
    assert load_settings(write(tmp_path, slow)).devices[0].release_s == 1.5  # type: ignore[union-attr]
    for bad in ("0", "-1", "61"):
        text = GOOD.replace(
            'port = "/dev/ttyUSB0"\n', f'port = "/dev/ttyUSB0"\nrelease_s = {bad}\n'
        )
        with pytest.raises(ConfigError, match="release_s"):
            load_settings(write(tmp_path, text))


SIGN = '[[devices]]\nid = "sign-1"\nkind = "sign"\nport = "/dev/ttyUSB0"\nunit_id = 3\n'


def test_a_sign_shares_the_venue_line(tmp_path: Path) -> None:
    *_, sign = load_settings(write(tmp_path, VENUE + SIGN)).devices
    assert isinstance(sign, SignSettings)
    assert (sign.port, sign.unit_id, sign.poll_interval_s, sign.degraded_after) == (
        "/dev/ttyUSB0",
        3,
        5.0,
        3,
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("unit_id = 3", "unit_id = 2", "unit ids on one line must differ"),
        ("unit_id = 3", "unit_id = 3\nkeepalive_s = 30.0", "keepalive_s: Extra inputs"),
        ("unit_id = 3", "unit_id = 3\nbaudrate = 19200", "need the same baudrate"),
        ("unit_id = 3", "unit_id = 3\npoll_interval_s = 0", "greater than 0"),
    ],
)
def test_bad_signs_say_why(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, VENUE + SIGN.replace(old, new)))
