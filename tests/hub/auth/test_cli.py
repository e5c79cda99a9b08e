"""``community user add|list|token|revoke`` on SQLite and PostgreSQL, and the demo's operator
token (kept while it works, replaced when it does not)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hub.auth import Role
from hub.auth.demo import DEMO_OPERATOR, demo_operator_token
from hub.auth.users import principal_for_token, revoke_user
from hub.cli import main as community
from hub.core.settings import HubSettings
from hub.org.seed import seed_city
from tests.hub.org.test_seed import SMALL
from tests.hub.support import CARD_KEY


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = community(["user", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_token_revoke(
    db_settings: HubSettings, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_city(engine, seed=5, key=CARD_KEY, year=2025, scale=SMALL)
    url = ["--database-url", db_settings.database_url]
    code, out, _ = run(
        capsys, "add", "wang", "--role", "centre_staff", "--centre", "centre-01", *url
    )
    assert code == 0
    token = out.strip().splitlines()[-1]
    assert token.startswith("yp_")
    assert len(token) == 46
    with Session(engine) as db:
        principal = principal_for_token(db, token)
        assert principal is not None
        assert principal.role is Role.CENTRE_STAFF
        assert principal.sites == frozenset({"centre-01"})

    code, _, err = run(capsys, "add", "li", "--role", "centre_staff", *url)
    assert code == 1
    assert "--centre" in err
    code, _, err = run(capsys, "add", "li", "--role", "venue_manager", "--unit", "9999", *url)
    assert code == 1
    assert "no unit 9999" in err
    code, _, err = run(capsys, "add", "wang", "--role", "viewer", *url)
    assert code == 1
    assert "exists" in err
    with pytest.raises(SystemExit):  # argparse: one scope at most
        community(["user", "add", "x", "--role", "viewer", "--centre", "c", "--unit", "1"])
    capsys.readouterr()

    code, out, _ = run(capsys, "token", "wang", *url)
    second = out.strip().splitlines()[-1]
    assert code == 0
    assert second != token
    code, out, _ = run(capsys, "list", *url)
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("wang"))
    assert "centre_staff" in line
    assert "centre centre-01" in line
    assert "active" in line
    assert token[:10] in line
    assert second[:10] in line
    assert token not in out

    code, out, _ = run(capsys, "revoke", "wang", *url)
    assert code == 0
    with Session(engine) as db:
        assert principal_for_token(db, token) is None
        assert principal_for_token(db, second) is None
    code, out, _ = run(capsys, "list", *url)
    assert "revoked" in next(line for line in out.splitlines() if line.startswith("wang"))
    code, _, err = run(capsys, "token", "wang", *url)
    assert code == 1
    assert "revoked" in err
    code, _, err = run(capsys, "revoke", "nobody", *url)
    assert code == 1


def test_the_demo_keeps_its_operator_token_while_it_works(
    db_settings: HubSettings, engine: Engine
) -> None:
    url = db_settings.database_url
    first = demo_operator_token(url, None)
    assert demo_operator_token(url, first) == first, "a restart keeps the login link"
    with Session(engine) as db:
        principal = principal_for_token(db, first)
        assert principal is not None
        assert principal.username == DEMO_OPERATOR
        assert principal.role is Role.OPERATOR
    assert demo_operator_token(url, "yp_lost") != first, "a token that does not work is replaced"
    with Session(engine) as db:
        revoke_user(db, DEMO_OPERATOR)
    fresh = demo_operator_token(url, first)
    assert fresh != first
    with Session(engine) as db:
        principal = principal_for_token(db, fresh)
        assert principal is not None
        assert principal.role is Role.OPERATOR
