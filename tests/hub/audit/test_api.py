"""The audit log in the API: operators filter it by who, what, where from and when, page it
newest first and read one entry; no other role gets it; the API's own writes and the
assessment's member sheet show up in it with the user."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hub.api import create_app
from hub.auth import Role
from hub.core.settings import HubSettings
from tests.hub.audit.support import add_entry, entries
from tests.hub.org.support import City
from tests.hub.support import ApiServer
from tests.users import bearer, user_token

T0 = datetime(2026, 11, 27, 0, 30, tzinfo=UTC)  # 08:30 in the city


@pytest.fixture
def api(db_settings: HubSettings) -> Iterator[ApiServer]:
    app = create_app(db_settings)
    server = ApiServer(app, token=user_token(db_settings.database_url, username="op-wang"))
    yield server
    server.close()
    app.state.engine.dispose()


@pytest.fixture
def logged(engine: sa.Engine) -> list[int]:
    """Six entries an hour apart from T0: alice's three venue updates, an archive by bob from
    the console, an import and an export."""
    return [
        add_entry(engine, T0, before={"capacity": 100}, after={"capacity": 120}),
        add_entry(engine, T0 + timedelta(hours=1)),
        add_entry(engine, T0 + timedelta(hours=2), row_id="venue-08"),
        add_entry(
            engine,
            T0 + timedelta(hours=3),
            actor="bob",
            source="cli",
            action="archive",
            before={"archived_at": None},
            after={"archived_at": "2026-11-27T03:30:00+00:00"},
        ),
        add_entry(engine, T0 + timedelta(hours=4), actor="bob", source="import", table="units"),
        add_entry(
            engine,
            T0 + timedelta(hours=5),
            actor="carol",
            action="export",
            table="assessment.members",
            row_id="-",
            before={},
            after={"format": "csv", "year": 2025},
        ),
    ]


def _ids(api: ApiServer, **params: object) -> list[int]:
    """Within the day of the entries above (the users the fixtures make are logged too)."""
    window = {"since": T0.isoformat(), "until": (T0 + timedelta(days=1)).isoformat()}
    response = api.get("/api/v1/audit", **{**window, **params})
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["data"]]


def test_filters_narrow_the_log_newest_first(api: ApiServer, logged: list[int]) -> None:
    a1, a2, a3, archive, imported, export = logged
    assert _ids(api) == [export, imported, archive, a3, a2, a1]
    assert _ids(api, actor="alice") == [a3, a2, a1]
    assert _ids(api, table="venues", row_id="venue-07") == [archive, a2, a1]
    assert _ids(api, action="archive") == [archive]
    assert _ids(api, source="cli") == [archive]
    assert _ids(api, source="import") == [imported]
    assert _ids(api, action="export", table="assessment.members") == [export]
    window = {"until": (T0 + timedelta(hours=3)).isoformat()}
    assert _ids(api, **window) == [a3, a2, a1]
    city_time = {"since": "2026-11-27T09:30:00+08:00", "until": "2026-11-27T11:30:00+08:00"}
    response = api.get("/api/v1/audit", **city_time)
    assert [row["id"] for row in response.json()["data"]] == [a3, a2]


def test_pages_count_every_match(api: ApiServer, logged: list[int]) -> None:
    first = api.get("/api/v1/audit", actor="alice", limit=2).json()
    second = api.get("/api/v1/audit", actor="alice", limit=2, offset=2).json()
    assert first["count"] == second["count"] == 3
    assert [r["id"] for r in first["data"] + second["data"]] == logged[2::-1]


def test_one_entry_shows_its_values_as_stored(api: ApiServer, logged: list[int]) -> None:
    entry = api.get(f"/api/v1/audit/{logged[0]}").json()
    assert entry["before"] == {"capacity": 100}
    assert entry["after"] == {"capacity": 120}
    assert (entry["actor"], entry["source"], entry["action"]) == ("alice", "api", "update")
    assert (entry["table_name"], entry["row_id"]) == ("venues", "venue-07")
    missing = api.get("/api/v1/audit/2147483647")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no audit entry 2147483647"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"actor": "x" * 65}, "actor"),
        ({"actor": "bad\x00name"}, "actor"),
        ({"table": "venues; drop"}, "table"),
        ({"row_id": "r" * 201}, "row_id"),
        ({"action": "rewrite"}, "action"),
        ({"source": "web"}, "source"),
        ({"since": "0001-01-01T00:00:00Z"}, "since"),
        ({"until": "yesterday"}, "until"),
        ({"limit": 1001}, "limit"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(
    api: ApiServer, params: dict[str, object], field: str
) -> None:
    response = api.get("/api/v1/audit", **params)
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]


def test_a_time_range_backwards_is_refused_with_a_sentence(api: ApiServer) -> None:
    response = api.get(
        "/api/v1/audit", since="2026-11-27T10:00:00+08:00", until="2026-11-27T09:00:00+08:00"
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "'since' must not be after 'until'"


@pytest.mark.parametrize("role", [Role.RECORDS_STAFF, Role.VENUE_MANAGER, Role.VIEWER])
def test_only_operators_read_the_log(
    api: ApiServer, db_settings: HubSettings, engine: sa.Engine, logged: list[int], role: Role
) -> None:
    unit = None
    if role is Role.VENUE_MANAGER:
        city = City(engine)
        unit = city.add_unit("U01").id
        city.commit()
        city.close()
    token = user_token(db_settings.database_url, role, unit=unit)
    for path in ("/api/v1/audit", f"/api/v1/audit/{logged[0]}"):
        response = api.http.get(path, headers=bearer(token))
        assert response.status_code == 403, (path, response.text)


def test_an_api_write_is_logged_with_its_user_and_request(
    api: ApiServer, engine: sa.Engine
) -> None:
    made = api.http.post("/api/v1/users", json={"username": "new-viewer", "role": "viewer"})
    assert made.status_code == 201, made.text
    response = api.get("/api/v1/audit", table="users", actor="op-wang")
    (entry,) = response.json()["data"]
    assert (entry["source"], entry["action"], entry["request"]) == (
        "api",
        "create",
        "POST /api/v1/users",
    )
    assert entry["after"]["username"] == "new-viewer"
    assert entry["before"] is None
    (token,) = entries(engine, table_name="api_tokens", actor="op-wang")
    assert token.after is not None
    assert token.after["token_hash"] == "(redacted)"


def test_the_assessments_member_sheet_is_logged_as_an_export(
    api: ApiServer, engine: sa.Engine
) -> None:
    for params in ({"year": 2025}, {"year": 2025, "table": "units"}):
        assert api.get("/api/v1/reports/assessment.csv", **params).status_code == 200
    assert api.get("/api/v1/reports/assessment.xlsx", year=2024).status_code == 200
    exports = entries(engine, action="export")
    assert [(e.actor, e.source, e.table_name, e.after) for e in exports] == [
        (
            "op-wang",
            "api",
            "assessment.members",
            {"format": "csv", "year": 2025, "table": "members"},
        ),
        (
            "op-wang",
            "api",
            "assessment.members",
            {"format": "xlsx", "year": 2024, "table": "members"},
        ),
    ]
    assert all(e.request and e.request.startswith("GET /api/v1/reports/") for e in exports)
