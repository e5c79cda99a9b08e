"""The permission table: documented = enforced, every route guarded, and each role against
representative routes of every permission (allowed, 403), with no credentials (401)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from hub.auth import ROLE_PERMISSIONS, Permission, Role
from tests.hub.auth.support import (
    CENTRE,
    UNIT_VENUES,
    YEAR,
    Secured,
    activity_body,
    documented_permissions,
)

OPEN = {"/healthz", "/api/v1/session"}
"""Routes anyone may call (health for load balancers, logging in and out)."""


def test_the_documented_table_is_the_enforced_one() -> None:
    documented = documented_permissions()
    assert set(documented) == set(Role)
    assert documented == {role: set(perms) for role, perms in ROLE_PERMISSIONS.items()}
    assert ROLE_PERMISSIONS[Role.OPERATOR] == frozenset(Permission)
    assert not ROLE_PERMISSIONS[Role.VIEWER] & {Permission.RECORDS_READ, Permission.CHECKINS_READ}


def test_every_api_route_is_closed_without_credentials(secured: Secured) -> None:
    """Every operation of the OpenAPI schema under /api/ and /metrics, called with no
    credentials (path parameters filled with anything: the check comes before them), is 401."""
    schema = secured.api.http.get("/openapi.json").json()
    checked = []
    for path, operations in schema["paths"].items():
        if not (path.startswith("/api/") or path == "/metrics") or path in OPEN:
            continue
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        for method in operations:
            response = secured.api.http.request(method.upper(), concrete)
            assert response.status_code == 401, f"{method.upper()} {path}: {response.status_code}"
            checked.append(f"{method} {path}")
    assert len(checked) > 50, checked


@dataclass(frozen=True)
class Call:
    permission: Permission
    method: str
    path: str
    params: dict[str, Any] | None = None
    body: Any = None
    raw: bytes | None = None


_codes = itertools.count(1)


def calls() -> list[Call]:
    """A representative route of every permission (scoped ones within the scoped users' scope)."""
    p = Permission
    member = lambda: {  # noqa: E731 - a fresh code per call
        "code": f"MT{next(_codes):04d}",
        "name": "测试党员",
        "unit_id": 1,
        "community_id": 1,
    }
    return [
        Call(p.ORGANISATION_READ, "GET", "/api/v1/communities"),
        Call(p.ORGANISATION_READ, "GET", "/api/v1/venue-registry"),
        Call(p.RECORDS_READ, "GET", "/api/v1/members"),
        Call(p.RECORDS_READ, "GET", "/api/v1/service-requests"),
        Call(p.RECORDS_WRITE, "POST", "/api/v1/members", body=member),
        Call(p.IMPORTS_WRITE, "POST", "/api/v1/imports/units", raw=b"code\n"),
        Call(p.ASSESSMENT_READ, "GET", "/api/v1/reports/assessment", {"year": YEAR}),
        Call(p.ASSESSMENT_READ, "GET", "/api/v1/reports/assessment.csv", {"year": YEAR}),
        Call(p.CHECKINS_READ, "GET", "/api/v1/checkins"),
        Call(p.CHECKINS_READ, "GET", "/api/v1/live/checkins", {"site": CENTRE}),
        Call(p.CHECKINS_READ, "GET", "/api/v1/attendance"),
        Call(p.ACTIVITIES_READ, "GET", "/api/v1/activities", {"centre_id": CENTRE}),
        Call(p.ACTIVITIES_WRITE, "POST", "/api/v1/activities", body=lambda: activity_body(CENTRE)),
        Call(p.READINGS_READ, "GET", "/api/v1/counter-readings"),
        Call(p.VENUES_READ, "GET", "/api/v1/venues"),
        Call(p.VENUES_READ, "GET", f"/api/v1/venues/{UNIT_VENUES[0]}/occupancy"),
        Call(p.VENUES_READ, "GET", "/api/v1/alerts"),
        Call(p.VENUE_SHARING_READ, "GET", "/api/v1/reports/venue-sharing", {"month": "2026-11"}),
        Call(p.DEVICES_READ, "GET", "/api/v1/devices"),
        Call(p.DEVICES_READ, "GET", "/api/v1/sites"),
        Call(p.DEAD_LETTERS_READ, "GET", "/api/v1/dead-letters"),
        Call(p.SYSTEM_READ, "GET", "/metrics"),
        Call(p.USERS_ADMIN, "GET", "/api/v1/users"),
    ]


def _send(secured: Secured, role: Role | None, call: Call) -> int:
    kwargs: dict[str, Any] = {"params": call.params}
    if call.body is not None:
        kwargs["json"] = call.body() if callable(call.body) else call.body
    if call.raw is not None:
        kwargs["content"] = call.raw
    return secured.call(role, call.method, call.path, **kwargs).status_code


def test_each_role_gets_what_the_table_gives_it_and_no_more(secured: Secured) -> None:
    table = calls()
    assert {c.permission for c in table} == set(Permission), "a permission is not exercised"
    wrong = []
    for role in Role:
        for call in table:
            status = _send(secured, role, call)
            allowed = call.permission in ROLE_PERMISSIONS[role]
            if (allowed and status in {401, 403}) or (not allowed and status != 403):
                wrong.append(f"{role.value} {call.method} {call.path}: {status}")
    assert wrong == []


def test_without_credentials_every_guarded_route_is_401(secured: Secured) -> None:
    for call in calls():
        response = secured.call(None, call.method, call.path, params=call.params)
        assert response.status_code == 401, call.path
        assert response.headers["www-authenticate"] == "Bearer"
    assert secured.get(None, "/api/v1/me").status_code == 401
    assert secured.get(None, "/api/v1/stream").status_code == 401


def test_allowed_writes_succeed(secured: Secured) -> None:
    """Not only "not refused": a records clerk enrols a member, a centre's staff enter an
    activity at their centre."""
    body = {"code": "MT9999", "name": "测试党员", "unit_id": 1, "community_id": 1}
    created = secured.call(Role.RECORDS_STAFF, "POST", "/api/v1/members", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "测**员", "masked"
    activity = secured.call(
        Role.CENTRE_STAFF, "POST", "/api/v1/activities", json=activity_body(CENTRE, day=9)
    )
    assert activity.status_code == 201, activity.text
    patched = secured.call(
        Role.CENTRE_STAFF,
        "PATCH",
        f"/api/v1/activities/{activity.json()['id']}",
        json={"title": "普法讲座"},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "普法讲座"
