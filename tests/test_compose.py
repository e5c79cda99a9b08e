"""docker-compose.yml is valid by the compose specification and says what a city needs: every
long-running service checked and restarted, secrets as files and never in an environment, the hub
behind the TLS proxy alone and wired to InfluxDB, the broker's accounts from the registry with a
TLS listener; the image it builds installs the hub's extra alone, from a context without the
demo. tests/e2e/test_production.py runs the same configuration natively."""

from __future__ import annotations

import ast
import base64
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hatchling.builders.wheel import WheelBuilder

from community.cli import main as community_main
from hub.broker.dynsec import parse_passwd
from hub.broker.tls import certificate_paths, tls_listener_lines
from hub.core.card_keys import card_keys
from hub.core.settings import HubSettings
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


COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ONE_SHOT = {name for name, svc in SERVICES.items() if svc.get("restart") == "no"}
SECRET_WORDS = re.compile(r"PASSWORD|TOKEN|SECRET|_KEY$|DATABASE_URL", re.IGNORECASE)


def _dotenv_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {key: value for key, value in pairs}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}`` against ``env`` (a
    required variable missing from it is an error here, as it is for compose)."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if name in env and env[name] != "":
            return env[name]
        if op == ":-":
            return arg
        raise AssertionError(f"${{{name}}} is required and .env.example does not set it")

    return re.sub(r"\$\{(?P<name>[A-Z_]+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}", one, value)


def run_secrets(service: dict[str, Any], made: Path, into: Path) -> Path:
    """``/run/secrets`` as compose makes it for ``service``: each secret's file under its
    target name, from the files ``deploy/init-secrets.sh`` made in ``made``."""
    into.mkdir()
    for entry in service.get("secrets", []):
        source, target = (
            (entry, entry)
            if isinstance(entry, str)
            else (
                entry["source"],
                entry.get("target", entry["source"]),
            )
        )
        file = COMPOSE["secrets"][source]["file"]
        assert file.startswith("./secrets/"), f"secret {source} lives outside secrets/"
        shutil.copy(made / file.removeprefix("./secrets/"), into / target)
    return into


