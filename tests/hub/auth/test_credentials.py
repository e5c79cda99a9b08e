"""Tokens and sessions: stored as digests only, revoked at once, the session cookie's flags,
logging out, expiry; what /me, /healthz and /metrics tell whom; the users API."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from community.cli import main as community
from hub.api import create_app
from hub.api.auth import SESSION_COOKIE
from hub.auth import ROLE_PERMISSIONS, Role
from hub.auth.users import (
    UserError,
    add_user,
    open_session,
    principal_for_session,
    principal_for_token,
)
from hub.core.settings import HubSettings
from tests.hub.auth.support import CENTRE, UNIT, Secured
from tests.hub.support import CARD_KEY, ApiServer
from tests.users import bearer


def log_in(http: httpx.Client, token: str) -> httpx.Response:
    return http.post("/api/v1/session", json={"token": token})


def with_cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={value}"}


def own_origin(http: httpx.Client) -> dict[str, str]:
    """What a browser adds to a request of the hub's own pages that changes something."""
    return {"Origin": str(http.base_url).rstrip("/")}


def test_a_token_is_stored_only_as_its_digest(secured: Secured, engine: Engine) -> None:
    token = secured.tokens[Role.CENTRE_STAFF]
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM api_tokens")).mappings().all()
        users = conn.execute(sa.text("SELECT * FROM users")).mappings().all()
    assert len(rows) == len(Role)
    digest = hashlib.sha256(token.encode()).hexdigest()
    mine = [r for r in rows if r["token_hash"] == digest]
    assert len(mine) == 1
    assert mine[0]["prefix"] == token[:10]
    stored = [str(v) for row in [*rows, *users] for v in row.values()]
    assert not [v for v in stored if token in v or token[10:30] in v], "no clear token anywhere"
    listed = secured.get(Role.OPERATOR, "/api/v1/users").json()
    assert token not in str(listed)
    assert token[:10] in str(listed)


def test_me_says_who_and_what(secured: Secured) -> None:
    me = secured.get(Role.CENTRE_STAFF, "/api/v1/me").json()
    assert me["role"] == "centre_staff"
    assert me["centre_id"] == CENTRE
    assert me["sites"] == [CENTRE]
    assert me["via"] == "token"
    assert set(me["permissions"]) == set(ROLE_PERMISSIONS[Role.CENTRE_STAFF])
    manager = secured.get(Role.VENUE_MANAGER, "/api/v1/me").json()
    assert manager["unit_id"] == UNIT
    assert manager["sites"] == ["venue-03", "venue-04"]
    assert secured.get(Role.OPERATOR, "/api/v1/me").json()["sites"] is None


def test_bad_credentials_are_401(secured: Secured) -> None:
    http = secured.api.http
    for headers in (
        {"Authorization": "Bearer yp_not-a-token"},
        {"Authorization": f"Basic {secured.tokens[Role.OPERATOR]}"},
        {"Authorization": secured.tokens[Role.OPERATOR]},
        with_cookie("not-a-session"),
    ):
        response = http.get("/api/v1/me", headers=headers)
        assert response.status_code == 401, headers
    assert log_in(http, "yp_not-a-token").status_code == 401
    assert "set-cookie" not in log_in(http, "yp_not-a-token").headers


def test_the_session_cookie_is_httponly_strict_and_secure_in_production(
    secured: Secured, db_settings: HubSettings
) -> None:
    response = log_in(secured.api.http, secured.tokens[Role.VIEWER])
    assert response.status_code == 200
    assert response.json()["role"] == "viewer"
    cookie = response.headers["set-cookie"]
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "max-age"} <= flags
    assert "samesite=strict" in cookie.lower()
    assert "Max-Age=43200" in cookie, "HUB_SESSION_TTL_H, 12 h by default"
    assert "secure" not in flags, "demo mode serves plain HTTP"
    assert secured.tokens[Role.VIEWER] not in cookie

    production = db_settings.model_copy(
        update={
            "mode": "production",
            "mqtt_password": SecretStr("broker-secret"),
            "card_key": SecretStr(CARD_KEY.decode()),
        }
    )
    token = secured.tokens[Role.VIEWER]
    with ApiServer(create_app(production), anonymous=True) as server:
        cookie = log_in(server.http, token).headers["set-cookie"]
        assert "secure" in {p.strip().lower() for p in cookie.split(";")}
    forced = db_settings.model_copy(update={"cookie_secure": True})
    with ApiServer(create_app(forced), anonymous=True) as server:
        assert "Secure" in log_in(server.http, token).headers["set-cookie"]


def test_a_session_works_until_logged_out(secured: Secured) -> None:
    http = secured.api.http
    value = log_in(http, secured.tokens[Role.CENTRE_STAFF]).cookies[SESSION_COOKIE]
    me = http.get("/api/v1/me", headers=with_cookie(value))
    assert me.status_code == 200
    assert me.json()["via"] == "session"
    assert http.get("/api/v1/checkins", headers=with_cookie(value)).status_code == 200
    assert http.get("/api/v1/members", headers=with_cookie(value)).status_code == 403

    out = http.delete("/api/v1/session", headers={**with_cookie(value), **own_origin(http)})
    assert out.status_code == 204
    assert 'yp_session=""' in out.headers["set-cookie"]
    assert "Max-Age=0" in out.headers["set-cookie"]
    assert http.get("/api/v1/me", headers=with_cookie(value)).status_code == 401


