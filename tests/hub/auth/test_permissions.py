"""The permission table: documented = enforced, and every operation of the app called as every
role with a valid request, answered with the operation's own success status or exactly 403 as
the table in docs/security.md says; with no credentials, 401.

``EXAMPLES`` holds one valid request per operation of the OpenAPI schema; an operation without
one fails the test, so a new route cannot go unchecked.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from hub.api.routes.imports import WRITE_PERMISSION
from hub.api.routes.stream import TOPIC_PERMISSION
from hub.auth import ROLE_PERMISSIONS, Permission, Role
from hub.roster import ROSTER_KINDS
from tests.hub.auth.support import (
    CENTRE,
    OTHER_VENUE,
    UNIT,
    UNIT_VENUES,
    YEAR,
    Secured,
    activity_body,
    documented_permissions,
)
from tests.users import bearer, user_token

OPEN = {"/healthz", "/api/v1/session"}
"""Routes anyone may call (health for load balancers, logging in and out)."""
PUBLIC_PREFIX = "/public/v1/"
"""The one prefix anyone may call, by design: the public venue pages (no personal data,
rate-limited; docs/security.md)."""

CSV = "text/csv"


def test_the_documented_table_is_the_enforced_one() -> None:
    documented = documented_permissions()
    assert set(documented) == set(Role)
    assert documented == {role: set(perms) for role, perms in ROLE_PERMISSIONS.items()}
    assert ROLE_PERMISSIONS[Role.OPERATOR] == frozenset(Permission)
    assert not ROLE_PERMISSIONS[Role.VIEWER] & {Permission.RECORDS_READ, Permission.CHECKINS_READ}


def test_every_api_route_is_closed_without_credentials(secured: Secured) -> None:
    """Every operation of the OpenAPI schema under /api/ and /metrics, called with no
    credentials (path parameters filled with anything: the check comes before them), is 401."""
    checked = []
    public = []
    for method, path in _operations(secured):
        if path.startswith(PUBLIC_PREFIX):
            public.append(f"{method} {path}")
            continue
        assert path.startswith("/api/") or path in {"/metrics", "/healthz"}, (
            f"{method} {path}: neither under /api/ nor the public prefix"
        )
        if path in OPEN:
            continue
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        response = secured.api.http.request(method, concrete)
        assert response.status_code == 401, f"{method} {path}: {response.status_code}"
        checked.append(f"{method} {path}")
    assert len(checked) > 50, checked
    assert public, "the public routes are the exception, and they are there"


# --- one valid request per operation --------------------------------------------------------


@dataclass
class Context:
    """What the examples refer to in the seeded city, and the caller (for the login example)."""

    secured: Secured
    role: Role
    activity_id: int

    def as_operator(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.secured.call(Role.OPERATOR, method, path, **kwargs)
        assert response.is_success, response.text
        return response


Value = Any | Callable[[Context], Any]


@dataclass(frozen=True)
class Example:
    """A valid request. ``permission`` None: any user (``anyone``: no credentials needed);
    ``allowed`` overrides the table for a route whose permission depends on the request."""

    permission: Permission | None
    path: dict[str, Value] = field(default_factory=dict)
    params: dict[str, Any] | None = None
    json: Value = None
    content: bytes | None = None
    allowed: Callable[[Role], bool] | None = None
    anyone: bool = False
    also: tuple[Permission, ...] = ()
    """Permissions the route checks as well, by the request (proven by their own test)."""

    def may(self, role: Role) -> bool:
        if self.allowed is not None:
            return self.allowed(role)
        return self.permission is None or self.permission in documented_permissions()[role]


_codes = itertools.count(1)


def _command_in_scope(ctx: Context) -> str:
    """A command the role may read: at its venue for a venue manager, else at its centre."""
    site = UNIT_VENUES[0] if ctx.role is Role.VENUE_MANAGER else CENTRE
    body = {"site": site, "op": "ping"}
    return str(ctx.as_operator("POST", "/api/v1/commands", json=body).json()["id"])


def _member(_: Context) -> dict[str, Any]:
    return {"code": f"MP{next(_codes):04d}", "name": "测试党员", "unit_id": 1, "community_id": 1}


def _new_member(ctx: Context, *, archived: bool = False) -> int:
    member = int(ctx.as_operator("POST", "/api/v1/members", json=_member(ctx)).json()["id"])
    if archived:
        ctx.as_operator("POST", f"/api/v1/members/{member}/archive")
    return member


def _registration(ctx: Context) -> dict[str, Any]:
    """A member registers once per community: a new member each time."""
    member = ctx.as_operator("POST", "/api/v1/members", json=_member(ctx)).json()
    return {"community_id": 2, "member_id": member["id"], "registered_on": "2026-02-15"}


READER = {"id": "reader-1", "kind": "card_reader", "port": "/dev/serial/by-id/usb-FTDI-port0"}


def _unprovisioned(ctx: Context) -> dict[str, Any]:
    """A site to provision: a venue of the seeded city that has none yet."""
    provisioned = {
        s["id"]
        for s in ctx.as_operator("GET", "/api/v1/sites", params={"limit": 1000}).json()["data"]
        if s["account"] is not None
    }
    venues = ctx.as_operator("GET", "/api/v1/venue-registry", params={"limit": 1000}).json()["data"]
    free = sorted(v["id"] for v in venues if v["id"] not in provisioned)
    return {"site_id": free[0], "kind": "venue", "devices": [READER]}


def _provisioned(ctx: Context) -> str:
    """One site kept provisioned for the examples (provisioned again after a revoke)."""
    site = OTHER_VENUE
    account = ctx.secured.get(Role.OPERATOR, f"/api/v1/sites/{site}").json().get("account")
    if account is None or account["state"] == "revoked":
        body = {"site_id": site, "kind": "venue", "devices": [READER], "reinstate": True}
        ctx.as_operator("POST", "/api/v1/sites", json=body)
    return site


def _new_device(_: Context) -> dict[str, Any]:
    """A card reader on a port of its own (a reader shares no line)."""
    n = next(_codes)
    return {"id": f"reader-{n}", "kind": "card_reader", "port": f"/dev/ttyUSB{n}"}


def _device_to_remove(ctx: Context) -> str:
    device = _new_device(ctx)
    ctx.as_operator("POST", f"/api/v1/sites/{_provisioned(ctx)}/devices", json=device)
    return str(device["id"])


def _throwaway_user(ctx: Context) -> str:
    name = f"throwaway-{next(_codes)}"
    user_token(ctx.secured.app.state.settings.database_url, Role.VIEWER, username=name)
    return name


def _new_user(_: Context) -> dict[str, Any]:
    return {"username": f"new-user-{next(_codes)}", "role": "viewer"}


def _centre_community(ctx: Context) -> int:
    """A community the centre_staff's centre serves."""
    served = ctx.as_operator("GET", "/api/v1/communities", params={"centre_id": CENTRE})
    return int(served.json()["data"][0]["id"])


