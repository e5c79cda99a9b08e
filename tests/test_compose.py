"""docker-compose.yml is valid by the compose specification, and its broker ACL is the contract's."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hub.broker.acl import contract_acl, edge_client_ids
from hub.broker.dynsec import dynsec_config, hash_password, parse_passwd
from hub.broker.dynsec import main as dynsec_main

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_validates_against_the_compose_spec() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(ROOT / "docker-compose.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_broker_takes_its_accounts_and_acl_from_the_contract(tmp_path: Path) -> None:
    """mosquitto-accounts writes the dynamic-security config the contract's ACL renders, into the
    volume the broker reads it from, before the broker starts; no acl_file or password_file is
    left to widen it. (tests/hub/test_broker_acl.py runs this configuration natively.)"""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    conf = compose["configs"]["mosquitto_conf"]["content"].splitlines()
    assert "allow_anonymous false" in conf
    assert "plugin /usr/lib/mosquitto_dynamic_security.so" in conf
    assert not [line for line in conf if line.startswith(("acl_file", "password_file"))]
    (config_file,) = [line.split()[1] for line in conf if line.startswith("plugin_opt_config_file")]

    accounts = compose["services"]["mosquitto-accounts"]
    broker = compose["services"]["mosquitto"]
    assert broker["depends_on"]["mosquitto-accounts"]["condition"] == (
        "service_completed_successfully"
    )
    command = accounts["command"]
    assert command[:3] == ["python", "-m", "hub.broker.dynsec"]
    options = dict(zip(command[3::2], command[4::2], strict=True))
    assert options["--out"] == config_file
    shared = set(accounts["volumes"]) & set(broker["volumes"])
    assert any(config_file.startswith(v.split(":")[1] + "/") for v in shared)

    # What the command writes from a password file is the contract's ACL, edges bound.
    users = ["hub", "centre-01", "venue-07"]
    lines = []
    for user in users:
        h = hash_password(f"{user}-secret")
        salt, digest = base64.b64encode(h.salt).decode(), base64.b64encode(h.digest).decode()
        lines.append(f"{user}:$7${h.iterations}${salt}${digest}")
    passwd = tmp_path / "mosquitto.passwd"
    passwd.write_text("\n".join(lines) + "\n")
    out = tmp_path / "dynamic-security.json"
    args = [*command[3:]]
    args[args.index("--passwd") + 1] = str(passwd)
    args[args.index("--out") + 1] = str(out)
    assert dynsec_main(args) == 0
    written = json.loads(out.read_text())
    acl = contract_acl(hub_users=[options["--hub-user"]])
    expected = dynsec_config(acl, parse_passwd(passwd.read_text()), edge_client_ids(acl, users))
    assert written == expected
    bound = {c["username"]: c.get("clientid") for c in written["clients"]}
    assert bound == {"hub": None, "centre-01": "edge-centre-01", "venue-07": "edge-venue-07"}
    assert (out.stat().st_mode & 0o777) == 0o600


def test_a_password_entry_the_plugin_cannot_read_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"'centre-01'.*\$7\$"):
        parse_passwd("centre-01:$6$salt$hash\n")


def test_production_secrets_have_no_defaults() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["services"]["hub"]["environment"]
    assert env["HUB_MODE"] == "production"
    for key in ("HUB_MQTT_PASSWORD", "HUB_CARD_KEY"):
        assert ":?" in env[key], f"{key} must be required, not defaulted"
    key_file = env["HUB_CARD_PRIVATE_KEY_FILE"]  # production refuses to start without it
    assert f"./secrets/card-key:{key_file}:ro" in compose["services"]["hub"]["volumes"]