def test_revoking_a_user_ends_its_tokens_and_sessions_at_once(
    secured: Secured, db_settings: HubSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    http = secured.api.http
    token = secured.tokens[Role.RECORDS_STAFF]
    value = log_in(http, token).cookies[SESSION_COOKIE]
    name = http.get("/api/v1/me", headers=bearer(token)).json()["username"]
    url = db_settings.database_url
    assert community(["user", "revoke", name, "--database-url", url]) == 0
    assert f"revoked {name}" in capsys.readouterr().out
    assert http.get("/api/v1/members", headers=bearer(token)).status_code == 401
    assert http.get("/api/v1/members", headers=with_cookie(value)).status_code == 401
    assert log_in(http, token).status_code == 401
    assert secured.get(Role.OPERATOR, "/api/v1/members").status_code == 200, "others go on"


def test_a_session_expires(engine: Engine, secured: Secured) -> None:
    with Session(engine) as db:
        principal = principal_for_token(db, secured.tokens[Role.VIEWER])
        assert principal is not None
        now = datetime.now(UTC)
        value = open_session(db, principal, timedelta(hours=1), now=now)
        assert principal_for_session(db, value, now=now + timedelta(minutes=59)) is not None
        assert principal_for_session(db, value, now=now + timedelta(hours=1)) is None
        # opening another later clears the expired one
        open_session(db, principal, timedelta(hours=1), now=now + timedelta(hours=2))
        digest = hashlib.sha256(value.encode()).hexdigest()
        left = db.execute(
            sa.text("SELECT count(*) FROM user_sessions WHERE session_hash = :h"), {"h": digest}
        ).scalar_one()
        assert left == 0


def test_healthz_is_open_but_its_detail_is_for_operators(secured: Secured) -> None:
    assert secured.get(None, "/healthz").json() == {"status": "ok"}
    assert secured.get(Role.VIEWER, "/healthz").json() == {"status": "ok"}
    detail = secured.get(Role.OPERATOR, "/healthz").json()
    assert detail["database"] == "ok"
    assert detail["broker"] == "not running"


@pytest.fixture
def public_metrics(db_settings: HubSettings) -> Iterator[ApiServer]:
    with ApiServer(
        create_app(db_settings.model_copy(update={"metrics_public": True})), anonymous=True
    ) as server:
        yield server


def test_metrics_need_an_operator_unless_made_public(
    secured: Secured, public_metrics: ApiServer
) -> None:
    assert secured.get(None, "/metrics").status_code == 401
    assert secured.get(Role.RECORDS_STAFF, "/metrics").status_code == 403
    response = secured.get(Role.OPERATOR, "/metrics")
    assert response.status_code == 200
    assert "hub_events_committed_total" in response.text
    assert public_metrics.get("/metrics").status_code == 200


def test_operators_manage_users_over_the_api(secured: Secured) -> None:
    created = secured.call(
        Role.OPERATOR,
        "POST",
        "/api/v1/users",
        json={"username": "zhao.venues", "role": "venue_manager", "unit_id": UNIT},
    )
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert token.startswith("yp_")
    http = secured.api.http
    assert http.get("/api/v1/venues", headers=bearer(token)).json()["count"] == 2
    listed = {u["username"]: u for u in secured.get(Role.OPERATOR, "/api/v1/users").json()["data"]}
    assert listed["zhao.venues"]["token_prefixes"] == [token[:10]]
    assert listed["zhao.venues"]["revoked_at"] is None
    bad = secured.call(
        Role.OPERATOR, "POST", "/api/v1/users", json={"username": "li", "role": "centre_staff"}
    )
    assert bad.status_code == 422
    assert "--centre" in bad.json()["detail"]
    taken = secured.call(
        Role.OPERATOR, "POST", "/api/v1/users", json={"username": "zhao.venues", "role": "viewer"}
    )
    assert taken.status_code == 409, "a taken name is a conflict"
    refused = secured.call(
        Role.RECORDS_STAFF, "POST", "/api/v1/users", json={"username": "x1", "role": "operator"}
    )
    assert refused.status_code == 403
    revoked = secured.call(Role.OPERATOR, "POST", "/api/v1/users/zhao.venues/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert revoked.json()["tokens"] == 0
    assert http.get("/api/v1/venues", headers=bearer(token)).status_code == 401
    assert secured.call(Role.OPERATOR, "POST", "/api/v1/users/nobody/revoke").status_code == 404


def test_a_user_needs_a_scope_that_exists(engine: Engine) -> None:
    with Session(engine) as db:
        for kwargs in (
            {"role": Role.CENTRE_STAFF, "centre_id": "centre-99"},
            {"role": Role.VENUE_MANAGER, "unit_id": 9999},
            {"role": Role.VIEWER, "centre_id": CENTRE},
            {"role": Role.VENUE_MANAGER, "unit_id": UNIT, "centre_id": CENTRE},
        ):
            with pytest.raises(UserError):
                add_user(db, "someone", **kwargs)  # type: ignore[arg-type]
        with pytest.raises(UserError, match="username"):
            add_user(db, "Not A Name", Role.VIEWER)