def _request(state: str) -> Callable[[Context], int]:
    """A new service request in the centre's community, brought to ``state`` (transferred to
    the unit contact's unit): in every scoped role's scope."""
    moves = {
        "raised": [],
        "transferred": [("transfer", {"unit_id": UNIT})],
        "accepted": [("transfer", {"unit_id": UNIT}), ("accept", None)],
        "resolved": [
            ("transfer", {"unit_id": UNIT}),
            ("accept", None),
            ("resolve", {"note": "已修复"}),
        ],
    }[state]

    def make(ctx: Context) -> int:
        body = {"community_id": _centre_community(ctx), "summary": "楼道照明损坏"}
        made = ctx.as_operator("POST", "/api/v1/service-requests", json=body).json()
        for move, json in moves:
            ctx.as_operator("POST", f"/api/v1/service-requests/{made['id']}/{move}", json=json)
        return int(made["id"])

    return make


def _audit_entry(ctx: Context) -> int:
    """The newest entry of the audit log, after a change that makes one."""
    ctx.as_operator("POST", "/api/v1/members", json=_member(ctx))
    newest = ctx.as_operator("GET", "/api/v1/audit", params={"limit": 1}).json()["data"][0]
    return int(newest["id"])


def _own_token(ctx: Context) -> dict[str, str]:
    return {"token": ctx.secured.tokens[ctx.role]}


def _may_stream(role: Role) -> bool:
    """Without ``topics`` the stream carries what the role may read; none at all is 403."""
    return any(p in documented_permissions()[role] for p in TOPIC_PERMISSION.values())


def _new_centre(_: Context) -> dict[str, Any]:
    return {"id": f"centre-9{next(_codes):03d}", "name": "测试服务中心", "community_id": 1}


def _centre(ctx: Context) -> str:
    """A centre of its own, to archive and restore (the seeded ones have activities)."""
    return str(
        ctx.as_operator("POST", "/api/v1/service-centres", json=_new_centre(ctx)).json()["id"]
    )


def _new_venue(_: Context) -> dict[str, Any]:
    return {
        "id": f"venue-9{next(_codes):03d}",
        "name": "测试运动场",
        "kind": "sports_ground",
        "unit_id": UNIT,
        "community_id": 1,
        "address": "原平市测试路1号",
        "capacity": 100,
        "opens_at": "07:00",
        "closes_at": "21:00",
    }


def _venue(ctx: Context) -> str:
    return str(ctx.as_operator("POST", "/api/v1/venue-registry", json=_new_venue(ctx)).json()["id"])


