"""服务事项转办 through the API, on SQLite and PostgreSQL: a resident's request raised on the public
route is classified and transferred by the community (centre staff), accepted and resolved by the
unit's contact, and confirmed; each user sees only its scope, and the contact stays masked; a
declined request goes back to the community; an overdue one escalates and the callbacks hear it;
hostile input is refused; and the assessment counts the requests per unit and community."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from demo.seed import seed_city
from hub.api import create_app
from hub.audit.models import AuditEntry
from hub.auth import Role
from hub.composition import build_ingest
from hub.core.settings import HubSettings
from hub.org import requests as flow
from hub.org.assessment import build_assessment
from hub.org.escalation import Escalated
from hub.org.models import (
    Agreement,
    Community,
    ServiceMenuItem,
    ServiceRequest,
    Unit,
)
from tests.hub.org.test_seed import SMALL
from tests.hub.support import CARD_KEY, ApiServer
from tests.users import bearer, user_token

BURST = 3


@dataclass
class City:
    api: ApiServer
    engine: Engine
    community: int
    """Served by centre-01, whose staff is ``centre``."""
    unit: int
    other_unit: int
    headers: dict[str, dict[str, str]]

    def call(self, who: str | None, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {} if who is None else self.headers[who]
        return self.api.http.request(method, path, headers=headers, **kwargs)

    def ok(self, who: str | None, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.call(who, method, path, **kwargs)
        assert response.is_success, f"{who} {method} {path}: {response.text}"
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def city(db_settings: HubSettings, engine: Engine) -> Iterator[City]:
    seed_city(engine, seed=5, key=CARD_KEY, year=2025, scale=SMALL)
    with Session(engine) as s:
        community = s.scalars(
            select(Community.id).where(Community.centre_id == "centre-01").order_by(Community.id)
        ).first()
        unit, other_unit = s.scalars(select(Unit.id).order_by(Unit.id).limit(2)).all()
        assert community is not None
        # an agreement in force whose menu offers a repair: the suggestion for 设施维修
        agreement = Agreement(
            code="AG-TEST-REPAIR",
            community_id=community,
            unit_id=unit,
            signed_on=date(2020, 1, 1),
        )
        s.add(agreement)
        s.flush()
        s.add(ServiceMenuItem(agreement_id=agreement.id, direction="offer", title="水电维修"))
        s.commit()
    settings = db_settings.model_copy(update={"request_rate_burst": BURST})
    url = settings.database_url
    headers = {
        "operator": bearer(user_token(url, Role.OPERATOR)),
        "centre": bearer(user_token(url, Role.CENTRE_STAFF, centre="centre-01", username="zx")),
        "other_centre": bearer(user_token(url, Role.CENTRE_STAFF, centre="centre-02")),
        "unit": bearer(user_token(url, Role.UNIT_CONTACT, unit=unit, username="dw")),
        "other_unit": bearer(user_token(url, Role.UNIT_CONTACT, unit=other_unit)),
        "viewer": bearer(user_token(url, Role.VIEWER)),
    }
    with ApiServer(create_app(settings), anonymous=True) as api:
        yield City(api, engine, community, unit, other_unit, headers)


def _history(city: City, who: str, request_id: int) -> list[tuple[str, str]]:
    events = city.ok(who, "GET", f"/api/v1/service-requests/{request_id}/history")
    return [(e["kind"], e["actor"]) for e in events]  # type: ignore[attr-defined]


def test_a_residents_request_goes_through_three_users_each_within_its_scope(city: City) -> None:
    raised = city.ok(
        None,
        "POST",
        "/public/v1/service-requests",
        json={
            "community_id": city.community,
            "summary": "楼道照明损坏",
            "place": "3号楼2单元",
            "contact": "138-1234-5678",
        },
    )
    rid = raised["id"]
    path = f"/api/v1/service-requests/{rid}"

    # the community's official (centre staff) sees it in its queue, contact masked
    queue = city.ok("centre", "GET", "/api/v1/service-requests", params={"queue": "community"})
    mine = next(r for r in queue["data"] if r["id"] == rid)
    assert mine["contact"] == "138****5678"
    assert mine["source"] == "public"
    assert mine["category"] == flow.UNCLASSIFIED
    assert mine["due_at"] is not None
    # out of scope: another centre, another unit, a viewer
    assert city.call("other_centre", "GET", path).status_code == 404
    assert city.call("other_unit", "GET", path).status_code == 404
    assert city.call("unit", "GET", path).status_code == 404, "not transferred yet"
    assert city.call("viewer", "GET", path).status_code == 403
    assert city.call("unit", "POST", f"{path}/transfer", json={"unit_id": 1}).status_code == 403

    city.ok("centre", "POST", f"{path}/classify", json={"category": "设施维修"})
    suggested = city.ok("centre", "GET", f"{path}/suggestions")
    units = {s["unit_id"]: s["offers"] for s in suggested}  # type: ignore[attr-defined]
    assert "水电维修" in units[city.unit]
    assert all(
        any("维修" in o or "设施" in o or "照明" in o for o in offers) for offers in units.values()
    )
    moved = city.ok("centre", "POST", f"{path}/transfer", json={"unit_id": city.unit})
    assert moved["status"] == "transferred"

    # the unit's contact: its queue has it; another unit's contact still cannot touch it
    unit_queue = city.ok("unit", "GET", "/api/v1/service-requests", params={"queue": "unit"})
    assert [r["id"] for r in unit_queue["data"]] == [rid]
    assert city.call("other_unit", "POST", f"{path}/accept").status_code == 404
    assert city.call("unit", "GET", f"{path}/contact").status_code == 409, "not accepted yet"
    city.ok("unit", "POST", f"{path}/accept")
    assert city.ok("unit", "GET", f"{path}/contact")["contact"] == "13812345678"
    assert city.ok("unit", "GET", path)["contact"] == "138****5678", "masked everywhere else"
    assert city.call("centre", "GET", f"{path}/contact").status_code == 403
    assert city.call("centre", "POST", f"{path}/confirm").status_code == 409, "not resolved"
    city.ok("unit", "POST", f"{path}/resolve", json={"note": "已更换灯泡"})

    # the community confirms; the contact is cleared
    done = city.ok("centre", "POST", f"{path}/confirm")
    assert done["status"] == "confirmed"
    assert done["contact"] is None
    assert done["resolution"] == "已更换灯泡"
    assert _history(city, "operator", rid) == [
        ("raised", "public"),
        ("classified", "zx"),
        ("transferred", "zx"),
        ("accepted", "dw"),
        ("contact_viewed", "dw"),
        ("resolved", "dw"),
        ("confirmed", "zx"),
    ]
    with Session(city.engine) as s:
        audited = s.scalars(
            select(AuditEntry).where(
                AuditEntry.table_name == "service_requests", AuditEntry.row_id == str(rid)
            )
        ).all()
    assert {a.actor for a in audited} >= {"anonymous", "zx", "dw"}
    assert all("13812345678" not in str(a.before) + str(a.after) for a in audited)


def test_a_declined_request_returns_to_the_communitys_queue_and_a_resolved_one_may_reopen(
    city: City,
) -> None:
    made = city.ok(
        "centre",
        "POST",
        "/api/v1/service-requests",
        json={"community_id": city.community, "summary": "小区绿地需修剪", "category": "环境卫生"},
    )
    path = f"/api/v1/service-requests/{made['id']}"
    city.ok("centre", "POST", f"{path}/transfer", json={"unit_id": city.unit})
    declined = city.ok("unit", "POST", f"{path}/decline", json={"reason": "非本单位职责"})
    assert declined["status"] == "declined"
    assert declined["unit_id"] is None
    assert city.call("unit", "GET", path).status_code == 404, "no longer the unit's"
    queue = city.ok("centre", "GET", "/api/v1/service-requests", params={"queue": "community"})
    assert made["id"] in [r["id"] for r in queue["data"]]
    events = city.ok("centre", "GET", f"{path}/history")
    assert events[-1]["kind"] == "declined"  # type: ignore[index]
    assert events[-1]["note"] == "非本单位职责"  # type: ignore[index]
    assert events[-1]["unit_id"] == city.unit  # type: ignore[index]

    city.ok("centre", "POST", f"{path}/transfer", json={"unit_id": city.other_unit})
    city.ok("other_unit", "POST", f"{path}/accept")
    city.ok("other_unit", "POST", f"{path}/resolve", json={"note": "已修剪"})
    reopened = city.ok("centre", "POST", f"{path}/reopen", json={"reason": "只修剪了一半"})
    assert reopened["status"] == "accepted"
    assert reopened["resolved_at"] is None
    assert city.call("other_unit", "POST", f"{path}/accept").status_code == 409
    # centre staff may not raise in a community its centre does not serve
    with Session(city.engine) as s:
        elsewhere = s.scalars(
            select(Community.id).where(Community.centre_id != "centre-01")
        ).first()
    refused = city.call(
        "centre",
        "POST",
        "/api/v1/service-requests",
        json={"community_id": elsewhere, "summary": "路面积水"},
    )
    assert refused.status_code == 403
    assert refused.json()["detail"][0]["loc"] == ["body", "community_id"]


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"summary": ""}, "summary", "at least 1"),
        ({"summary": "水" * 1001}, "summary", "at most 1000"),
        ({"summary": "路灯\x00不亮"}, "summary", "control characters"),
        ({"summary": "路灯\n不亮"}, "summary", "control characters"),
        ({"contact": "call me maybe"}, "contact", "not a phone number"),
        ({"contact": "12345"}, "contact", "not a phone number"),
        ({"place": " 3号楼"}, "place", "space"),
        ({"name": "张三"}, "name", "Extra inputs"),
        ({"community_id": 999999}, "community_id", "no community"),
    ],
)
def test_hostile_input_is_refused_naming_the_field(
    city: City, body: dict[str, Any], field: str, says: str
) -> None:
    sent = {"community_id": city.community, "summary": "路灯不亮", **body}
    response = city.call(None, "POST", "/public/v1/service-requests", json=sent)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert any(d["loc"][-1] == field and says in d["msg"] for d in detail), detail
    with Session(city.engine) as s:
        assert s.scalar(select(func.count()).where(ServiceRequest.source == "public")) == 0


def test_too_many_requests_from_one_address_are_429_and_a_huge_body_413(city: City) -> None:
    body = {"community_id": city.community, "summary": "路灯不亮"}
    statuses = [
        city.call(None, "POST", "/public/v1/service-requests", json=body).status_code
        for _ in range(BURST + 1)
    ]
    assert statuses == [201] * BURST + [429]
    refused = city.call(None, "POST", "/public/v1/service-requests", json=body)
    assert int(refused.headers["Retry-After"]) >= 1
    # the venue pages' bucket is another one: still open
    assert city.call(None, "GET", "/public/v1/service-requests/communities").status_code == 200
    huge = city.api.http.post(
        "/public/v1/service-requests",
        content=b'{"summary": "' + b"x" * 2_000_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413


def test_an_overdue_request_escalates_once_and_the_callbacks_hear_it(
    city: City, db_settings: HubSettings
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=30)
    with Session(city.engine) as s:
        overdue = flow.raise_request(
            s,
            community_id=city.community,
            summary="消防通道堵塞",
            category="安全隐患",
            actor="zx",
            now=long_ago,
        )
        resolved = flow.raise_request(
            s,
            community_id=city.community,
            summary="路面积水",
            category="安全隐患",
            actor="zx",
            now=long_ago,
        )
        flow.transfer(s, resolved, city.unit, "zx", now=long_ago)
        flow.accept(s, resolved, "dw", now=long_ago)
        flow.resolve(s, resolved, "已疏通", "dw", now=long_ago + timedelta(hours=2))
        fresh = flow.raise_request(
            s, community_id=city.community, summary="路灯不亮", category="设施维修", actor="zx"
        )
        s.commit()
        ids = overdue.id, resolved.id, fresh.id
    heard: list[Escalated] = []
    ingest = build_ingest(db_settings)  # the job as the hub runs it, beside the ingest worker
    try:
        job = ingest.escalation
        assert job in ingest.worker._services
        job.on_escalated(heard.append)
        job.on_escalated(lambda _e: (_ for _ in ()).throw(RuntimeError("a broken receiver")))
        job.run_once()
        mine = [e for e in heard if e.request_id in ids]
        assert [e.request_id for e in mine] == [ids[0]]
        assert mine[0].community_id == city.community
        assert mine[0].due_at == long_ago + timedelta(days=flow.DEFAULT_DEADLINE_DAYS["安全隐患"])
        assert job.run_once() == [], "once"
    finally:
        ingest.worker.engine.dispose()
    assert ("escalated", "system") in _history(city, "centre", ids[0])
    escalated = city.ok("centre", "GET", "/api/v1/service-requests", params={"escalated": True})
    assert ids[0] in [r["id"] for r in escalated["data"]]
    assert ids[1] not in [r["id"] for r in escalated["data"]]


def test_the_assessment_counts_requests_per_unit_and_community(city: City) -> None:
    """Requests made in a past year the seed has none of: received, resolved, the median hours and the
    overdue ones, per unit and community, in the JSON report and the CSV."""
    year = 2021
    t0 = datetime(year, 3, 1, 2, 0, tzinfo=UTC)
    hours = [10, 30, 50]  # resolved after these hours; one more left open past its deadline
    with Session(city.engine) as s:
        for n, h in enumerate(hours):
            r = flow.raise_request(
                s,
                community_id=city.community,
                summary="路灯不亮",
                category="设施维修",
                actor="zx",
                now=t0 + timedelta(days=n),
            )
            flow.transfer(s, r, city.unit, "zx", now=r.raised_at + timedelta(hours=1))
            flow.accept(s, r, "dw", now=r.raised_at + timedelta(hours=2))
            flow.resolve(s, r, "已修复", "dw", now=r.raised_at + timedelta(hours=h))
        late = flow.raise_request(
            s,
            community_id=city.community,
            summary="消防通道堵塞",
            category="安全隐患",
            actor="zx",
            now=t0,
        )
        flow.transfer(s, late, city.unit, "zx", now=t0 + timedelta(hours=1))
        s.commit()
        report = build_assessment(s, year)
    unit = next(u for a in report.alliances for u in a.units if u.id == city.unit)
    assert unit.requests.received == len(hours) + 1
    assert unit.requests.resolved == len(hours)
    assert unit.requests.median_hours_to_resolve == sorted(hours)[len(hours) // 2]
    assert unit.requests.overdue == 1
    community = next(c for c in report.communities if c.id == city.community)
    assert (community.requests.received, community.requests.resolved) == (len(hours) + 1, 3)
    others = [u for a in report.alliances for u in a.units if u.id != city.unit]
    assert all(u.requests.received == 0 for u in others)

    body = city.ok("operator", "GET", "/api/v1/reports/assessment", params={"year": year})
    units = [u for a in body["alliances"] for u in a["units"]]
    assert next(u for u in units if u["id"] == city.unit)["requests"] == {
        "received": 4,
        "resolved": 3,
        "median_hours_to_resolve": 30.0,
        "overdue": 1,
    }
    csv = (
        city.call(
            "operator",
            "GET",
            "/api/v1/reports/assessment.csv",
            params={"year": year, "table": "units"},
        )
        .content.decode("utf-8-sig")
        .splitlines()
    )
    assert csv[0].endswith("超期事项 requests overdue")
    with Session(city.engine) as s:
        code = s.get(Unit, city.unit).code  # type: ignore[union-attr]
    row = next(line for line in csv[1:] if f",{code}," in line)
    assert row.endswith(",4,3,30.0,1")
