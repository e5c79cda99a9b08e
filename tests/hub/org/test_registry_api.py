"""The organisation's registry written through the API (docs/administration.md, "The
organisation"): each kind created, changed, archived and restored; refusals that name the field
(a missing or archived reference, a code taken, a value out of bounds); grid levels, party
organisation kinds, one alliance chair at a time; an agreement's menu and a team's members
replaced; who may write; and every write in the audit log with its user and values."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from demo.seed import seed_city
from hub.api import create_app
from hub.auth import Role
from hub.core.settings import HubSettings
from tests.hub.org.test_seed import SMALL
from tests.hub.support import CARD_KEY, ApiServer
from tests.users import bearer, user_token

CLERK = "clerk-registry"
"""The records staff user every write here is made by (the audit log names them)."""


@dataclass
class Registry:
    api: ApiServer
    engine: Engine
    database_url: str

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.api.http.request(method, f"/api/v1{path}", **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json()

    def first(self, path: str, **params: Any) -> Any:
        return self.ok("GET", path, params=params)["data"][0]


@pytest.fixture
def registry(db_settings: HubSettings, engine: Engine) -> Iterator[Registry]:
    seed_city(engine, seed=5, key=CARD_KEY, year=2025, scale=SMALL)
    token = user_token(db_settings.database_url, Role.RECORDS_STAFF, username=CLERK)
    with ApiServer(create_app(db_settings), token=token) as server:
        yield Registry(server, engine, db_settings.database_url)


def refusal(response: httpx.Response, status: int, field: str, kind: str) -> str:
    """The one refusal of ``response``, which must name ``field`` with ``kind``."""
    assert response.status_code == status, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", field], error
    assert error["type"] == kind, error
    assert error["msg"].startswith(f"{field}: ") or kind not in {"reference", "archived"}, error
    return str(error["msg"])


def _bodies(reg: Registry) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Per collection: a new row's body, and a change to it."""
    community = reg.first("/communities")
    top = reg.first("/grids", community_id=community["id"], level=1)
    unit = reg.first("/units")
    committee = reg.first("/party-orgs", kind="working_committee")
    return {
        "/subdistricts": ({"code": "SD90", "name": "南城街道"}, {"name": "南城新街道"}),
        "/communities": (
            {"code": "C90", "name": "和平社区", "subdistrict_id": community["subdistrict_id"]},
            {"name": "和平新社区", "centre_id": "centre-01"},
        ),
        "/grids": (
            {
                "code": "G90",
                "name": "9号院",
                "community_id": community["id"],
                "level": 2,
                "parent_id": top["id"],
            },
            {"name": "九号院"},
        ),
        "/party-orgs": (
            {
                "code": "P90",
                "name": "和平社区党委",
                "kind": "community_committee",
                "parent_id": committee["id"],
                "community_id": community["id"],
            },
            {"name": "和平社区党总支"},
        ),
        "/units": (
            {"code": "U90", "name": "原平市和平小学", "kind": "institution"},
            {"kind": "agency", "community_id": community["id"]},
        ),
        "/alliances": ({"code": "A90", "name": "南城党建联盟"}, {"name": "南城区域党建联盟"}),
        "/agreements": (
            {
                "code": "XY90",
                "community_id": community["id"],
                "unit_id": unit["id"],
                "signed_on": "2026-04-10",
            },
            {"ends_on": "2027-04-09"},
        ),
        "/volunteer-teams": (
            {
                "code": "V90",
                "name": "和平志愿服务队",
                "kind": "group",
                "community_id": community["id"],
            },
            {"kind": "station"},
        ),
    }


def _codes(reg: Registry, path: str, **params: Any) -> list[str]:
    rows = reg.ok("GET", path, params={"limit": 1000, **params})["data"]
    return [row["code"] for row in rows]


def test_each_kind_is_created_changed_archived_and_restored(registry: Registry) -> None:
    for path, (body, change) in _bodies(registry).items():
        created = registry.ok("POST", path, 201, json=body)
        assert {k: created[k] for k in body} == body, path
        assert created["archived_at"] is None
        one = f"{path}/{created['id']}"
        assert registry.ok("GET", one) == created, path

        changed = registry.ok("PATCH", one, json=change)
        assert {k: changed[k] for k in change} == change, path
        assert changed["code"] == body["code"], "a field left out is kept"
        assert registry.ok("GET", one) == changed

        archived = registry.ok("POST", f"{one}/archive")
        assert archived["archived_at"] is not None
        assert body["code"] not in _codes(registry, path), "hidden from the list"
        assert body["code"] in _codes(registry, path, archived="true"), "unless asked for"
        assert registry.ok("POST", f"{one}/archive")["archived_at"] == archived["archived_at"]

        restored = registry.ok("POST", f"{one}/restore")
        assert restored["archived_at"] is None
        assert body["code"] in _codes(registry, path)
    assert registry.call("PATCH", "/units/999999", json={"name": "无"}).status_code == 404
    assert registry.call("POST", "/grids/999999/archive").status_code == 404