def _closure(ctx: Context) -> int:
    body = {"starts_on": "2030-02-01", "ends_on": "2030-02-03", "reason": "检修"}
    path = f"/api/v1/venue-registry/{UNIT_VENUES[0]}/closures"
    return int(ctx.as_operator("POST", path, json=body).json()["id"])


def _own_channel(ctx: Context) -> int:
    """An e-mail channel of the caller's own (a role without the permission is refused first)."""
    if P.NOTIFICATIONS_OWN not in documented_permissions()[ctx.role]:
        return 1
    body = {"kind": "email", "name": "值班邮箱", "target": "duty@example.org"}
    response = ctx.secured.call(ctx.role, "POST", "/api/v1/me/notification-channels", json=body)
    assert response.is_success, response.text
    return int(response.json()["id"])


def _new(body: Callable[[int], dict[str, Any]]) -> Callable[[Context], dict[str, Any]]:
    """A body for ``POST path`` with a code not yet taken."""
    return lambda _: body(next(_codes))


REGISTRY: dict[str, tuple[str, Callable[[int], dict[str, Any]], dict[str, Any]]] = {
    "/subdistricts": ("subdistrict_id", lambda n: {"code": f"SDP{n}", "name": "街道"}, {}),
    "/communities": (
        "community_id",
        lambda n: {"code": f"CP{n}", "name": "社区", "subdistrict_id": 1},
        {"centre_id": CENTRE},
    ),
    "/grids": (
        "grid_id",
        lambda n: {"code": f"GP{n}", "name": "网格", "community_id": 1, "level": 1},
        {},
    ),
    "/party-orgs": (
        "party_org_id",
        lambda n: {"code": f"PP{n}", "name": "党工委", "kind": "working_committee"},
        {},
    ),
    "/units": ("unit_id", lambda n: {"code": f"UP{n}", "name": "单位", "kind": "agency"}, {}),
    "/alliances": ("alliance_id", lambda n: {"code": f"AP{n}", "name": "联盟"}, {}),
    "/agreements": (
        "agreement_id",
        lambda n: {
            "code": f"XYP{n}",
            "community_id": 1,
            "unit_id": 1,
            "signed_on": "2026-03-01",
            "menu": [{"direction": "offer", "title": "义诊"}],
        },
        {"ends_on": "2027-12-31", "menu": [{"direction": "need", "title": "助老"}]},
    ),
    "/volunteer-teams": (
        "team_id",
        lambda n: {"code": f"VP{n}", "name": "志愿队", "kind": "group", "community_id": 1},
        {},
    ),
}
"""Per registry collection: its id's name, a new row's body, a change (besides its code)."""


def _made(path: str, body: Callable[[int], dict[str, Any]], *, archived: bool = False) -> Value:
    """A new row's id (archived, to be restored), made by an operator for each call."""

    def make(ctx: Context) -> int:
        row = ctx.as_operator("POST", f"/api/v1{path}", json=body(next(_codes))).json()
        if archived:
            ctx.as_operator("POST", f"/api/v1{path}/{row['id']}/archive")
        return int(row["id"])

    return make


def _registry_examples() -> dict[tuple[str, str], Example]:
    examples = {}
    for path, (id_name, body, change) in REGISTRY.items():
        one = f"/api/v1{path}/{{{id_name}}}"
        new: Value = _made(path, body)
        examples[("POST", f"/api/v1{path}")] = Example(P.ORGANISATION_WRITE, json=_new(body))
        examples[("PATCH", one)] = Example(
            P.ORGANISATION_WRITE,
            path={id_name: new},
            json=change or {"name": "改名"},
        )
        examples[("POST", f"{one}/archive")] = Example(P.ORGANISATION_WRITE, path={id_name: new})
        examples[("POST", f"{one}/restore")] = Example(
            P.ORGANISATION_WRITE, path={id_name: _made(path, body, archived=True)}
        )
    return examples


def _alliance_unit(ctx: Context) -> int:
    return int(ctx.as_operator("GET", "/api/v1/alliances/1").json()["unit_ids"][0])


def _chair_body(ctx: Context) -> dict[str, Any]:
    """A period of its own (a month), by a unit of alliance 1."""
    n = next(_codes)
    start = f"{2040 + n // 12}-{n % 12 + 1:02d}"
    return {"unit_id": _alliance_unit(ctx), "starts_on": f"{start}-01", "ends_on": f"{start}-28"}


def _chair(ctx: Context) -> int:
    alliance = ctx.as_operator("POST", "/api/v1/alliances/1/chairs", json=_chair_body(ctx)).json()
    return max(int(c["id"]) for c in alliance["chairs"])


