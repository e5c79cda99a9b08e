"""docker-compose.yml is valid by the compose specification, and its broker ACL is the contract's;
the image it builds installs the hub's extra alone, from a context without the demo."""

from __future__ import annotations

import ast
import base64
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from hatchling.builders.wheel import WheelBuilder

from hub.broker.acl import contract_acl, edge_client_ids
from hub.broker.dynsec import dynsec_config, hash_password, parse_passwd
from hub.broker.dynsec import main as dynsec_main
from hub.broker.tls import certificate_paths, tls_listener_lines
from mqtt_contract.session import BrokerEndpoint

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


def test_compose_broker_listens_with_tls_and_the_hub_verifies_it() -> None:
    """The 8883 listener is the one `community broker-certs` prints, on the files it makes; the
    hub dials it by a name the certificate must carry, with the CA; 1883 stays on loopback.
    (tests/hub/test_broker_acl.py runs this listener natively.)"""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    conf = compose["configs"]["mosquitto_conf"]["content"].splitlines()
    inside = certificate_paths(Path("/mosquitto/certs"))
    start = conf.index("listener 8883")
    assert conf[start : start + 6] == tls_listener_lines(inside)
    broker = compose["services"]["mosquitto"]
    for name in ("ca_cert", "server_cert", "server_key"):
        path = getattr(inside, name)
        assert f"./secrets/broker-certs/{path.name}:{path}:ro" in broker["volumes"]
    assert not [v for v in broker["volumes"] if "ca.key" in v], "the CA's key stays off it"
    assert sorted(broker["ports"]) == ["127.0.0.1:1883:1883", "8883:8883"]

    hub = compose["services"]["hub"]
    env = hub["environment"]
    endpoint = BrokerEndpoint.parse(env["HUB_MQTT_URL"], ca_file=Path(env["HUB_MQTT_CA_FILE"]))
    assert (endpoint.tls, endpoint.host, endpoint.port) == (True, "mosquitto", 8883)
    assert f"./secrets/broker-certs/ca.crt:{env['HUB_MQTT_CA_FILE']}:ro" in hub["volumes"]


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


def _dockerfile_copies() -> list[tuple[list[str], str]]:
    copies = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            *sources, dest = line.split()[1:]
            copies.append((sources, dest))
    return copies


def test_compose_builds_the_image_with_the_hub_extra_alone() -> None:
    """Every service built from this tree gets `pip install '.[hub]'`: no simulator, no demo."""
    dockerfile = (ROOT / "Dockerfile").read_text().splitlines()
    assert "ARG EXTRAS=hub" in dockerfile
    assert any(
        line.startswith('RUN pip install --no-cache-dir ".[${EXTRAS}]"') for line in dockerfile
    )
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    built = {name: svc["build"] for name, svc in compose["services"].items() if "build" in svc}
    assert set(built) == {"mosquitto-accounts", "hub"}
    for build in built.values():
        assert build["context"] == "."
        assert build["args"] == {"EXTRAS": "hub"}


def test_the_image_context_builds_a_wheel_that_ships_no_demo(tmp_path: Path) -> None:
    """What the Dockerfile copies is enough to build the wheel (the dashboard included), and none
    of it is, or imports, the demo package."""
    context = tmp_path / "app"
    context.mkdir()
    for sources, dest in _dockerfile_copies():
        for source in sources:
            assert not source.startswith("demo"), "the image's context copies the demo"
            if (ROOT / source).is_dir():
                shutil.copytree(
                    ROOT / source,
                    context / dest,
                    ignore=shutil.ignore_patterns("__pycache__"),
                )
            else:
                shutil.copy2(ROOT / source, context / dest)
    wheel = next(
        iter(WheelBuilder(str(context)).build(directory=str(tmp_path), versions=["standard"]))
    )
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        sources = {n: archive.read(n) for n in names if n.endswith(".py")}
    assert {
        "community/cli.py",
        "edge/cli.py",
        "hub/server.py",
        "hub/broker/dynsec.py",
        "hub/api/dashboard/web/index.html",
    } <= names
    assert not [n for n in names if n.startswith("demo/")]
    importers = sorted(
        name
        for name, text in sources.items()
        for node in ast.walk(ast.parse(text))
        if (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "demo")
        or (
            isinstance(node, ast.Import) and any(a.name.split(".")[0] == "demo" for a in node.names)
        )
    )
    assert importers == []