def test_a_missing_or_archived_reference_is_refused_naming_the_field(registry: Registry) -> None:
    body = {"code": "U91", "name": "原平市测试单位", "kind": "agency", "community_id": 999_999}
    msg = refusal(registry.call("POST", "/units", json=body), 422, "community_id", "reference")
    assert "999999" in msg
    unit = registry.first("/units")
    refusal(
        registry.call("PATCH", f"/units/{unit['id']}", json={"alliance_id": 999_999}),
        422,
        "alliance_id",
        "reference",
    )
    community = registry.ok(
        "POST", "/communities", 201, json={"code": "C91", "name": "旧社区", "subdistrict_id": 1}
    )
    registry.ok("POST", f"/communities/{community['id']}/archive")
    body["community_id"] = community["id"]
    msg = refusal(registry.call("POST", "/units", json=body), 422, "community_id", "archived")
    assert "archived" in msg
    team = {"code": "V91", "name": "志愿队", "kind": "group", "community_id": community["id"]}
    refusal(registry.call("POST", "/volunteer-teams", json=team), 422, "community_id", "archived")
    registry.ok("POST", f"/communities/{community['id']}/restore")
    assert registry.call("POST", "/units", json=body).status_code == 201


def test_a_code_taken_is_409_naming_code(registry: Registry) -> None:
    taken = registry.first("/subdistricts")
    response = registry.call("POST", "/subdistricts", json={"code": taken["code"], "name": "重复"})
    assert taken["code"] in refusal(response, 409, "code", "duplicate")
    other = registry.ok("POST", "/subdistricts", 201, json={"code": "SD92", "name": "另一街道"})
    one = f"/subdistricts/{other['id']}"
    refusal(registry.call("PATCH", one, json={"code": taken["code"]}), 409, "code", "duplicate")
    assert registry.ok("PATCH", one, json={"code": "SD92"})["code"] == "SD92", "its own code"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "SD93", "name": "街" * 121}, "name"),
        ({"code": "SD93", "name": "=cmd()"}, "name"),
        ({"code": "SD93", "name": "北城\x00街道"}, "name"),
        ({"code": "S" * 33, "name": "北城街道"}, "code"),
        ({"code": "SD 93", "name": "北城街道"}, "code"),
        ({"code": 93, "name": "北城街道"}, "code"),
        ({"code": "SD93", "name": "北城街道", "extra": 1}, "extra"),
    ],
)
def test_values_out_of_bounds_are_refused_naming_the_field(
    registry: Registry, body: dict[str, Any], field: str
) -> None:
    response = registry.call("POST", "/subdistricts", json=body)
    assert response.status_code == 422, response.text
    assert any(e["loc"][:2] == ["body", field] for e in response.json()["detail"]), response.text


def test_bounds_of_the_other_kinds(registry: Registry) -> None:
    grid = {"code": "G94", "name": "院", "community_id": 1, "level": 4}
    assert registry.call("POST", "/grids", json=grid).status_code == 422
    agreement = {"code": "XY94", "community_id": 1, "unit_id": 1, "signed_on": "1999-12-31"}
    response = registry.call("POST", "/agreements", json=agreement)
    assert response.json()["detail"][0]["loc"] == ["body", "signed_on"], response.text
    agreement["signed_on"], agreement["ends_on"] = "2026-05-01", "2026-04-30"
    refusal(registry.call("POST", "/agreements", json=agreement), 422, "ends_on", "range")
    unit = registry.first("/units")
    refusal(
        registry.call("PATCH", f"/units/{unit['id']}", json={"name": None}),
        422,
        "name",
        "required",
    )
    assert (
        registry.call(
            "POST", "/units", json={"code": "U94", "name": "单位", "kind": "x"}
        ).status_code
        == 422
    )