def _imports(kind: str, csv: str) -> tuple[tuple[str, str], Example]:
    """An import needs ``imports.write`` and the kind's own write permission."""
    write = WRITE_PERMISSION[kind]  # type: ignore[index]
    return ("POST", f"/api/v1/imports/{kind}"), Example(
        Permission.IMPORTS_WRITE,
        params={"format": "csv"},
        content=csv.encode(),
        allowed=lambda role: {Permission.IMPORTS_WRITE, write} <= documented_permissions()[role],
        also=(write,),
    )


def _template(kind: str) -> tuple[tuple[str, str], Example]:
    return ("GET", f"/api/v1/imports/{kind}/template"), Example(
        Permission.IMPORTS_WRITE, params={"format": "xlsx"}
    )


def _export(kind: str, permission: Permission) -> tuple[tuple[str, str], Example]:
    return ("GET", f"/api/v1/exports/{kind}"), Example(permission, params={"format": "csv"})


P = Permission
ORG, RECORDS = P.ORGANISATION_READ, P.RECORDS_READ
VENUE: dict[str, Value] = {"venue_id": UNIT_VENUES[0]}
_RING = [[112.70, 38.72], [112.72, 38.72], [112.72, 38.74], [112.70, 38.72]]
OUTLINES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "Polygon", "coordinates": [_RING]},
        }
    ],
}
EXAMPLES: dict[tuple[str, str], Example] = {
    ("GET", "/healthz"): Example(None, anyone=True),
    ("GET", "/metrics"): Example(P.SYSTEM_READ),
    ("POST", "/api/v1/session"): Example(None, json=_own_token, anyone=True),
    ("DELETE", "/api/v1/session"): Example(None, anyone=True),
    ("GET", "/api/v1/me"): Example(None),
    ("GET", "/api/v1/me/notification-settings"): Example(P.NOTIFICATIONS_OWN),
    ("PUT", "/api/v1/me/notification-settings"): Example(
        P.NOTIFICATIONS_OWN,
        json={"events": ["capacity_alert"], "quiet_from": "22:00", "quiet_to": "07:00"},
    ),
    ("POST", "/api/v1/me/notification-channels"): Example(
        P.NOTIFICATIONS_OWN, json={"kind": "email", "name": "邮箱", "target": "me@example.org"}
    ),
    ("DELETE", "/api/v1/me/notification-channels/{channel_id}"): Example(
        P.NOTIFICATIONS_OWN, path={"channel_id": _own_channel}
    ),
    ("POST", "/api/v1/me/notification-channels/{channel_id}/test"): Example(
        P.NOTIFICATIONS_OWN, path={"channel_id": _own_channel}
    ),
    ("GET", "/api/v1/notifications"): Example(P.NOTIFICATIONS_READ),
    ("GET", "/api/v1/users"): Example(P.USERS_ADMIN),
    ("POST", "/api/v1/users"): Example(P.USERS_ADMIN, json=_new_user),
    ("POST", "/api/v1/users/{username}/revoke"): Example(
        P.USERS_ADMIN, path={"username": _throwaway_user}
    ),
    ("GET", "/api/v1/checkins"): Example(P.CHECKINS_READ, params={"site": CENTRE}),
    ("GET", "/api/v1/live/checkins"): Example(P.CHECKINS_READ, params={"site": CENTRE}),
    ("GET", "/api/v1/attendance"): Example(P.CHECKINS_READ, params={"centre_id": CENTRE}),
    ("GET", "/api/v1/counter-readings"): Example(P.READINGS_READ),
    ("GET", "/api/v1/bay-readings"): Example(P.READINGS_READ),
    ("GET", "/api/v1/sites"): Example(P.DEVICES_READ),
    ("GET", "/api/v1/sites/{site_id}"): Example(P.DEVICES_READ, path={"site_id": CENTRE}),
    ("GET", "/api/v1/devices"): Example(P.DEVICES_READ, params={"site": CENTRE}),
    ("POST", "/api/v1/sites"): Example(P.SITES_WRITE, json=_unprovisioned),
    ("POST", "/api/v1/sites/{site_id}/bundle"): Example(
        P.SITES_WRITE, path={"site_id": _provisioned}
    ),
    ("PUT", "/api/v1/sites/{site_id}/devices"): Example(
        P.SITES_WRITE, path={"site_id": _provisioned}, json={"devices": [READER]}
    ),
    ("POST", "/api/v1/sites/{site_id}/devices"): Example(
        P.SITES_WRITE, path={"site_id": _provisioned}, json=_new_device
    ),
    ("DELETE", "/api/v1/sites/{site_id}/devices/{device_id}"): Example(
        P.SITES_WRITE, path={"site_id": _provisioned, "device_id": _device_to_remove}
    ),
    ("POST", "/api/v1/sites/{site_id}/revoke"): Example(
        P.SITES_WRITE, path={"site_id": _provisioned}
    ),
    ("GET", "/api/v1/dead-letters"): Example(P.DEAD_LETTERS_READ),
    ("GET", "/api/v1/audit"): Example(P.AUDIT_READ, params={"table": "members"}),
    ("GET", "/api/v1/audit/{entry_id}"): Example(P.AUDIT_READ, path={"entry_id": _audit_entry}),
    ("GET", "/api/v1/commands"): Example(P.COMMANDS_READ),
    ("GET", "/api/v1/commands/{command_id}"): Example(
        P.COMMANDS_READ, path={"command_id": _command_in_scope}
    ),
    ("POST", "/api/v1/commands"): Example(
        P.COMMANDS_ALERT,
        json={
            "site": UNIT_VENUES[0],
            "op": "alert",
            "args": {"state": "raised", "occupancy": 19, "capacity": 20},
        },
        also=(P.COMMANDS_SEND,),  # the other operations: test_only_operators_send_any_command
    ),
    ("GET", "/public/v1/venues"): Example(None, anyone=True),
    ("GET", "/public/v1/venues/{venue_id}"): Example(None, path=VENUE, anyone=True),
    ("GET", "/public/v1/venues/{venue_id}/qr.svg"): Example(None, path=VENUE, anyone=True),
    ("GET", "/public/v1/map"): Example(None, anyone=True),
    ("GET", "/public/v1/map/outlines"): Example(None, anyone=True),
    ("PUT", "/api/v1/map/outlines"): Example(P.REGISTRY_WRITE, json=OUTLINES),
    ("GET", "/api/v1/venues"): Example(P.VENUES_READ),
    ("GET", "/api/v1/venues/{venue_id}"): Example(P.VENUES_READ, path=VENUE),
    ("GET", "/api/v1/venues/{venue_id}/occupancy"): Example(P.VENUES_READ, path=VENUE),
    ("GET", "/api/v1/venues/{venue_id}/sessions"): Example(
        P.VENUES_READ, path=VENUE, params={"month": "2026-11"}
    ),
    ("GET", "/api/v1/alerts"): Example(P.VENUES_READ),
    ("GET", "/api/v1/reports/venue-sharing"): Example(
        P.VENUE_SHARING_READ, params={"month": "2026-11"}
    ),
    ("GET", "/api/v1/stream"): Example(None, allowed=_may_stream),
    ("GET", "/api/v1/subdistricts"): Example(ORG),
    ("GET", "/api/v1/subdistricts/{subdistrict_id}"): Example(ORG, path={"subdistrict_id": 1}),
    ("GET", "/api/v1/communities"): Example(ORG),
    ("GET", "/api/v1/communities/{community_id}"): Example(ORG, path={"community_id": 1}),
    ("GET", "/api/v1/grids"): Example(ORG),
    ("GET", "/api/v1/grids/{grid_id}"): Example(ORG, path={"grid_id": 1}),
    ("GET", "/api/v1/party-orgs"): Example(ORG),
    ("GET", "/api/v1/party-orgs/{party_org_id}"): Example(ORG, path={"party_org_id": 1}),
    ("GET", "/api/v1/units"): Example(ORG),
    ("GET", "/api/v1/units/{unit_id}"): Example(ORG, path={"unit_id": 1}),
    ("GET", "/api/v1/alliances"): Example(ORG),
    ("GET", "/api/v1/alliances/{alliance_id}"): Example(ORG, path={"alliance_id": 1}),
    ("GET", "/api/v1/agreements"): Example(ORG),
    ("GET", "/api/v1/agreements/{agreement_id}"): Example(ORG, path={"agreement_id": 1}),
    ("GET", "/api/v1/service-centres"): Example(ORG),
    ("GET", "/api/v1/service-centres/{centre_id}"): Example(ORG, path={"centre_id": CENTRE}),
    ("GET", "/api/v1/volunteer-teams"): Example(ORG),
    ("GET", "/api/v1/volunteer-teams/{team_id}"): Example(ORG, path={"team_id": 1}),
    ("GET", "/api/v1/venue-registry"): Example(ORG),
    ("GET", "/api/v1/venue-registry/{venue_id}"): Example(ORG, path=VENUE),
    ("POST", "/api/v1/service-centres"): Example(P.REGISTRY_WRITE, json=_new_centre),
    ("PATCH", "/api/v1/service-centres/{centre_id}"): Example(
        P.REGISTRY_WRITE, path={"centre_id": CENTRE}, json={"name": "新原社区党群服务中心"}
    ),
    ("POST", "/api/v1/service-centres/{centre_id}/archive"): Example(
        P.REGISTRY_WRITE, path={"centre_id": _centre}
    ),
    ("POST", "/api/v1/service-centres/{centre_id}/restore"): Example(
        P.REGISTRY_WRITE, path={"centre_id": _centre}
    ),
    ("POST", "/api/v1/venue-registry"): Example(P.REGISTRY_WRITE, json=_new_venue),
    ("PATCH", "/api/v1/venue-registry/{venue_id}"): Example(
        P.VENUE_HOURS_WRITE, path=VENUE, json={"alert_threshold_pct": 90.0}
    ),
    ("POST", "/api/v1/venue-registry/{venue_id}/archive"): Example(
        P.REGISTRY_WRITE, path={"venue_id": _venue}
    ),
    ("POST", "/api/v1/venue-registry/{venue_id}/restore"): Example(
        P.REGISTRY_WRITE, path={"venue_id": _venue}
    ),
    ("GET", "/api/v1/venue-registry/{venue_id}/hours"): Example(ORG, path=VENUE),
    ("PUT", "/api/v1/venue-registry/{venue_id}/hours"): Example(
        P.VENUE_HOURS_WRITE,
        path=VENUE,
        json=[{"weekday": 6, "opens_at": "08:00", "closes_at": "20:00"}],
    ),
    ("GET", "/api/v1/venue-registry/{venue_id}/closures"): Example(ORG, path=VENUE),
    ("POST", "/api/v1/venue-registry/{venue_id}/closures"): Example(
        P.VENUE_HOURS_WRITE,
        path=VENUE,
        json={"starts_on": "2030-01-01", "ends_on": "2030-01-02", "reason": "检修"},
    ),
    ("DELETE", "/api/v1/venue-registry/{venue_id}/closures/{closure_id}"): Example(
        P.VENUE_HOURS_WRITE, path={**VENUE, "closure_id": _closure}
    ),
    ("GET", "/api/v1/service-requests"): Example(P.REQUESTS_READ),
    ("GET", "/api/v1/service-requests/categories"): Example(P.REQUESTS_READ),
    ("GET", "/api/v1/service-requests/{request_id}"): Example(
        P.REQUESTS_READ, path={"request_id": _request("transferred")}
    ),
    ("GET", "/api/v1/service-requests/{request_id}/history"): Example(
        P.REQUESTS_READ, path={"request_id": _request("transferred")}
    ),
    ("GET", "/api/v1/service-requests/{request_id}/suggestions"): Example(
        P.REQUESTS_MANAGE, path={"request_id": _request("raised")}
    ),
    ("GET", "/api/v1/service-requests/{request_id}/contact"): Example(
        P.REQUESTS_HANDLE, path={"request_id": _request("accepted")}
    ),
    ("POST", "/api/v1/service-requests"): Example(
        P.REQUESTS_MANAGE,
        json=lambda ctx: {"community_id": _centre_community(ctx), "summary": "路灯不亮"},
    ),
    ("POST", "/api/v1/service-requests/{request_id}/classify"): Example(
        P.REQUESTS_MANAGE, path={"request_id": _request("raised")}, json={"category": "设施维修"}
    ),
    ("POST", "/api/v1/service-requests/{request_id}/transfer"): Example(
        P.REQUESTS_MANAGE, path={"request_id": _request("raised")}, json={"unit_id": UNIT}
    ),
    ("POST", "/api/v1/service-requests/{request_id}/accept"): Example(
        P.REQUESTS_HANDLE, path={"request_id": _request("transferred")}
    ),
    ("POST", "/api/v1/service-requests/{request_id}/decline"): Example(
        P.REQUESTS_HANDLE,
        path={"request_id": _request("transferred")},
        json={"reason": "非本单位职责"},
    ),
    ("POST", "/api/v1/service-requests/{request_id}/resolve"): Example(
        P.REQUESTS_HANDLE, path={"request_id": _request("accepted")}, json={"note": "已修复"}
    ),
    ("POST", "/api/v1/service-requests/{request_id}/confirm"): Example(
        P.REQUESTS_MANAGE, path={"request_id": _request("resolved")}
    ),
    ("POST", "/api/v1/service-requests/{request_id}/reopen"): Example(
        P.REQUESTS_MANAGE, path={"request_id": _request("resolved")}, json={"reason": "仍未修好"}
    ),
    ("GET", "/public/v1/service-requests/communities"): Example(None, anyone=True),
    ("POST", "/public/v1/service-requests"): Example(
        None,
        anyone=True,
        json=lambda ctx: {"community_id": _centre_community(ctx), "summary": "路面积水"},
    ),
    ("GET", "/api/v1/members"): Example(RECORDS),
    ("GET", "/api/v1/members/{member_id}"): Example(RECORDS, path={"member_id": 1}),
    ("POST", "/api/v1/members"): Example(P.RECORDS_WRITE, json=_member),
    ("PATCH", "/api/v1/members/{member_id}"): Example(
        P.RECORDS_WRITE, path={"member_id": 1}, json={"in_service": True}
    ),
    ("POST", "/api/v1/members/{member_id}/archive"): Example(
        P.RECORDS_WRITE, path={"member_id": _new_member}
    ),
    ("POST", "/api/v1/members/{member_id}/restore"): Example(
        P.RECORDS_WRITE, path={"member_id": lambda ctx: _new_member(ctx, archived=True)}
    ),
    **_registry_examples(),
    ("POST", "/api/v1/alliances/{alliance_id}/chairs"): Example(
        P.ORGANISATION_WRITE, path={"alliance_id": 1}, json=_chair_body
    ),
    ("PATCH", "/api/v1/alliances/{alliance_id}/chairs/{chair_id}"): Example(
        P.ORGANISATION_WRITE,
        path={"alliance_id": 1, "chair_id": _chair},
        json=lambda ctx: {"unit_id": _alliance_unit(ctx)},
    ),
    ("DELETE", "/api/v1/alliances/{alliance_id}/chairs/{chair_id}"): Example(
        P.ORGANISATION_WRITE, path={"alliance_id": 1, "chair_id": _chair}
    ),
    ("GET", "/api/v1/volunteer-teams/{team_id}/members"): Example(RECORDS, path={"team_id": 1}),
    ("PUT", "/api/v1/volunteer-teams/{team_id}/members"): Example(
        P.ORGANISATION_WRITE, path={"team_id": 1}, json={"member_ids": [1, 2]}
    ),
    ("GET", "/api/v1/registrations"): Example(RECORDS),
    ("GET", "/api/v1/registrations/{registration_id}"): Example(
        RECORDS, path={"registration_id": 1}
    ),
    ("POST", "/api/v1/registrations"): Example(P.RECORDS_WRITE, json=_registration),
    ("PATCH", "/api/v1/registrations/{registration_id}"): Example(
        P.RECORDS_WRITE, path={"registration_id": 1}, json={"registered_on": "2026-03-01"}
    ),
    ("GET", "/api/v1/activities"): Example(P.ACTIVITIES_READ, params={"centre_id": CENTRE}),
    ("GET", "/api/v1/activities/{activity_id}"): Example(
        P.ACTIVITIES_READ, path={"activity_id": lambda ctx: ctx.activity_id}
    ),
    ("POST", "/api/v1/activities"): Example(
        P.ACTIVITIES_WRITE, json=lambda _: activity_body(CENTRE)
    ),
    ("PATCH", "/api/v1/activities/{activity_id}"): Example(
        P.ACTIVITIES_WRITE,
        path={"activity_id": lambda ctx: ctx.activity_id},
        json={"title": "普法讲座"},
    ),
    ("GET", "/api/v1/reports/assessment"): Example(P.ASSESSMENT_READ, params={"year": YEAR}),
    ("GET", "/api/v1/reports/assessment.csv"): Example(P.ASSESSMENT_READ, params={"year": YEAR}),
    ("GET", "/api/v1/reports/assessment.xlsx"): Example(P.ASSESSMENT_READ, params={"year": YEAR}),
    # Rows of the seeded city's own codes: imported again, each is an update.
    **dict(
        [
            _imports("units", "编号,名称,类型,社区编号\nU001,原平市测试单位,企业,C01\n"),
            _imports("members", "编号,姓名,单位编号,社区编号\nM00001,测试党员,U001,C01\n"),
            _imports(
                "agreements",
                "编号,社区编号,单位编号,签订日期,截止日期,单位提供,社区需求\n"
                "XY001,C01,U001,2026-03-01,2027-02-28,义诊,楼道照明\n",
            ),
            # new rows: created by the first role allowed, the same again for the others
            _imports("subdistricts", "编号,名称\nSD09,测试街道\n"),
            _imports("communities", "编号,名称,街道编号\nC09,测试社区,SD01\n"),
            _imports("grids", "编号,名称,社区编号,层级,上级网格编号\nG901,测试网格,C01,2,G001\n"),
            _imports("party-orgs", "编号,名称,类型,街道编号\nP901,测试党工委,街道党工委,SD01\n"),
            _imports("alliances", "编号,名称,街道编号\nA09,测试党建联盟,SD01\n"),
            _imports("service-centres", "编号,名称,社区编号\ncentre-09,测试党群服务中心,C01\n"),
            _imports(
                "venues",
                "编号,名称,类型,单位编号,社区编号,地址,容量,开放时间,关闭时间,周日\n"
                "venue-90,测试停车场,停车场,U001,C01,原平市测试路1号,50,06:00,22:00,休息\n",
            ),
            _imports("volunteer-teams", "编号,名称,类型,社区编号\nV901,测试志愿服务队,小组,C01\n"),
            *(_template(kind) for kind in ROSTER_KINDS),
            _export("members", RECORDS),
            _export("registrations", RECORDS),
            _export("activities", P.ACTIVITIES_READ),
            _export("venues", P.VENUES_READ),
            *(_export(kind, ORG) for kind in ROSTER_KINDS if kind not in {"members", "venues"}),
        ]
    ),
}


