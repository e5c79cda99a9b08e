"""``community site`` and ``community broker-config`` on bad input: each refusal says why, and
leaves the registry (and a site's working password) as it was. Registry only (``--no-broker``)
unless the broker is the point; on SQLite and PostgreSQL."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from community.cli import main as community
from edge.config import load_settings
from hub.broker.tls import ensure_certificates
from hub.core.settings import HubSettings
from hub.sites.models import SiteAccount
from tests.hub.org.support import City
from tests.hub.support import CARD_KEY, CARD_KEYS, card_key_file

READER = "reader-1=card_reader:/dev/serial/by-id/usb-FTDI_FT232R_A1-if00-port0"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, db_settings: HubSettings, tmp_path: Path) -> Path:
    for name, value in {
        "HUB_DATABASE_URL": db_settings.database_url,
        "HUB_MQTT_URL": "mqtt://hub.example:1883",
        "HUB_CARD_KEY": CARD_KEY.decode(),
        "HUB_CARD_PRIVATE_KEY_FILE": str(card_key_file(tmp_path)),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HUB_BROKER_ADMIN_PASSWORD", raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = community(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def site_row(engine: Engine, site: str) -> SiteAccount | None:
    with Session(engine) as session:
        return session.get(SiteAccount, site)


def test_bad_ids_unknown_records_and_mismatches_are_refused(
    city: City, env: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    city.add_centre("broker-admin", city.add_community("C02", "康乐社区"))
    city.commit()
    cases = [
        (["Centre 01", "--kind", "centre"], "is not a site id"),
        (["centre-09", "--kind", "centre"], "no service centre 'centre-09' in the records"),
        (["centre-01", "--kind", "venue"], "no venue 'centre-01' in the records"),
        (["centre-01", "--kind", "centre", "--centre", "centre-02"], "names another record"),
        (["centre-01", "--kind", "centre", "--venue", "venue-01"], "drop --centre/--venue"),
        (["broker-admin", "--kind", "centre"], "privileged broker account"),
        (["centre-01", "--kind", "centre", "--bundle", str(env / "b")], "needs the site's devices"),
    ]
    for args, message in cases:
        code, _, err = run(capsys, "site", "add", *args, "--no-broker")
        assert code == 1, args
        assert message in err, (args, err)
    assert site_row(engine, "centre-01") is None, "a refused add left a row"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("reader-1", "write ID=KIND:PORT"),
        ("Reader=card_reader:/dev/ttyUSB0", "device id 'Reader'"),
        ("r=scanner:/dev/ttyUSB0", "kind 'scanner' is not one of"),
        ("r=card_reader:ttyUSB0", "not an absolute device path"),
        ("g=people_counter:/dev/ttyUSB0", "a people_counter needs unit_id"),
        ("g=people_counter:/dev/ttyUSB0,unit_id=300", "unit_id '300' is out of range"),
        ("g=people_counter:/dev/ttyUSB0,unit_id=x", "unit_id must be a number"),
        ("b=bay_sensor:/dev/ttyUSB0,unit_id=2,colour=red", "bay_sensor has no option 'colour'"),
        ("r=card_reader:/dev/ttyUSB0,unit_id", "is not KEY=VALUE"),
    ],
)
def test_bad_device_specs_are_refused_where_they_enter(
    spec: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        community(["site", "add", "centre-01", "--kind", "centre", "--device", spec])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


def test_devices_that_cannot_share_a_line_are_refused(
    city: City, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = "/dev/serial/by-id/usb-1a86-if00"
    for devices, message in [
        ([READER, READER], "device ids must be unique"),
        (
            [f"g=people_counter:{line},unit_id=1", f"b=bay_sensor:{line},unit_id=1,bays=4"],
            "unit ids on one line must differ",
        ),
        ([f"r=card_reader:{line}", f"g=people_counter:{line},unit_id=1"], "cannot share"),
    ]:
        flags = [arg for d in devices for arg in ("--device", d)]
        code, _, err = run(
            capsys, "site", "add", "centre-01", "--kind", "centre", *flags, "--no-broker"
        )
        assert code == 1
        assert message in err


def test_duplicates_revoked_sites_and_reinstating(
    city: City, env: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ["site", "add", "centre-01", "--kind", "centre", "--device", READER, "--no-broker"]
    assert run(capsys, *add)[0] == 0
    code, _, err = run(capsys, *add)
    assert code == 1
    assert "already provisioned" in err
    assert run(capsys, "site", "revoke", "centre-01", "--no-broker")[0] == 0
    for action in (["rotate"], ["revoke"], ["bundle", "--out", str(env / "b")]):
        code, _, err = run(capsys, "site", action[0], "centre-01", *action[1:], "--no-broker")
        assert code == 1, action
        assert "was revoked on" in err
    code, _, err = run(capsys, *add)
    assert (code, "add --reinstate" in err) == (1, True)
    assert not (env / "b").exists(), "a refused bundle was written"
    code, out, _ = run(capsys, *add, "--reinstate")
    assert code == 0
    assert "credentials version 2" in out
    row = site_row(engine, "centre-01")
    assert row is not None
    assert (row.state, row.revoked_at, row.devices[0]["id"]) == ("active", None, "reader-1")
    code, _, err = run(capsys, "site", "rotate", "centre-09", "--no-broker")
    assert (code, "no site 'centre-09' in the registry" in err) == (1, True)


def test_a_failed_change_leaves_the_password_as_it_was(
    city: City,
    env: Path,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        run(
            capsys,
            "site",
            "add",
            "centre-01",
            "--kind",
            "centre",
            "--device",
            READER,
            "--no-broker",
        )[0]
        == 0
    )
    before = site_row(engine, "centre-01")
    assert before is not None
    # No admin account: the broker cannot be changed, so nothing is.
    code, _, err = run(capsys, "site", "rotate", "centre-01")
    assert code == 1
    assert "HUB_BROKER_ADMIN_PASSWORD" in err
    # No card keys: the bundle could not be written, so no new password is made.
    monkeypatch.delenv("HUB_CARD_KEY")
    code, _, err = run(
        capsys, "site", "bundle", "centre-01", "--out", str(env / "b"), "--no-broker"
    )
    assert code == 1
    assert "HUB_CARD_KEY" in err
    after = site_row(engine, "centre-01")
    assert after is not None
    assert (after.password_hash, after.credentials_version) == (
        before.password_hash,
        before.credentials_version,
    )


def test_the_bundle_is_an_edge_config_and_a_new_password_each_time(
    city: City,
    env: Path,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HUB_EDGE_MQTT_URL", "mqtt://broker.city.example:1883")
    assert run(capsys, "site", "add", "centre-01", "--kind", "centre", "--no-broker")[0] == 0
    code, _, err = run(
        capsys, "site", "bundle", "centre-01", "--out", str(env / "b"), "--no-broker"
    )
    assert (code, "has no devices" in err) == (1, True)
    gate = "gate-1=people_counter:/dev/ttyUSB0,unit_id=1,poll_interval_s=0.5"
    code, _, err = run(
        capsys, "site", "bundle", "centre-01", "--out", str(env / "b"), "--device", gate,
        "--install-dir", "/etc/yp-edge", "--no-broker",
    )  # fmt: skip
    assert code == 0, err
    assert "/dev/ttyUSB0 is not a stable /dev/serial/by-id/ path" in err
    first = load_settings(env / "b" / "edge.toml")
    assert (first.site, first.mode, first.mqtt_username) == ("centre-01", "production", "centre-01")
    assert first.mqtt.url == "mqtt://broker.city.example:1883"
    assert str(first.outbox_path) == "/etc/yp-edge/outbox.db"
    assert first.site_card_key.get_secret_value() == CARD_KEYS.site_key("centre-01")
    assert first.hub_card_public_key == CARD_KEYS.public_key
    assert [(d.id, d.kind, d.port) for d in first.devices] == [
        ("gate-1", "people_counter", "/dev/ttyUSB0")
    ]
    assert CARD_KEY.decode() not in (env / "b" / "edge.toml").read_text(), "the city key leaked"
    assert (env / "b").stat().st_mode & 0o777 == 0o700
    assert not (env / "b" / "ca.crt").exists()

    # A bundle issues new credentials: the stored hash changes with the password.
    row = site_row(engine, "centre-01")
    assert row is not None
    ca = ensure_certificates(env / "certs", ["broker.city.example"]).ca_cert
    monkeypatch.setenv("HUB_MQTT_CA_FILE", str(ca))
    monkeypatch.setenv("HUB_MQTT_URL", "mqtts://broker.city.example:8883")
    monkeypatch.setenv("HUB_EDGE_MQTT_URL", "mqtts://broker.city.example:8883")
    assert (
        run(capsys, "site", "bundle", "centre-01", "--out", str(env / "c"), "--no-broker")[0] == 0
    )
    second = tomllib.loads((env / "c" / "edge.toml").read_text())
    assert load_settings(env / "c" / "edge.toml").mqtt.ca_file == (env / "c" / "ca.crt").absolute()
    assert second["mqtt"]["password"] != first.mqtt.password.get_secret_value()  # type: ignore[union-attr]
    assert second["mqtt"]["ca_file"] == str((env / "c" / "ca.crt").absolute())
    assert (env / "c" / "ca.crt").read_text() == ca.read_text()
    assert (env / "c" / "ca.crt").stat().st_mode & 0o777 == 0o600
    again = site_row(engine, "centre-01")
    assert again is not None
    assert again.credentials_version == row.credentials_version + 1
    assert again.password_hash != row.password_hash
    assert again.password_hash.startswith("$7$101$")


def test_broker_config_needs_both_passwords(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "broker-config", "--out", str(env / "broker"))
    assert code == 1
    assert "HUB_MQTT_PASSWORD and HUB_BROKER_ADMIN_PASSWORD" in err
    assert not (env / "broker").exists()


def test_broker_config_refuses_a_tls_listener_that_is_not_a_port(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        community(
            ["broker-config", "--out", str(env / "broker"), "--tls-dir", str(env / "certs"),
             "--tls-listener", "eighty-eight"]
        )  # fmt: skip
    assert stopped.value.code == 2
    assert "--tls-listener: 'eighty-eight' is not `PORT [ADDRESS]`" in capsys.readouterr().err
    assert not (env / "broker").exists()
