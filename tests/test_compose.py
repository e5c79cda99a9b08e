"""docker-compose.yml is valid by the compose specification, and its ACL is the contract's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from hub.broker.mosquitto import contract_acl

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


def test_compose_acl_matches_the_contract() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    acl = compose["configs"]["mosquitto_acl"]["content"]
    assert acl.strip() == contract_acl(hub_users=["hub"]).strip()


def test_production_secrets_have_no_defaults() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["services"]["hub"]["environment"]
    assert env["HUB_MODE"] == "production"
    for key in ("HUB_MQTT_PASSWORD", "HUB_CARD_KEY"):
        assert ":?" in env[key], f"{key} must be required, not defaulted"