def test_grids_keep_their_three_levels(registry: Registry) -> None:
    community, other = registry.ok("GET", "/communities")["data"][:2]
    top = registry.first("/grids", community_id=community["id"], level=1)
    elsewhere = registry.first("/grids", community_id=other["id"], level=1)

    def grid(code: str, level: int, parent: int | None) -> httpx.Response:
        body = {"code": code, "name": f"网格{code}", "community_id": community["id"]}
        return registry.call("POST", "/grids", json={**body, "level": level, "parent_id": parent})

    refusal(grid("G95", 1, top["id"]), 422, "parent_id", "range")
    refusal(grid("G95", 2, None), 422, "parent_id", "range")
    msg = refusal(grid("G95", 3, top["id"]), 422, "parent_id", "range")
    assert "level 1" in msg
    assert "community" in refusal(grid("G95", 2, elsewhere["id"]), 422, "parent_id", "range")
    lane = grid("G95", 2, top["id"])
    assert lane.status_code == 201, lane.text
    building = grid("G96", 3, lane.json()["id"])
    assert building.status_code == 201, building.text
    assert grid("G97", 1, None).status_code == 201, "a community's own grid"
    refusal(
        registry.call("PATCH", f"/grids/{lane.json()['id']}", json={"level": 3}),
        422,
        "parent_id",
        "range",
    )
    refusal(
        registry.call("PATCH", f"/grids/{lane.json()['id']}", json={"level": 1, "parent_id": None}),
        422,
        "level",
        "range",
    )
    assert registry.ok("GET", f"/grids/{lane.json()['id']}")["level"] == 2, "nothing changed"


def test_party_organisations_keep_their_five_levels(registry: Registry) -> None:
    committee = registry.first("/party-orgs", kind="working_committee")
    branch = registry.first("/party-orgs", kind="grid_branch")

    def org(code: str, kind: str, parent: int | None) -> httpx.Response:
        body = {"code": code, "name": f"党组织{code}", "kind": kind, "parent_id": parent}
        return registry.call("POST", "/party-orgs", json=body)

    refusal(org("P95", "working_committee", committee["id"]), 422, "parent_id", "range")
    refusal(org("P95", "community_committee", None), 422, "parent_id", "range")
    msg = refusal(org("P95", "community_committee", branch["id"]), 422, "parent_id", "range")
    assert "grid_branch" in msg
    refusal(org("P95", "household_group", branch["id"]), 422, "parent_id", "range")
    group = org("P95", "building_group", branch["id"])
    assert group.status_code == 201, group.text
    household = org("P96", "household_group", group.json()["id"])
    assert household.status_code == 201, household.text
    assert org("P97", "working_committee", None).status_code == 201
    refusal(
        registry.call("PATCH", f"/party-orgs/{branch['id']}", json={"kind": "building_group"}),
        422,
        "parent_id",
        "range",
    )
    refusal(
        registry.call(
            "PATCH",
            f"/party-orgs/{group.json()['id']}",
            json={"kind": "grid_branch", "parent_id": branch["parent_id"]},
        ),
        422,
        "kind",
        "range",
    )


def test_one_chair_at_a_time(registry: Registry) -> None:
    alliance = registry.first("/alliances")
    detail = registry.ok("GET", f"/alliances/{alliance['id']}")
    member_unit, second_unit = detail["unit_ids"][:2]
    outsider = next(
        u["id"] for u in registry.ok("GET", "/units")["data"] if u["alliance_id"] != alliance["id"]
    )
    chairs = f"/alliances/{alliance['id']}/chairs"

    def period(starts: str, ends: str, unit: int = member_unit) -> dict[str, Any]:
        return {"unit_id": unit, "starts_on": starts, "ends_on": ends}

    after = registry.ok("POST", chairs, 201, json=period("2031-01-01", "2031-03-31"))
    (chair,) = [c for c in after["chairs"] if c["starts_on"] == "2031-01-01"]
    assert chair["unit_id"] == member_unit
    assert len(after["chairs"]) == len(detail["chairs"]) + 1
    msg = refusal(
        registry.call("POST", chairs, json=period("2031-03-31", "2031-06-30", second_unit)),
        409,
        "starts_on",
        "overlap",
    )
    assert "2031-01-01" in msg
    refusal(
        registry.call("POST", chairs, json=period("2031-05-01", "2031-04-30")),
        422,
        "ends_on",
        "range",
    )
    refusal(
        registry.call("POST", chairs, json=period("2032-01-01", "2032-03-31", outsider)),
        422,
        "unit_id",
        "range",
    )
    refusal(
        registry.call("POST", chairs, json=period("2032-01-01", "2032-03-31", 999_999)),
        422,
        "unit_id",
        "reference",
    )
    later = registry.ok("POST", chairs, 201, json=period("2031-04-01", "2031-06-30", second_unit))
    (second,) = [c for c in later["chairs"] if c["starts_on"] == "2031-04-01"]
    refusal(
        registry.call("PATCH", f"{chairs}/{second['id']}", json={"starts_on": "2031-03-01"}),
        409,
        "starts_on",
        "overlap",
    )
    moved = registry.ok("PATCH", f"{chairs}/{chair['id']}", json={"ends_on": "2031-02-28"})
    assert {"id": chair["id"], **period("2031-01-01", "2031-02-28")} in moved["chairs"]
    registry.ok("PATCH", f"{chairs}/{second['id']}", json={"starts_on": "2031-03-01"})
    gone = registry.ok("DELETE", f"{chairs}/{chair['id']}")
    assert chair["id"] not in [c["id"] for c in gone["chairs"]]
    assert registry.call("DELETE", f"{chairs}/{chair['id']}").status_code == 404
    other = next(a for a in registry.ok("GET", "/alliances")["data"] if a["id"] != alliance["id"])
    wrong = f"/alliances/{other['id']}/chairs/{second['id']}"
    assert registry.call("PATCH", wrong, json={"ends_on": "2031-12-31"}).status_code == 404


