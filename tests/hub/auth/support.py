"""A seeded hub with one user of each role, for the permission tests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from hub.auth import Permission, Role
from hub.live import LiveFeed
from tests.hub.support import ApiServer
from tests.users import bearer

ROOT = Path(__file__).resolve().parents[3]
SECURITY_DOC = ROOT / "docs" / "security.md"

CENTRE, OTHER_CENTRE = "centre-01", "centre-02"
UNIT = 1
"""The seeded owner unit of venue-03 and venue-04."""
UNIT_VENUES, OTHER_VENUE = ("venue-03", "venue-04"), "venue-01"
ALERTING_VENUES = (UNIT_VENUES[0], OTHER_VENUE)
"""Venues the fixture fills to capacity: one of the unit's, one of another unit's."""
YEAR = 2025


@dataclass
class Secured:
    """The API with no default credentials, and a token per role (scoped ones as above)."""

    app: FastAPI
    api: ApiServer
    feed: LiveFeed
    tokens: dict[Role, str] = field(default_factory=dict)

    def call(self, role: Role | None, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {} if role is None else bearer(self.tokens[role])
        return self.api.http.request(method, path, headers=headers, **kwargs)

    def get(self, role: Role | None, path: str, **params: Any) -> httpx.Response:
        return self.call(role, "GET", path, params=params)


def documented_permissions() -> dict[Role, set[Permission]]:
    """The permission table of docs/security.md: a mark (✓, or a scope such as "its centre")
    grants, "–" does not."""
    text = SECURITY_DOC.read_text(encoding="utf-8")
    section = text.split("## Permissions", 1)[1].splitlines()
    start = next(n for n, line in enumerate(section) if line.startswith("| permission"))
    header = section[start]
    end = next(n for n in range(start, len(section)) if not section[n].startswith("|"))
    lines = section[start + 2 : end]
    roles = [Role(c.strip()) for c in header.strip("|").split("|")[2:]]
    table: dict[Role, set[Permission]] = {role: set() for role in roles}
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        permission = Permission(re.sub(r"`", "", cells[0]))
        for role, mark in zip(roles, cells[2:], strict=True):
            if mark != "–":
                table[role].add(permission)
    return table


def activity_body(centre: str, day: int = 5) -> dict[str, Any]:
    start = datetime(2026, 12, day, 1, 0, tzinfo=UTC)
    return {
        "centre_id": centre,
        "title": "法律援助进社区",
        "theme": "法治宣传进社区",
        "kind": "themed_activity",
        "starts_at": start.isoformat(),
        "ends_at": start.replace(hour=3).isoformat(),
    }
