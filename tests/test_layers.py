"""The layer check of `make lint` (import-linter, pyproject's contracts) can fail: on a copy of the
tree it passes, and one forbidden import added to that copy breaks the contract that forbids it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "mqtt_contract": ROOT / "mqtt_contract",
    "edge": ROOT / "edge",
    "hub": ROOT / "hub",
    "firmware_sim": ROOT / "firmware-sim" / "firmware_sim",
    "demo": ROOT / "demo",
    "community": ROOT / "community",
}
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("tree")
    for name, source in PACKAGES.items():
        shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "web"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    # The copy first on the path: the contracts are checked against it, not the installed tree.
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    result = lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("hub/ingest/_violation.py", "import hub.venues.service", "Ingest knows no domain package"),
        ("edge/_violation.py", "import hub.core.settings", "The edge never imports the hub"),
        ("mqtt_contract/_violation.py", "import paho.mqtt.client", "The MQTT contract imports"),
        ("hub/org/_violation.py", "import fastapi", "Only the API imports FastAPI"),
        ("hub/core/_violation.py", "import demo.seed", "Nothing that ships imports the demo"),
        ("hub/core/_violation.py", "import hub.org.models", "The hub's layers"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tree: Path, module: str, line: str, contract: str
) -> None:
    path = tree / module
    path.write_text(f"from __future__ import annotations\n\n{line}\n")
    try:
        result = lint(tree)
    finally:
        path.unlink()
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts")[-1]
    assert contract in broken, result.stdout