def test_an_agreements_menu_is_replaced(registry: Registry, engine: Engine) -> None:
    body = {
        "code": "XY95",
        "community_id": 1,
        "unit_id": 1,
        "signed_on": "2026-04-10",
        "menu": [
            {"direction": "offer", "title": "义诊"},
            {"direction": "need", "title": "楼道照明"},
        ],
    }
    created = registry.ok("POST", "/agreements", 201, json=body)
    assert sorted(created["menu"], key=str) == sorted(body["menu"], key=str)
    one = f"/agreements/{created['id']}"
    kept_id = _menu_ids(engine, created["id"])["义诊"]
    menu = [{"direction": "offer", "title": "义诊"}, {"direction": "need", "title": "助老"}]
    changed = registry.ok("PATCH", one, json={"menu": menu})
    assert sorted(changed["menu"], key=str) == sorted(menu, key=str)
    assert _menu_ids(engine, created["id"])["义诊"] == kept_id, "a line kept is not rewritten"
    assert registry.ok("PATCH", one, json={"ends_on": "2027-01-01"})["menu"] == changed["menu"]
    refusal(registry.call("PATCH", one, json={"menu": None}), 422, "menu", "required")
    too_long = [{"direction": "need", "title": f"事项{n}"} for n in range(101)]
    assert registry.call("PATCH", one, json={"menu": too_long}).status_code == 422
    bad = [{"direction": "sideways", "title": "义诊"}]
    assert registry.call("PATCH", one, json={"menu": bad}).status_code == 422
    assert registry.ok("PATCH", one, json={"menu": []})["menu"] == []


def _menu_ids(engine: Engine, agreement: int) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT title, id FROM service_menu_items WHERE agreement_id = :a"),
            {"a": agreement},
        )
        return {title: ident for title, ident in rows}


def test_a_teams_members_are_replaced(registry: Registry) -> None:
    team = registry.first("/volunteer-teams")
    members = f"/volunteer-teams/{team['id']}/members"
    a, b, c, d = (m["id"] for m in registry.ok("GET", "/members", params={"limit": 4})["data"])
    first = registry.ok("PUT", members, json={"member_ids": [b, a, a]})
    assert [m["member_id"] for m in first["members"]] == sorted([a, b])
    joined = {m["member_id"]: m["joined_on"] for m in first["members"]}
    assert all(joined.values())
    second = registry.ok("PUT", members, json={"member_ids": [b, c]})
    assert [m["member_id"] for m in second["members"]] == sorted([b, c])
    assert {m["member_id"]: m["joined_on"] for m in second["members"]}[b] == joined[b]
    assert registry.ok("GET", members) == second
    refusal(
        registry.call("PUT", members, json={"member_ids": [b, 999_999]}),
        422,
        "member_ids",
        "reference",
    )
    registry.ok("POST", f"/members/{d}/archive")
    refusal(registry.call("PUT", members, json={"member_ids": [d]}), 422, "member_ids", "archived")
    registry.ok("POST", f"/members/{c}/archive")
    assert registry.call("PUT", members, json={"member_ids": [b, c]}).status_code == 200, (
        "an archived member may stay"
    )
    many = {"member_ids": list(range(1, 1002))}
    assert registry.call("PUT", members, json=many).status_code == 422
    assert registry.call("PUT", members, json={"member_ids": ["1"]}).status_code == 422
    assert registry.ok("PUT", members, json={"member_ids": []})["members"] == []
    assert registry.call("GET", "/volunteer-teams/999999/members").status_code == 404