def _operations(secured: Secured) -> list[tuple[str, str]]:
    schema = secured.api.http.get("/openapi.json").json()
    return [(m.upper(), path) for path, ops in schema["paths"].items() for m in ops]


def _success(secured: Secured) -> dict[tuple[str, str], int]:
    """Each operation's declared success status (its one 2xx answer)."""
    schema = secured.api.http.get("/openapi.json").json()
    found = {}
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            (code,) = [int(c) for c in op["responses"] if c.startswith("2")]
            found[method.upper(), path] = code
    return found


def _value(value: Value, ctx: Context) -> Any:
    return value(ctx) if callable(value) else value


def _send(secured: Secured, role: Role | None, op: tuple[str, str], ctx: Context) -> int:
    method, template = op
    example = EXAMPLES[op]
    path = template.format(**{k: _value(v, ctx) for k, v in example.path.items()})
    headers = {} if role is None else bearer(secured.tokens[role])
    kwargs: dict[str, Any] = {"params": example.params, "headers": headers}
    if example.json is not None:
        kwargs["json"] = _value(example.json, ctx)
    if example.content is not None:
        kwargs["content"] = example.content
        headers["Content-Type"] = CSV
    http = secured.api.http
    try:
        if template == "/api/v1/stream":  # an open stream: its status is all there is to read
            with http.stream(method, path, **kwargs) as response:
                return response.status_code
        return http.request(method, path, **kwargs).status_code
    finally:
        http.cookies.clear()  # a login's cookie must not carry over to the next call


