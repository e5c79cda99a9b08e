"""The console names itself: a ``community`` command that changes registry rows is logged with
the operating system's login, source ``cli`` (``import`` for imports) and its command line, the
database password hidden; ``community audit list`` shows the log."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from community.cli import main as community
from hub.audit.console import console_actor
from hub.core.settings import HubSettings
from tests.hub.audit.support import entries
from tests.hub.org.support import City

ROOT = Path(__file__).resolve().parents[3]


def test_a_command_run_as_a_process_is_logged_with_the_login(
    db_settings: HubSettings, engine: sa.Engine
) -> None:
    url = db_settings.database_url
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'firmware-sim'}"}
    command = ["community", "user", "add", "li.na", "--role", "viewer", "--database-url", url]
    done = subprocess.run(
        [sys.executable, "-m", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (user,) = entries(engine, table_name="users")
    assert (user.actor, user.source, user.action) == (getpass.getuser(), "cli", "create")
    assert user.request == f"community user add li.na --role viewer --database-url {url}"
    assert user.after is not None
    assert user.after["username"] == "li.na"
    (token,) = entries(engine, table_name="api_tokens")
    assert token.source == "cli"
    assert token.after is not None
    assert token.after["token_hash"] == "(redacted)"


def test_site_commands_are_logged_as_the_console(
    db_settings: HubSettings, engine: sa.Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    city = City(engine)
    city.commit()
    city.close()
    url = ["--database-url", db_settings.database_url]
    add = ["add", "centre-01", "--kind", "centre", "--centre", "centre-01", "--no-broker"]
    assert community(["site", *url, *add]) == 0
    assert community(["site", *url, "revoke", "centre-01", "--no-broker"]) == 0
    rows = entries(engine, table_name="site_accounts")
    assert [(r.action, r.source, r.actor) for r in rows] == [
        ("create", "cli", getpass.getuser()),
        ("update", "cli", getpass.getuser()),
    ]
    assert rows[0].request is not None
    assert rows[0].request.startswith("community site --database-url ")
    assert rows[0].request.endswith(" add centre-01 --kind centre --centre centre-01 --no-broker")
    assert rows[0].after is not None
    assert rows[0].after["password_hash"] == "(redacted)"
    assert rows[1].after is not None
    assert rows[1].after["state"] == "revoked"

    capsys.readouterr()
    listed = ["audit", "list", "--table", "site_accounts", "--limit", "1", *url]
    assert community(listed) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert "cli" in out[0]
    assert "site_accounts/centre-01" in out[0]
    assert 'state: "active" -> "revoked"' in out[0]
    assert out[1] == "(1 of 2; --limit shows more)"


def test_the_command_line_is_logged_without_the_database_password() -> None:
    secret = "postgresql+psycopg://hub:s3cret@db.example/hub"
    for argv in (["list", "--database-url", secret], ["list", f"--database-url={secret}"]):
        actor = console_actor("community site", argv)
        assert actor.request is not None
        assert "s3cret" not in actor.request
        assert "hub:***@db.example/hub" in actor.request
    imported = console_actor("community import", ["units", "x" * 1000], source="import")
    assert imported.source == "import"
    assert imported.request is not None
    assert len(imported.request) == 300


@pytest.mark.parametrize("bad", [["--limit", "0"], ["--limit", "5000"], ["--since", "soon"]])
def test_audit_list_refuses_bad_options(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        community(["audit", "list", *bad])
    assert exit_.value.code == 2
    assert bad[0] in capsys.readouterr().err
