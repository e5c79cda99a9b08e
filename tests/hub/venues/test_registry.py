"""The registry's writes through the API (SQLite and PostgreSQL): service centres and venues
created, changed, archived and restored by an operator, refusals naming the field; a venue
manager keeps its own unit's venues' hours, closures, capacity and threshold and nothing else;
every write in the audit log with the user."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hub.api import create_app
from hub.audit import AuditEntry
from hub.auth import Role
from hub.core.settings import HubSettings
from hub.org.models import Agreement, Community, Unit
from tests.hub.support import ApiServer
from tests.hub.venues.support import register_venue
from tests.users import bearer, user_token

OPERATOR, MANAGER = "ops-li", "manager-wang"


@dataclass
class City:
    api: ApiServer
    engine: Engine
    manager: dict[str, str]
    unit: int
    """The manager's unit: owner of venue-01; venue-02 is another unit's."""
    other_unit: int
    community: int
    agreement: int
    """The unit's agreement with the community."""
    other_agreement: int

    def call(
        self, method: str, path: str, *, as_manager: bool = False, **kw: Any
    ) -> httpx.Response:
        headers = self.manager if as_manager else {}
        return self.api.http.request(method, f"/api/v1{path}", headers=headers, **kw)

    def audit(self, table: str, row_id: str) -> list[tuple[str, str, Any, Any]]:
        a = AuditEntry
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(a.action, a.actor, a.before, a.after)
                .where(a.table_name == table, a.row_id == row_id)
                .order_by(a.id)
            )
            return [tuple(r) for r in rows]


@pytest.fixture
def city(db_settings: HubSettings, engine: Engine) -> Iterator[City]:
    register_venue(engine, "venue-01", unit="原平市体育中心")
    register_venue(engine, "venue-02", unit="原平市第一中学")
    with Session(engine) as session:
        units = {u.name: u.id for u in session.scalars(select(Unit))}
        community = session.scalars(select(Community.id)).one()
        unit, other = units["原平市体育中心"], units["原平市第一中学"]
        agreements = [
            Agreement(code=f"XY{n}", community_id=community, unit_id=u, signed_on=date(2024, 3, 1))
            for n, u in enumerate((unit, other))
        ]
        session.add_all(agreements)
        session.commit()
        ids = [a.id for a in agreements]
    url = db_settings.database_url
    operator = user_token(url, Role.OPERATOR, username=OPERATOR)
    manager = user_token(url, Role.VENUE_MANAGER, unit=unit, username=MANAGER)
    with ApiServer(create_app(db_settings), token=operator) as api:
        yield City(api, engine, bearer(manager), unit, other, community, ids[0], ids[1])


def venue_body(city: City, **changes: Any) -> dict[str, Any]:
    return {
        "id": "venue-53",
        "name": "原平市体育中心运动场",
        "kind": "sports_ground",
        "unit_id": city.unit,
        "community_id": city.community,
        "agreement_id": city.agreement,
        "opened_on": "2024-05-01",
        "address": "原平市朝阳路12号",
        "latitude": 38.7297,
        "longitude": 112.7105,
        "capacity": 300,
        "alert_threshold_pct": 85.0,
        "opens_at": "07:00",
        "closes_at": "21:30",
        "public_count": True,
        **changes,
    }


def refused(response: httpx.Response, status: int, *loc: str | int) -> str:
    """The refusal's status and the field it names; its type."""
    assert response.status_code == status, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", *loc], error
    return str(error["type"])