def _context(secured: Secured, role: Role) -> Context:
    activities = secured.get(Role.OPERATOR, "/api/v1/activities", centre_id=CENTRE).json()
    return Context(secured, role, activities["data"][0]["id"])


def test_every_operation_has_a_valid_example(secured: Secured) -> None:
    operations = set(_operations(secured))
    assert operations - set(EXAMPLES) == set(), "operations without an example request"
    assert set(EXAMPLES) - operations == set(), "examples of operations the app does not have"


def test_each_role_gets_each_operations_success_or_403_as_the_table_says(
    secured: Secured,
) -> None:
    """Every operation, every role, a valid request: the operation's declared success status
    where the table grants it (scoped roles asked within their scope), else exactly 403."""
    success = _success(secured)
    operations = [op for op in _operations(secured) if op in EXAMPLES]
    wrong = []
    for role in Role:
        ctx = _context(secured, role)
        for op in operations:
            expected = success[op] if EXAMPLES[op].may(role) else 403
            status = _send(secured, role, op, ctx)
            if status != expected:
                wrong.append(f"{role.value} {op[0]} {op[1]}: {status}, not {expected}")
    assert wrong == []
    exercised = {e.permission for e in EXAMPLES.values()} | {
        p for e in EXAMPLES.values() for p in e.also
    }
    assert exercised >= set(Permission), "each is exercised"