@pytest.fixture(scope="module")
def made_secrets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The secret files of a fresh deployment: deploy/init-secrets.sh run in a copy."""
    tree = tmp_path_factory.mktemp("deployment")
    (tree / "deploy").mkdir()
    shutil.copy(ROOT / "deploy" / "init-secrets.sh", tree / "deploy")
    first = subprocess.run(
        ["sh", str(tree / "deploy" / "init-secrets.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    return tree / "secrets"


def test_init_secrets_makes_every_secret_compose_reads_once(made_secrets: Path) -> None:
    assert made_secrets.stat().st_mode & 0o777 == 0o700
    values = {}
    for name, secret in COMPOSE["secrets"].items():
        path = made_secrets / secret["file"].removeprefix("./secrets/")
        assert path.stat().st_mode & 0o777 == 0o444, name  # read-only; the folder is private
        values[name] = path.read_text().strip()
        assert len(values[name]) >= 32, name
    assert len(set(values.values())) == len(values), "every secret is a value of its own"
    assert f":{values['postgres_password']}@postgres:5432/" in values["hub_database_url"]
    assert len(base64.b64decode(values["card_private_key"], validate=True)) == 32
    again = subprocess.run(
        ["sh", str(made_secrets.parent / "deploy" / "init-secrets.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert "nothing new" in again.stdout
    for name, secret in COMPOSE["secrets"].items():
        path = made_secrets / secret["file"].removeprefix("./secrets/")
        assert path.read_text().strip() == values[name], f"{name} was made again"


def test_every_long_running_service_has_a_health_check_and_restarts() -> None:
    assert {"broker-config"} == ONE_SHOT
    for name, service in SERVICES.items():
        if name in ONE_SHOT:
            continue
        assert service.get("restart") == "unless-stopped", name
        test = service.get("healthcheck", {}).get("test")
        assert test, f"{name} has no health check"
        assert test[0] in {"CMD", "CMD-SHELL"}, name
    # whatever waits for another waits for it to be healthy, or for a one-shot to have succeeded
    for name, service in SERVICES.items():
        for other, condition in service.get("depends_on", {}).items():
            expected = "service_completed_successfully" if other in ONE_SHOT else "service_healthy"
            assert condition["condition"] == expected, f"{name} -> {other}"


def test_no_secret_is_in_an_environment_or_in_env_example() -> None:
    for name, service in SERVICES.items():
        for key, value in service.get("environment", {}).items():
            if SECRET_WORDS.search(key) is None:
                continue
            # a secret's variable names a file compose mounts, never the secret itself
            assert key.endswith(("_FILE", "_DIR")), f"{name}: {key} carries a secret"
            assert str(value).startswith("/run/secrets"), f"{name}: {key}={value}"
    example = _dotenv_example()
    assert not [key for key in example if SECRET_WORDS.search(key)]
    # what compose takes from .env is the example's names and addresses, nothing else
    text = (ROOT / "docker-compose.yml").read_text()
    assert set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", text)) == set(example)


def test_the_hub_reads_its_secrets_from_files_and_starts_in_production(
    made_secrets: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub's environment as compose gives it, with /run/secrets as compose fills it: valid
    production settings, every secret from a file, InfluxDB wired, the proxy believed alone."""
    hub = SERVICES["hub"]
    env = {
        key: interpolate(str(value), _dotenv_example()) for key, value in hub["environment"].items()
    }
    secrets_dir = run_secrets(hub, made_secrets, tmp_path / "run-secrets")
    env["HUB_SECRETS_DIR"] = str(secrets_dir)
    ca = certificate_paths(tmp_path / "certs")
    assert subprocess.run(
        [sys.executable, "-m", "community", "broker-certs", "--out", str(tmp_path / "certs"),
         "--host", "mosquitto"],
        capture_output=True, check=False,
    ).returncode == 0  # fmt: skip
    env["HUB_MQTT_CA_FILE"] = str(ca.ca_cert)
    env["HUB_CARD_PRIVATE_KEY_FILE"] = str(secrets_dir / "card-key")
    for key in [k for k in os.environ if k.startswith("HUB_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = HubSettings()
    assert settings.mode == "production"
    assert settings.session_cookie_secure, "the cookie is Secure: browsers come through HTTPS"
    assert settings.secrets_dir == secrets_dir
    made = {p.name: p.read_text().strip() for p in made_secrets.iterdir() if p.is_file()}
    assert settings.database_url == made["hub_database_url"]
    assert settings.mqtt_password is not None
    assert settings.mqtt_password.get_secret_value() == made["hub_mqtt_password"]
    assert settings.card_key_bytes() == made["hub_card_key"].encode()
    assert card_keys(settings) is not None
    # InfluxDB: the hub writes where Grafana reads, with a token InfluxDB was set up with
    influx = SERVICES["influxdb"]["environment"]
    grafana = SERVICES["grafana"]["environment"]
    assert settings.influx_url == grafana["INFLUX_URL"] == "http://influxdb:8086"
    assert settings.influx_org == influx["DOCKER_INFLUXDB_INIT_ORG"] == grafana["INFLUX_ORG"]
    assert settings.influx_bucket == influx["DOCKER_INFLUXDB_INIT_BUCKET"]
    assert settings.influx_bucket == grafana["INFLUX_BUCKET"]
    assert settings.influx_token is not None
    assert settings.influx_token.get_secret_value() == made["influx_admin_token"]


def test_the_hub_is_reached_through_the_tls_proxy_alone() -> None:
    """Browsers reach the hub through Caddy on 443 (its Secure cookie needs HTTPS); the hub's
    port is published nowhere, and it believes X-Forwarded-* from the proxy's address alone."""
    example = _dotenv_example()
    hub, proxy = SERVICES["hub"], SERVICES["proxy"]
    assert "ports" not in hub
    assert sorted(proxy["ports"]) == ["443:443", "80:80"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    env = {key: interpolate(str(value), example) for key, value in hub["environment"].items()}
    proxy_env = {key: interpolate(str(v), example) for key, v in proxy["environment"].items()}
    assert proxy_env["HUB_UPSTREAM"] == f"hub:{env['HUB_HTTP_PORT']}"
    assert env["HUB_HTTP_HOST"] == "0.0.0.0"  # inside its container
    address = interpolate(proxy["networks"]["front"]["ipv4_address"], example)
    assert env["HUB_FORWARDED_ALLOW_IPS"] == address
    front = COMPOSE["networks"]["front"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(interpolate(front, example))
    # the front network is the proxy's and the hub's alone
    on_front = sorted(n for n, s in SERVICES.items() if "front" in (s.get("networks") or []))
    assert on_front == ["hub", "proxy"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    used = set(re.findall(r"\{\$([A-Z_]+)(?::[^}]*)?\}", caddyfile))
    assert (
        {"HUB_SITE_ADDRESS", "HUB_TLS", "HUB_UPSTREAM"}
        <= used
        <= set(proxy_env)
        | {
            "HUB_HTTP_PORT",
            "HUB_HTTPS_PORT",
        }
    )
    assert interpolate(str(proxy["environment"]["HUB_TLS"]), {}) == "internal"


def test_compose_broker_takes_its_accounts_from_the_registry_and_listens_with_tls(
    made_secrets: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """broker-config writes the broker's config (the 8883 listener on the mounted certificates,
    no anonymous client) and the registry's accounts into the volume the broker reads them from,
    before the broker starts. (tests/e2e/test_production.py runs what it writes.)"""
    accounts, broker = SERVICES["broker-config"], SERVICES["mosquitto"]
    assert broker["depends_on"]["broker-config"]["condition"] == "service_completed_successfully"
    command = accounts["command"]
    assert command[:2] == ["community", "broker-config"]
    options = dict(zip(command[2::2], command[3::2], strict=True))
    assert broker["command"] == ["mosquitto", "-c", f"{options['--out']}/mosquitto.conf"]
    shared = set(accounts["volumes"]) & set(broker["volumes"])
    assert any(options["--out"] == v.split(":")[1] for v in shared)

    # Run the service's command here, with its secrets as compose would mount them.
    secrets_dir = run_secrets(accounts, made_secrets, tmp_path / "run-secrets")
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    (secrets_dir / "hub_database_url").write_text(database + "\n")
    for key in [k for k in os.environ if k.startswith("HUB_")]:
        monkeypatch.delenv(key)
    for key, value in accounts["environment"].items():
        monkeypatch.setenv(key, str(value))
    monkeypatch.setenv("HUB_SECRETS_DIR", str(secrets_dir))
    out = tmp_path / "mosquitto-data"
    args = [*command[1:]]
    args[args.index("--out") + 1] = str(out)
    assert community_main(args) == 0
    conf = (out / "mosquitto.conf").read_text().splitlines()
    assert "allow_anonymous false" in conf
    assert "listener 1883" in conf
    inside = certificate_paths(Path(options["--tls-dir"]))
    start = conf.index("listener 8883")
    assert conf[start : start + 6] == tls_listener_lines(inside)
    for name in ("ca_cert", "server_cert", "server_key"):
        path = getattr(inside, name)
        assert f"./secrets/broker-certs/{path.name}:{path}:ro" in broker["volumes"]
    assert not [v for v in broker["volumes"] if "ca.key" in v], "the CA's key stays off it"
    assert sorted(broker["ports"]) == ["127.0.0.1:1883:1883", "8883:8883"]
    dynsec = json.loads((out / "dynamic-security.json").read_text())
    users = {c["username"] for c in dynsec["clients"]}
    assert users == {"hub", "broker-admin"}  # no site yet: `community site add` makes them

    hub = SERVICES["hub"]
    env = hub["environment"]
    endpoint = BrokerEndpoint.parse(env["HUB_MQTT_URL"], ca_file=Path(env["HUB_MQTT_CA_FILE"]))
    assert (endpoint.tls, endpoint.host, endpoint.port) == (True, "mosquitto", 8883)
    assert f"./secrets/broker-certs/ca.crt:{env['HUB_MQTT_CA_FILE']}:ro" in hub["volumes"]


def test_the_simulator_profile_runs_edges_from_their_bundles_on_tls() -> None:
    sims = {name: svc for name, svc in SERVICES.items() if "simulator" in svc.get("profiles", [])}
    assert sorted(sims) == ["sim-centre-01", "sim-centre-02", "sim-centre-03"]
    for name, sim in sims.items():
        site = name.removeprefix("sim-")
        assert sim["volumes"] == [f"./sim/{site}:/bundle"]
        script = sim["command"][-1]
        assert "exec community edge --config /bundle/edge.toml" in script
        assert "community sim card-reader --link /tmp/serial/reader-1" in script
        assert sim["depends_on"] == {"mosquitto": {"condition": "service_healthy"}}
    # nothing else is in a profile: `docker compose up` starts the city, not the simulator
    assert not [n for n, s in SERVICES.items() if s.get("profiles") and n not in sims]


def test_a_password_entry_the_plugin_cannot_read_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"'centre-01'.*\$7\$"):
        parse_passwd("centre-01:$6$salt$hash\n")


def _dockerfile_copies() -> list[tuple[list[str], str]]:
    copies = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            *sources, dest = line.split()[1:]
            copies.append((sources, dest))
    return copies


def test_compose_builds_the_image_with_the_hub_extra_alone() -> None:
    """Every service of the city built from this tree gets `pip install '.[hub]'`; the simulator
    profile's get the edge and the simulators; none gets the demo."""
    dockerfile = (ROOT / "Dockerfile").read_text().splitlines()
    assert "ARG EXTRAS=hub" in dockerfile
    assert any(
        line.startswith('RUN pip install --no-cache-dir ".[${EXTRAS}]"') for line in dockerfile
    )
    built = {name: svc["build"] for name, svc in SERVICES.items() if "build" in svc}
    assert set(built) == {"broker-config", "hub", "sim-centre-01", "sim-centre-02", "sim-centre-03"}
    for name, build in built.items():
        assert build["context"] == "."
        simulated = "simulator" in SERVICES[name].get("profiles", [])
        assert build["args"] == {"EXTRAS": "edge,sim" if simulated else "hub"}


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
