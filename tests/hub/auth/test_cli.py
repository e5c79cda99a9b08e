"""``community user add|list|token|revoke|login-link`` on SQLite and PostgreSQL, and the demo's
operator and its login link (a single-use code, never a token)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from community.cli import main as community
from demo.seed import seed_city
from demo.users import DEMO_OPERATOR, demo_login_link
from hub.auth import Role
from hub.auth.models import LoginCode
from hub.auth.users import list_users, principal_for_token, redeem_login_code, revoke_user
from hub.core.settings import HubSettings
from tests.hub.org.test_seed import SMALL
from tests.hub.support import CARD_KEY
from tests.users import user_token


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


def test_a_login_link_carries_a_single_use_code_not_a_token(
    db_settings: HubSettings, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ["--database-url", db_settings.database_url]
    code, out, _ = run(capsys, "add", "li", "--role", "viewer", *url)
    assert code == 0
    token = out.strip().splitlines()[-1]
    code, out, _ = run(capsys, "login-link", "li", "--url", "http://hub.example:8000/", *url)
    assert code == 0
    assert "once, within 10 minutes" in out, "HUB_LOGIN_CODE_TTL_S, 600 s by default"
    link = out.strip().splitlines()[-1]
    assert link.startswith("http://hub.example:8000/login#code=")
    assert token not in link
    assert "yp_" not in link
    secret = link.partition("#code=")[2]
    with Session(engine) as db:
        stored = db.scalars(select(LoginCode.code_hash)).all()
        assert stored == [hashlib.sha256(secret.encode()).hexdigest()], "only its digest"
        principal = redeem_login_code(db, secret)
        assert principal is not None
        assert principal.username == "li"
        assert redeem_login_code(db, secret) is None, "once"
    _, out, _ = run(capsys, "login-link", "li", *url)
    assert out.strip().splitlines()[-1].startswith("http://127.0.0.1:8000/login#code=")
    code, _, err = run(capsys, "login-link", "nobody", *url)
    assert code == 1
    assert "no user 'nobody'" in err


def test_the_demo_links_its_operator_and_revokes_an_old_demos_token(
    db_settings: HubSettings, engine: Engine
) -> None:
    url = db_settings.database_url
    old = user_token(url, Role.OPERATOR, username=DEMO_OPERATOR)  # as an older demo made it
    link, name = demo_login_link(url, "http://127.0.0.1:8000", old)
    assert name == DEMO_OPERATOR
    assert link.startswith("http://127.0.0.1:8000/login#code=")
    with Session(engine) as db:
        assert principal_for_token(db, old) is None, "the token an older demo printed is revoked"
        users = {u.username: u for u in list_users(db)}
        assert users[DEMO_OPERATOR].tokens == 0, "the demo's operator has no token to leak"
        principal = redeem_login_code(db, link.partition("#code=")[2])
        assert principal is not None
        assert principal.username == DEMO_OPERATOR
        assert principal.role is Role.OPERATOR
    again, same = demo_login_link(url, "http://127.0.0.1:8000")
    assert (same, again != link) == (DEMO_OPERATOR, True), "the same operator, a fresh code"
    with Session(engine) as db:
        revoke_user(db, DEMO_OPERATOR)
    fresh, other = demo_login_link(url, "http://127.0.0.1:8000")
    assert other.startswith(f"{DEMO_OPERATOR}-")
    assert demo_login_link(url, "http://127.0.0.1:8000")[1] == other, "kept across restarts"
    with Session(engine) as db:
        principal = redeem_login_code(db, fresh.partition("#code=")[2])
        assert principal is not None
        assert principal.username == other
        assert principal.role is Role.OPERATOR
