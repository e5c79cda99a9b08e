"""One-click login links: the code they carry is exchanged for a session once, within
``HUB_LOGIN_CODE_TTL_S``, for a user still active; it is kept as a digest only."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hub.api import create_app
from hub.api.auth import SESSION_COOKIE
from hub.auth import Role
from hub.auth.users import issue_login_code, revoke_user
from hub.core.settings import HubSettings
from tests.hub.support import ApiServer
from tests.users import bearer, user_token

TTL = timedelta(minutes=10)


@pytest.fixture
def api(db_settings: HubSettings) -> Iterator[ApiServer]:
    with ApiServer(create_app(db_settings), anonymous=True) as server:
        yield server


def code_for(engine: Engine, username: str, *, now: datetime | None = None) -> str:
    with Session(engine) as db:
        return issue_login_code(db, username, TTL, now=now)


def exchange(http: httpx.Client, code: str) -> httpx.Response:
    return http.post("/api/v1/session", json={"code": code})


def test_a_code_logs_in_once(api: ApiServer, engine: Engine, db_settings: HubSettings) -> None:
    token = user_token(db_settings.database_url, Role.VIEWER, username="zhou")
    code = code_for(engine, "zhou")
    first = exchange(api.http, code)
    assert first.status_code == 200, first.text
    assert first.json()["username"] == "zhou"
    session = first.cookies[SESSION_COOKIE]
    me = api.http.get("/api/v1/me", headers={"Cookie": f"{SESSION_COOKIE}={session}"})
    assert me.json()["via"] == "session"

    again = exchange(api.http, code)
    assert again.status_code == 401, "a used code fails"
    assert "set-cookie" not in again.headers
    assert "used, expired or unknown" in again.json()["detail"]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM login_codes")).scalar_one() == 0
    assert api.http.get("/api/v1/me", headers=bearer(token)).status_code == 200, "token unchanged"


def test_a_code_is_kept_as_its_digest_and_expires(
    api: ApiServer, engine: Engine, db_settings: HubSettings
) -> None:
    user_token(db_settings.database_url, username="wu")
    now = datetime.now(UTC)
    stale = code_for(engine, "wu", now=now - TTL - timedelta(seconds=1))
    live = code_for(engine, "wu", now=now - TTL + timedelta(minutes=1))
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT code_hash FROM login_codes")).scalars().all()
    assert hashlib.sha256(live.encode()).hexdigest() in stored
    assert not [h for h in stored if live in h or stale in h], "no clear code"
    assert exchange(api.http, stale).status_code == 401, "expired"
    assert exchange(api.http, live).status_code == 200, "a minute left"


def test_a_revoked_users_codes_stop_working(
    api: ApiServer, engine: Engine, db_settings: HubSettings
) -> None:
    user_token(db_settings.database_url, username="qian")
    code = code_for(engine, "qian")
    with Session(engine) as db:
        revoke_user(db, "qian")
    assert exchange(api.http, code).status_code == 401


def test_a_login_takes_a_token_or_a_code_and_not_both(api: ApiServer) -> None:
    for body in ({}, {"token": "yp_x", "code": "y"}, {"code": ""}):
        response = api.http.post("/api/v1/session", json=body)
        assert response.status_code == 422, body
    assert exchange(api.http, "not-a-code").status_code == 401