def test_only_operators_send_any_command(secured: Secured) -> None:
    """``commands.send`` (every operation) is the operator's; a venue manager, who may send
    ``alert`` to its venues, is refused ``ping`` there and ``alert`` elsewhere."""
    ping = {"site": UNIT_VENUES[0], "op": "ping"}
    assert secured.call(Role.OPERATOR, "POST", "/api/v1/commands", json=ping).status_code == 201
    refused = secured.call(Role.VENUE_MANAGER, "POST", "/api/v1/commands", json=ping)
    assert refused.status_code == 403
    assert "commands.send" in refused.json()["detail"]
    elsewhere = {
        "site": OTHER_VENUE,
        "op": "alert",
        "args": {"state": "raised", "occupancy": 19, "capacity": 20},
    }
    response = secured.call(Role.VENUE_MANAGER, "POST", "/api/v1/commands", json=elsewhere)
    assert response.status_code == 403
    assert Permission.COMMANDS_SEND not in documented_permissions()[Role.VENUE_MANAGER]


def test_without_credentials_every_guarded_operation_is_401(secured: Secured) -> None:
    """The same valid requests with no credentials: 401 with the Bearer challenge."""
    success = _success(secured)
    ctx = _context(secured, Role.OPERATOR)
    for op in _operations(secured):
        if op not in EXAMPLES:
            continue
        expected = success[op] if EXAMPLES[op].anyone else 401
        if op == ("POST", "/api/v1/session"):
            expected = 200  # logging in with a token is how credentials start
        assert _send(secured, None, op, ctx) == expected, op


def test_allowed_writes_succeed(secured: Secured) -> None:
    """Not only the status: a records clerk enrols a member, a centre's staff enter an
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