def test_members_are_archived_and_restored(registry: Registry) -> None:
    member = registry.first("/members")
    archived = registry.ok("POST", f"/members/{member['id']}/archive")
    assert archived["archived_at"] is not None
    assert member["code"] not in _codes(registry, "/members")
    assert member["code"] in _codes(registry, "/members", archived="true")
    assert registry.ok("POST", f"/members/{member['id']}/restore")["archived_at"] is None
    assert member["code"] in _codes(registry, "/members")


@pytest.mark.parametrize("role", [Role.VENUE_MANAGER, Role.VIEWER])
def test_a_venue_manager_and_a_viewer_may_not_write(registry: Registry, role: Role) -> None:
    headers = bearer(
        user_token(registry.database_url, role, unit=1 if role is Role.VENUE_MANAGER else None)
    )
    unit = registry.first("/units")
    for method, path, body in (
        ("POST", "/units", {"code": "U99", "name": "单位", "kind": "agency"}),
        ("PATCH", f"/units/{unit['id']}", {"name": "改名"}),
        ("POST", f"/units/{unit['id']}/archive", None),
        (
            "POST",
            "/alliances/1/chairs",
            {"unit_id": 1, "starts_on": "2033-01-01", "ends_on": "2033-02-01"},
        ),
        ("PUT", "/volunteer-teams/1/members", {"member_ids": []}),
        ("GET", "/volunteer-teams/1/members", None),
        ("POST", "/members/1/archive", None),
    ):
        response = registry.call(method, path, json=body, headers=headers)
        assert response.status_code == 403, f"{method} {path}: {response.text}"
    assert registry.ok("GET", f"/units/{unit['id']}") == unit, "nothing changed"


def test_every_write_is_in_the_audit_log_with_its_user(registry: Registry, engine: Engine) -> None:
    body = {"code": "U98", "name": "原平市审计单位", "kind": "enterprise"}
    unit = registry.ok("POST", "/units", 201, json=body)
    registry.ok("PATCH", f"/units/{unit['id']}", json={"name": "原平市审计公司"})
    registry.ok("POST", f"/units/{unit['id']}/archive")
    registry.ok("POST", f"/units/{unit['id']}/restore")
    agreement = registry.ok(
        "POST",
        "/agreements",
        201,
        json={
            "code": "XY98",
            "community_id": 1,
            "unit_id": unit["id"],
            "signed_on": "2026-04-10",
            "menu": [{"direction": "offer", "title": "义诊"}],
        },
    )
    registry.ok("PATCH", f"/agreements/{agreement['id']}", json={"menu": []})

    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                sa.column("action"),
                sa.column("actor"),
                sa.column("source"),
                sa.column("request"),
                sa.column("table_name"),
                sa.column("row_id"),
                sa.column("before", sa.JSON),
                sa.column("after", sa.JSON),
            )
            .select_from(sa.table("audit_log"))
            .where(sa.column("table_name").in_(["units", "service_menu_items"]))
            .order_by(sa.column("id"))
        ).all()
    units = [r for r in rows if r.table_name == "units" and r.row_id == str(unit["id"])]
    assert [r.action for r in units] == ["create", "update", "archive", "restore"]
    assert {r.actor for r in units} == {CLERK}
    assert {r.source for r in units} == {"api"}
    create, update, archive, restore = units
    assert create.request == "POST /api/v1/units"
    assert create.before is None
    assert create.after["name"] == "原平市审计单位"
    assert create.after["code"] == "U98"
    assert update.before == {"name": "原平市审计单位"}
    assert update.after == {"name": "原平市审计公司"}
    assert update.request == f"PATCH /api/v1/units/{unit['id']}"
    assert archive.before == {"archived_at": None}
    assert archive.after["archived_at"] is not None
    assert restore.after == {"archived_at": None}
    menu = [(r.action, r.actor) for r in rows if r.table_name == "service_menu_items"]
    assert menu[-2:] == [("create", CLERK), ("delete", CLERK)]
    deleted = rows[-1]
    assert deleted.before["title"] == "义诊"
    assert deleted.after is None
