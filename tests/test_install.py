"""An edge box installs the edge alone: ``pip install '.[edge]'`` in a fresh virtual environment
gives a working ``community edge`` without the hub's or the demo's dependencies.

A real install from this tree (the wheel built by hatchling, dependencies from the package index),
run from outside the tree with no PYTHONPATH, so nothing of the development environment leaks in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What only the hub, the simulators or the demo need; none of it may reach an edge box.
NOT_ON_THE_EDGE = [
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "amqtt",
    "openpyxl",
    "pymodbus",
    "influxdb_client",
    "cryptography",  # hub.broker.tls makes certificates; an edge verifies with the stdlib's ssl
]


def _clean_env() -> dict[str, str]:
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONUSERBASE"}
    return {k: v for k, v in os.environ.items() if k not in drop}


@pytest.mark.slow
@pytest.mark.timeout(900)  # a fresh environment: hatchling and the edge's wheels are installed
def test_the_edge_extra_alone_runs_community_edge(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    env = _clean_env()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
    python, community = venv / "bin" / "python", venv / "bin" / "community"

    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"{ROOT}[edge]",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    edge_help = subprocess.run(
        [str(community), "edge", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert edge_help.returncode == 0, edge_help.stdout + edge_help.stderr
    assert "--config" in edge_help.stdout

    # The hub's web framework is not there: importing it fails.
    fastapi = subprocess.run(
        [str(python), "-c", "import fastapi"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert fastapi.returncode != 0
    assert "ModuleNotFoundError: No module named 'fastapi'" in fastapi.stderr

    # Nor any other of the hub's, the simulators' or the demo's dependencies; the wheel still
    # carries every package of ours (the `community` dispatcher and `demo` among them).
    probe = (
        "import importlib.util, json, sys; "
        "print(json.dumps({n: importlib.util.find_spec(n) is not None for n in sys.argv[1:]}))"
    )
    ours = ["mqtt_contract", "edge", "hub", "firmware_sim", "community", "demo", "paho"]
    found = subprocess.run(
        [str(python), "-c", probe, *NOT_ON_THE_EDGE, *ours],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    present = {name for name, there in json.loads(found.stdout).items() if there}
    assert present == set(ours)
