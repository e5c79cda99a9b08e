"""The records API over a seeded city: lists with filters and paging, details, create and update,
attendance rematched when an activity is entered, the assessment and its exports, roster upload,
and the OpenAPI schema with examples."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from pydantic import SecretStr
from sqlalchemy import Engine

from demo.seed import seed_city
from hub.api import create_app
from hub.composition import build_store
from hub.core.settings import HubSettings
from hub.org.models import Member
from tests.hub.org.support import tap
from tests.hub.org.test_seed import SMALL
from tests.hub.support import CARD_KEY, CARD_KEYS, ApiServer, card_key_file

YEAR = 2025


@pytest.fixture
def api(db_settings: HubSettings, engine: Engine, tmp_path: Path) -> Iterator[ApiServer]:
    seed_city(engine, seed=5, key=CARD_KEY, year=YEAR, scale=SMALL)
    settings = db_settings.model_copy(
        update={
            "card_key": SecretStr(CARD_KEY.decode()),
            "card_private_key_file": card_key_file(tmp_path),
        }
    )
    with ApiServer(create_app(settings)) as server:
        yield server


def test_lists_filter_and_page(api: ApiServer) -> None:
    communities = api.get("/api/v1/communities").json()
    assert communities["count"] == SMALL.communities
    first = communities["data"][0]
    assert set(first) == {"id", "code", "name", "subdistrict_id", "centre_id", "archived_at"}
    members = api.get("/api/v1/members", community_id=first["id"], limit=5, offset=0).json()
    assert len(members["data"]) == min(5, members["count"])
    assert all(m["community_id"] == first["id"] for m in members["data"])
    everyone = api.get("/api/v1/members", limit=1000).json()
    assert everyone["count"] == SMALL.members
    assert all("*" in m["name"] for m in everyone["data"]), "names are masked"
    assert all("card_hash" not in m for m in everyone["data"])
    registered = api.get("/api/v1/members", registered=True).json()["count"]
    unregistered = api.get("/api/v1/members", registered=False).json()["count"]
    assert registered + unregistered == SMALL.members
    assert 0 < unregistered < SMALL.members
    second_page = api.get("/api/v1/members", limit=10, offset=10).json()["data"]
    assert [m["code"] for m in second_page] == [m["code"] for m in everyone["data"][10:20]]
    for path, expected in (
        ("/api/v1/subdistricts", SMALL.subdistricts),
        ("/api/v1/grids", SMALL.grids),
        ("/api/v1/units", SMALL.units),
        ("/api/v1/service-centres", SMALL.centres),
        ("/api/v1/venue-registry", SMALL.venues),
        ("/api/v1/volunteer-teams", SMALL.volunteer_teams),
        ("/api/v1/service-requests", SMALL.service_requests),
        ("/api/v1/activities", SMALL.activities),
    ):
        assert api.get(path).json()["count"] == expected, path
    assert api.get("/api/v1/grids", level=1).json()["count"] == SMALL.communities
    assert api.get("/api/v1/party-orgs", kind="working_committee").json()["count"] == 3
    assert api.get("/api/v1/members", limit=5000).status_code == 422


def test_details(api: ApiServer) -> None:
    centre = api.get("/api/v1/service-centres/centre-01").json()
    assert centre["readers"][0]["id"] == "reader-1"
    assert centre["communities"]
    agreement = api.get("/api/v1/agreements/1").json()
    assert {i["direction"] for i in agreement["menu"]} == {"offer", "need"}
    alliance = api.get("/api/v1/alliances/1").json()
    assert len(alliance["chairs"]) == 4, "a chair per quarter"
    member = api.get("/api/v1/members/1").json()
    assert member["card_enrolled"]
    assert isinstance(member["registrations"], list)
    activity = api.get("/api/v1/activities/1").json()
    assert activity["attendance"] >= activity["members"] >= 0
    for path in ("/api/v1/members/99999", "/api/v1/service-centres/centre-99", "/api/v1/units/999"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert "no " in response.json()["detail"]


def vault_of(engine: Engine, member_id: int) -> str | None:
    with engine.connect() as conn:
        return conn.scalar(sa.select(Member.card_sealed).where(Member.id == member_id))


def test_members_and_registrations_are_created_and_updated(api: ApiServer, engine: Engine) -> None:
    body = {
        "code": "M90001",
        "name": "赵海波",
        "unit_id": 1,
        "community_id": 1,
        "card": "0a1b2c3d4e",
    }
    created = api.http.post("/api/v1/members", json=body)
    assert created.status_code == 201, created.text
    member = created.json()
    assert (member["name"], member["card_enrolled"]) == ("赵*波", True)
    sealed = vault_of(engine, member["id"])
    assert sealed is not None, "enrolment fills the card vault"
    assert CARD_KEYS.open(sealed) == "0A1B2C3D4E"
    assert api.http.post("/api/v1/members", json=body).status_code == 409
    assert api.http.post("/api/v1/members", json={**body, "code": "M90002", "card": None,
                                                   "unit_id": 9999}).status_code == 422  # fmt: skip
    assert api.http.post("/api/v1/members", json={**body, "card": "xyz"}).status_code == 422
    elsewhere = api.http.post("/api/v1/members", json={**body, "code": "M90003", "grid_id": 2})
    assert elsewhere.status_code == 422
    (error,) = elsewhere.json()["detail"]
    assert error["loc"] == ["body", "grid_id"]
    assert "not in community 1" in error["msg"]
    patched = api.http.patch(f"/api/v1/members/{member['id']}", json={"card": None})
    assert patched.json()["card_enrolled"] is False
    assert vault_of(engine, member["id"]) is None, "the vault entry goes with the card"
    assert (
        api.http.patch(f"/api/v1/members/{member['id']}", json={"unit_id": None}).status_code == 422
    )

    registration = api.http.post(
        "/api/v1/registrations",
        json={"community_id": 1, "member_id": member["id"], "registered_on": "2026-02-01"},
    )
    assert registration.status_code == 201, registration.text
    again = api.http.post(
        "/api/v1/registrations",
        json={"community_id": 1, "member_id": member["id"], "registered_on": "2026-03-01"},
    )
    assert again.status_code == 409
    both = api.http.post(
        "/api/v1/registrations",
        json={"community_id": 1, "member_id": 1, "unit_id": 1, "registered_on": "2026-03-01"},
    )
    assert both.status_code == 422
    moved = api.http.patch(
        f"/api/v1/registrations/{registration.json()['id']}", json={"registered_on": "2026-01-15"}
    )
    assert moved.json()["registered_on"] == "2026-01-15"
    detail = api.get(f"/api/v1/members/{member['id']}").json()
    assert [r["registered_on"] for r in detail["registrations"]] == ["2026-01-15"]


def test_an_activity_entered_afterwards_takes_its_checkins(api: ApiServer, engine: Engine) -> None:
    at = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Yuanping
    store = build_store(engine)
    store.write([tap("0A1B2C3D4E", at + timedelta(minutes=m)) for m in (5, 10, 70)])
    walk_ins = api.get("/api/v1/attendance", centre_id="centre-01", since=at.isoformat()).json()
    assert walk_ins["count"] == 3
    assert all(a["activity_id"] is None and a["member_id"] is None for a in walk_ins["data"])
    assert api.get("/api/v1/attendance", unknown=True, since=at.isoformat()).json()["count"] == 3

    body = {
        "centre_id": "centre-01",
        "title": "法律援助进社区",
        "theme": "法治宣传进社区",
        "kind": "eight_into",
        "eight_into": "legal_aid",
        "starts_at": "2026-11-20T10:00:00+08:00",
        "ends_at": "2026-11-20T11:00:00+08:00",
    }
    created = api.http.post("/api/v1/activities", json=body)
    assert created.status_code == 201, created.text
    activity = created.json()
    assert (activity["month"], activity["attendance"]) == ("2026-11", 2)
    moved = api.http.patch(
        f"/api/v1/activities/{activity['id']}",
        json={"starts_at": "2026-11-20T11:00:00+08:00", "ends_at": "2026-11-20T12:00:00+08:00"},
    )
    assert moved.json()["attendance"] == 1
    assert api.get("/api/v1/attendance", walk_in=True, since=at.isoformat()).json()["count"] == 2
    bad = api.http.post("/api/v1/activities", json={**body, "kind": "themed_activity"})
    assert bad.status_code == 422
    assert "eight_into" in bad.json()["detail"]
    backwards = api.http.post(
        "/api/v1/activities", json={**body, "ends_at": "2026-11-20T09:00:00+08:00"}
    )
    assert backwards.status_code == 422


def test_assessment_and_its_exports(api: ApiServer) -> None:
    report = api.get("/api/v1/reports/assessment", year=YEAR).json()
    assert report["rules"] == {
        "unit_min_reporting_pct": 80,
        "member_min_services": 2,
        "timezone": "Asia/Shanghai",
    }
    assert report["totals"]["members"] == SMALL.members
    assert sum(len(a["units"]) for a in report["alliances"]) == SMALL.units
    assert len(report["communities"]) == SMALL.communities
    assert len(report["communities"][0]["attendance_by_month"]) == 12

    csv_response = api.get("/api/v1/reports/assessment.csv", year=YEAR, table="units")
    assert csv_response.headers["content-type"].startswith("text/csv")
    text = csv_response.content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("联盟 alliance,单位编号 unit")
    assert len(lines) == SMALL.units + 1
    members_csv = api.get("/api/v1/reports/assessment.csv", year=YEAR).content.decode("utf-8-sig")
    assert len(members_csv.strip().splitlines()) == SMALL.members + 1

    xlsx = api.get("/api/v1/reports/assessment.xlsx", year=YEAR)
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    try:
        assert book.sheetnames == ["社区 communities", "单位 units", "党员 members"]
        assert book["党员 members"].max_row == SMALL.members + 1
    finally:
        book.close()
    assert api.get("/api/v1/reports/assessment", year=1999).status_code == 422


def test_roster_upload(api: ApiServer) -> None:
    good = "编号,姓名,单位编号,社区编号,卡号\nM80001,钱晓燕,U001,C01,00000000AB\n".encode()
    csv = {"Content-Type": "text/csv"}
    response = api.http.post("/api/v1/imports/members?format=csv", content=good, headers=csv)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "kind": "members",
        "rows": 1,
        "created": 1,
        "updated": 0,
        "errors": [],
    }
    bad = "code,name,unit_code,community_code\nM80002,孙丽,U001,C01\nM80003,周强,U404,C01\n"
    response = api.http.post("/api/v1/imports/members", content=bad.encode(), headers=csv)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"line": 3, "column": "unit_code", "reason": "no unit with code 'U404'"}
    ]
    assert api.get("/api/v1/members", code="M80002").json()["count"] == 0
    assert api.http.post("/api/v1/imports/people", content=good, headers=csv).status_code == 404


def test_openapi_documents_every_route_with_examples(api: ApiServer) -> None:
    spec = api.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/members",
        "/api/v1/members/{member_id}",
        "/api/v1/registrations",
        "/api/v1/activities",
        "/api/v1/activities/{activity_id}",
        "/api/v1/attendance",
        "/api/v1/communities",
        "/api/v1/party-orgs",
        "/api/v1/agreements/{agreement_id}",
        "/api/v1/reports/assessment",
        "/api/v1/reports/assessment.csv",
        "/api/v1/reports/assessment.xlsx",
        "/api/v1/imports/members",
        "/api/v1/imports/units",
        "/api/v1/imports/agreements",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/members"]) == {"get", "post"}
    assert set(paths["/api/v1/activities/{activity_id}"]) == {"get", "patch"}
    schemas = spec["components"]["schemas"]
    assert schemas["MemberOut"]["properties"]["name"]["examples"] == ["王*东"]
    assert schemas["ActivityIn"]["examples"][0]["kind"] == "eight_into"
    for kind, first_column in (("members", "姓名"), ("units", "类型"), ("agreements", "签订日期")):
        body = paths[f"/api/v1/imports/{kind}"]["post"]["requestBody"]["content"]
        assert first_column in body["text/csv"]["example"], f"{kind}: an example of its own kind"
