"""Requests forged by a page of another origin of the same site (another port, a sibling
subdomain: ``SameSite=Strict`` lets the cookie ride along) are refused; bearer tokens, which no
browser sends by itself, need no Origin; roster imports take only their own Content-Type."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from hub.api import create_app
from hub.api.auth import SESSION_COOKIE
from hub.auth import Role
from hub.core.settings import HubSettings
from tests.hub.support import ApiServer
from tests.users import bearer, user_token

UNIT_CSV = b"code,name,kind\nU900,Evil Unit,other\n"
FORM_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x")
"""What a page of another origin can post without the browser asking the hub first."""


@dataclass
class Hub:
    api: ApiServer
    token: str
    """An operator's."""
    cookie: str
    """The same operator's session."""

    @property
    def origin(self) -> str:
        return str(self.api.http.base_url).rstrip("/")

    @property
    def sibling(self) -> str:
        """Another port of the same host: the same site, another origin."""
        port = self.api.http.base_url.port
        assert port is not None
        return f"http://127.0.0.1:{port + 1}"

    def with_cookie(self, **headers: str) -> dict[str, str]:
        return {"Cookie": f"{SESSION_COOKIE}={self.cookie}", **headers}

    def active(self, username: str) -> bool:
        users = self.api.http.get("/api/v1/users", headers=bearer(self.token)).json()["data"]
        return next(u for u in users if u["username"] == username)["revoked_at"] is None


@pytest.fixture
def hub(db_settings: HubSettings) -> Iterator[Hub]:
    url = db_settings.database_url
    token = user_token(url, Role.OPERATOR, username="admin")
    user_token(url, Role.VIEWER, username="victim")
    with ApiServer(create_app(db_settings), anonymous=True) as api:
        cookie = api.http.post("/api/v1/session", json={"token": token}).cookies[SESSION_COOKIE]
        yield Hub(api, token, cookie)


def units(engine: Engine, code: str) -> int:
    with engine.connect() as conn:
        query = sa.text("SELECT count(*) FROM units WHERE code = :code")
        return int(conn.execute(query, {"code": code}).scalar_one())


def test_cookie_requests_from_another_origin_are_refused(hub: Hub, engine: Engine) -> None:
    http = hub.api.http
    forged = [
        {"Origin": hub.sibling},
        {"Origin": "http://yuanping.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "same-site", "Origin": hub.sibling},
        {"Sec-Fetch-Site": "cross-site"},
        {},  # a browser always says where an unsafe request comes from
    ]
    for headers in forged:
        revoke = http.post("/api/v1/users/victim/revoke", headers=hub.with_cookie(**headers))
        assert revoke.status_code == 403, headers
        assert "cross-origin request refused" in revoke.json()["detail"]
        upload = http.post(
            "/api/v1/imports/units",
            content=UNIT_CSV,
            headers=hub.with_cookie(**headers, **{"Content-Type": "text/csv"}),
        )
        assert upload.status_code == 403, headers
        out = http.delete("/api/v1/session", headers=hub.with_cookie(**headers))
        assert out.status_code == 403, headers
    assert hub.active("victim")
    assert units(engine, "U900") == 0
    me = http.get("/api/v1/me", headers=hub.with_cookie(Origin=hub.sibling))
    assert me.status_code == 200, "reading is not forging, and the session was not ended"

    upload = http.post(
        "/api/v1/imports/units",
        content=UNIT_CSV,
        headers=hub.with_cookie(**{"Sec-Fetch-Site": "same-origin", "Content-Type": "text/csv"}),
    )
    assert upload.status_code == 200, upload.text
    assert units(engine, "U900") == 1
    revoke = http.post("/api/v1/users/victim/revoke", headers=hub.with_cookie(Origin=hub.origin))
    assert revoke.status_code == 200, "the hub's own page"
    assert not hub.active("victim")
    out = http.delete("/api/v1/session", headers=hub.with_cookie(Origin=hub.origin))
    assert out.status_code == 204


def test_token_requests_need_no_origin(hub: Hub) -> None:
    http = hub.api.http
    for headers in ({}, {"Origin": hub.sibling}):
        made = http.post(
            "/api/v1/users",
            json={"username": f"made-{len(headers)}", "role": "viewer"},
            headers={**bearer(hub.token), **headers},
        )
        assert made.status_code == 201, made.text
    revoke = http.post("/api/v1/users/victim/revoke", headers=bearer(hub.token))
    assert revoke.status_code == 200


def test_a_login_from_another_origin_is_refused(hub: Hub) -> None:
    http = hub.api.http
    refused = http.post(
        "/api/v1/session", json={"token": hub.token}, headers={"Origin": hub.sibling}
    )
    assert refused.status_code == 403
    assert "set-cookie" not in refused.headers
    own = http.post("/api/v1/session", json={"token": hub.token}, headers={"Origin": hub.origin})
    assert own.status_code == 200


def test_imports_take_only_their_own_content_type(hub: Hub, engine: Engine) -> None:
    http = hub.api.http
    for content_type in (*FORM_TYPES, None):
        headers = bearer(hub.token) | ({"Content-Type": content_type} if content_type else {})
        response = http.post("/api/v1/imports/units", content=UNIT_CSV, headers=headers)
        assert response.status_code == 415, content_type
        assert "sent as text/csv or" in response.json()["detail"]
    assert units(engine, "U900") == 0
    response = http.post(
        "/api/v1/imports/units",
        content=UNIT_CSV,
        headers=bearer(hub.token) | {"Content-Type": "text/csv; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    assert units(engine, "U900") == 1