def test_an_operator_registers_changes_archives_and_restores_a_venue(city: City) -> None:
    created = city.call("POST", "/venue-registry", json=venue_body(city))
    assert created.status_code == 201, created.text
    venue = created.json()
    assert (venue["opens_at"], venue["closes_at"], venue["capacity"]) == (
        "07:00:00",
        "21:30:00",
        300,
    )
    assert (venue["agreement_id"], venue["opened_on"], venue["public_count"]) == (
        city.agreement,
        "2024-05-01",
        True,
    )
    assert [d["weekday"] for d in venue["hours"]] == list(range(7))
    assert not any(d["own"] for d in venue["hours"])
    assert venue["closures"] == []
    assert city.call("GET", "/venue-registry/venue-53").json() == venue

    changed = city.call("PATCH", "/venue-registry/venue-53", json={"name": "体育中心东区运动场"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["capacity"]) == ("体育中心东区运动场", 300)

    archived = city.call("POST", "/venue-registry/venue-53/archive").json()
    assert archived["archived_at"] is not None
    listed = city.call("GET", "/venue-registry").json()["data"]
    assert "venue-53" not in [v["id"] for v in listed]
    everything = city.call("GET", "/venue-registry", params={"archived": "true"}).json()["data"]
    assert "venue-53" in [v["id"] for v in everything]
    assert city.call("POST", "/venue-registry/venue-53/restore").json()["archived_at"] is None
    assert "venue-53" in [v["id"] for v in city.call("GET", "/venue-registry").json()["data"]]

    log = city.audit("venues", "venue-53")
    assert [(action, actor) for action, actor, _b, _a in log] == [
        ("create", OPERATOR),
        ("update", OPERATOR),
        ("archive", OPERATOR),
        ("restore", OPERATOR),
    ]
    _action, _actor, before, after = log[1]
    assert (before, after) == ({"name": "原平市体育中心运动场"}, {"name": "体育中心东区运动场"})


REFUSALS: list[tuple[dict[str, Any], int, str, str]] = [
    ({"id": "venue-01"}, 409, "id", "duplicate"),
    ({"unit_id": 99_999}, 422, "unit_id", "reference"),
    ({"community_id": 99_999}, 422, "community_id", "reference"),
    ({"agreement_id": 99_999}, 422, "agreement_id", "reference"),
    ({"capacity": 0}, 422, "capacity", "greater_than_equal"),
    ({"capacity": 100_001}, 422, "capacity", "less_than_equal"),
    ({"capacity": "300"}, 422, "capacity", "value_error"),
    ({"alert_threshold_pct": 0}, 422, "alert_threshold_pct", "greater_than"),
    ({"alert_threshold_pct": 100.5}, 422, "alert_threshold_pct", "less_than_equal"),
    ({"latitude": 90.5}, 422, "latitude", "less_than_equal"),
    ({"longitude": -181}, 422, "longitude", "greater_than_equal"),
    ({"opens_at": "24:00"}, 422, "opens_at", "value_error"),
    ({"closes_at": "21:00+08:00"}, 422, "closes_at", "value_error"),
    ({"name": "名" * 121}, 422, "name", "string_too_long"),
    ({"address": "路" * 201}, 422, "address", "string_too_long"),
    ({"kind": "pool"}, 422, "kind", "literal_error"),
    ({"id": "Venue 53"}, 422, "id", "string_pattern_mismatch"),
    ({"opened_on": "1999-12-31"}, 422, "opened_on", "value_error"),
    ({"public_count": "yes"}, 422, "public_count", "bool_type"),
    ({"colour": "red"}, 422, "colour", "extra_forbidden"),
]
"""A value of each class (missing row, out of range, wrong type, too long, unknown field):
the status, the field named, how it failed."""


def test_a_refused_venue_names_its_field(city: City) -> None:
    for changes, status, field, kind in REFUSALS:
        response = city.call("POST", "/venue-registry", json=venue_body(city, **changes))
        assert refused(response, status, field) == kind, changes
        assert city.call("GET", "/venue-registry/venue-53").status_code == 404
        patch = {k: v for k, v in changes.items() if k != "id"}
        if patch:  # the same value in a change of a venue there: the same refusal
            response = city.call("PATCH", "/venue-registry/venue-01", json=patch)
            assert refused(response, status, field) == kind, patch


def test_the_agreement_is_the_owner_units_with_the_venues_community(city: City) -> None:
    other = venue_body(city, agreement_id=city.other_agreement)
    response = city.call("POST", "/venue-registry", json=other)
    assert refused(response, 422, "agreement_id") == "reference"
    assert "not the venue's unit" in response.json()["detail"][0]["msg"]
    assert city.call("POST", "/venue-registry", json=venue_body(city)).status_code == 201
    # moving the venue to another unit leaves its agreement behind: refused, naming it
    moved = city.call("PATCH", "/venue-registry/venue-53", json={"unit_id": city.other_unit})
    assert refused(moved, 422, "agreement_id") == "reference"
    both = {"unit_id": city.other_unit, "agreement_id": city.other_agreement}
    assert city.call("PATCH", "/venue-registry/venue-53", json=both).status_code == 200
    assert (
        refused(
            city.call("PATCH", "/venue-registry/venue-53", json={"capacity": None}), 422, "capacity"
        )
        == "required"
    )


def test_service_centres_are_registered_changed_archived_and_restored(city: City) -> None:
    body = {"id": "centre-09", "name": "新原社区党群服务中心", "community_id": city.community}
    created = city.call("POST", "/service-centres", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["communities"] == []
    again = city.call("POST", "/service-centres", json=body)
    assert refused(again, 409, "id") == "duplicate"
    a_venue = city.call("POST", "/service-centres", json={**body, "id": "venue-01"})
    assert refused(a_venue, 409, "id") == "duplicate", "a site id is a centre's or a venue's"
    nowhere = city.call(
        "POST", "/service-centres", json={**body, "id": "centre-10", "community_id": 99_999}
    )
    assert refused(nowhere, 422, "community_id") == "reference"
    patched = city.call("PATCH", "/service-centres/centre-09", json={"name": "新原党群服务中心"})
    assert patched.json()["name"] == "新原党群服务中心"
    assert city.call("POST", "/service-centres/centre-09/archive").json()["archived_at"]
    assert city.call("GET", "/service-centres").json()["count"] == 0
    assert city.call("POST", "/service-centres/centre-09/restore").json()["archived_at"] is None
    assert city.call("GET", "/service-centres").json()["count"] == 1
    assert city.call("PATCH", "/service-centres/centre-99", json={"name": "无"}).status_code == 404
    assert [a for a, *_ in city.audit("service_centres", "centre-09")] == [
        "create",
        "update",
        "archive",
        "restore",
    ]


def test_weekday_hours_and_closures(city: City) -> None:
    week = [{"weekday": d, "opens_at": "06:00", "closes_at": "22:00"} for d in range(5)]
    week += [
        {"weekday": 5, "opens_at": "08:00", "closes_at": "20:00"},
        {"weekday": 6, "opens_at": None, "closes_at": None},
    ]
    response = city.call("PUT", "/venue-registry/venue-01/hours", json=week)
    assert response.status_code == 200, response.text
    hours = response.json()
    assert hours[5] == {"weekday": 5, "opens_at": "08:00:00", "closes_at": "20:00:00", "own": True}
    assert hours[6] == {"weekday": 6, "opens_at": None, "closes_at": None, "own": True}
    # replaced: Sunday alone keeps its own (closed); the rest go back to every day's hours
    sunday = [{"weekday": 6, "opens_at": None, "closes_at": None}]
    hours = city.call("PUT", "/venue-registry/venue-01/hours", json=sunday).json()
    assert [d["own"] for d in hours] == [False] * 6 + [True]
    assert hours[0] == {"weekday": 0, "opens_at": "06:00:00", "closes_at": "22:00:00", "own": False}
    assert city.call("GET", "/venue-registry/venue-01/hours").json() == hours

    twice = [sunday[0], sunday[0]]
    assert refused(
        city.call("PUT", "/venue-registry/venue-01/hours", json=twice), 422, 1, "weekday"
    )
    half = [{"weekday": 2, "opens_at": "08:00", "closes_at": None}]
    assert refused(
        city.call("PUT", "/venue-registry/venue-01/hours", json=half), 422, 0, "closes_at"
    )
    eight = [*week, sunday[0]]
    assert city.call("PUT", "/venue-registry/venue-01/hours", json=eight).status_code == 422
    bad_day = [{"weekday": 7, "opens_at": None, "closes_at": None}]
    assert refused(
        city.call("PUT", "/venue-registry/venue-01/hours", json=bad_day), 422, 0, "weekday"
    )

    spring = {"starts_on": "2027-02-06", "ends_on": "2027-02-12", "reason": "春节"}
    added = city.call("POST", "/venue-registry/venue-01/closures", json=spring)
    assert added.status_code == 201, added.text
    closure = added.json()
    assert (closure["venue_id"], closure["starts_on"], closure["reason"]) == (
        "venue-01",
        "2027-02-06",
        "春节",
    )
    detail = city.call("GET", "/venue-registry/venue-01").json()
    assert detail["closures"] == [closure]
    assert detail["hours"][6]["opens_at"] is None
    assert city.call("GET", "/venue-registry/venue-01/closures").json() == {
        "data": [closure],
        "count": 1,
    }

    backwards = {**spring, "ends_on": "2027-02-05"}
    response = city.call("POST", "/venue-registry/venue-01/closures", json=backwards)
    assert refused(response, 422, "ends_on") == "range"
    too_long = {**spring, "ends_on": "2028-02-07"}  # 367 days
    assert refused(
        city.call("POST", "/venue-registry/venue-01/closures", json=too_long), 422, "ends_on"
    )
    blank = {**spring, "reason": ""}
    assert refused(
        city.call("POST", "/venue-registry/venue-01/closures", json=blank), 422, "reason"
    )
    long_reason = {**spring, "reason": "修" * 201}
    assert refused(
        city.call("POST", "/venue-registry/venue-01/closures", json=long_reason), 422, "reason"
    )

    path = f"/venue-registry/venue-01/closures/{closure['id']}"
    assert (
        city.call("DELETE", f"/venue-registry/venue-02/closures/{closure['id']}").status_code == 404
    )
    assert city.call("DELETE", path).status_code == 204
    assert city.call("DELETE", path).status_code == 404
    assert city.call("GET", "/venue-registry/venue-01").json()["closures"] == []
    assert [a for a, *_ in city.audit("venue_closures", str(closure["id"]))] == ["create", "delete"]
    assert [a for a, actor, *_ in city.audit("venue_hours", "venue-01/6")][:1] == ["create"]


def test_a_venue_manager_keeps_its_own_venues_and_nothing_else(city: City) -> None:
    own = city.call(
        "PATCH",
        "/venue-registry/venue-01",
        as_manager=True,
        json={"capacity": 120, "alert_threshold_pct": 80.0},
    )
    assert own.status_code == 200, own.text
    assert (own.json()["capacity"], own.json()["alert_threshold_pct"]) == (120, 80.0)
    name = city.call(
        "PATCH", "/venue-registry/venue-01", as_manager=True, json={"capacity": 130, "name": "新名"}
    )
    assert refused(name, 403, "name") == "forbidden"
    assert city.call("GET", "/venue-registry/venue-01").json()["capacity"] == 120, "nothing changed"
    other = city.call("PATCH", "/venue-registry/venue-02", as_manager=True, json={"capacity": 5})
    assert other.status_code == 403
    assert city.call("GET", "/venue-registry/venue-02").json()["capacity"] == 100

    closed = [{"weekday": 6, "opens_at": None, "closes_at": None}]
    assert (
        city.call("PUT", "/venue-registry/venue-01/hours", as_manager=True, json=closed).status_code
        == 200
    )
    assert (
        city.call("PUT", "/venue-registry/venue-02/hours", as_manager=True, json=closed).status_code
        == 403
    )
    holiday = {"starts_on": "2027-10-01", "ends_on": "2027-10-07", "reason": "国庆"}
    added = city.call("POST", "/venue-registry/venue-01/closures", as_manager=True, json=holiday)
    assert added.status_code == 201, added.text
    assert (
        city.call(
            "POST", "/venue-registry/venue-02/closures", as_manager=True, json=holiday
        ).status_code
        == 403
    )
    assert (
        city.call("POST", "/venue-registry", as_manager=True, json=venue_body(city)).status_code
        == 403
    )
    assert city.call("POST", "/venue-registry/venue-01/archive", as_manager=True).status_code == 403
    gone = city.call(
        "DELETE", f"/venue-registry/venue-01/closures/{added.json()['id']}", as_manager=True
    )
    assert gone.status_code == 204

    registered, *log = city.audit("venues", "venue-01")
    assert registered[:2] == ("create", "system")  # by the test's own session
    assert [(action, actor) for action, actor, _b, _a in log] == [("update", MANAGER)]
    assert (log[0][2], log[0][3]) == (
        {"capacity": 100, "alert_threshold_pct": 90.0},
        {"capacity": 120, "alert_threshold_pct": 80.0},
    )
