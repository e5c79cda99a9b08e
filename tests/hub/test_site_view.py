"""The hub's view of sites (``GET /api/v1/sites``, ``GET /api/v1/sites/{id}``): each state and
problem from the rows that make it, the filters, the order, the scope and the refusals, on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from demo.seed import Scale, seed_city
from hub.api.site_view import RECENT_COMMANDS
from hub.auth import Role
from hub.composition import build_app
from hub.core.db import make_engine
from hub.core.settings import HubSettings
from hub.org.models import Community
from hub.venues.models import Venue
from tests.hub import site_rows
from tests.hub.support import CARD_KEY, ApiServer
from tests.users import user_token

TINY_CITY = Scale(
    subdistricts=1,
    communities=3,
    grids=6,
    grid_branches=3,
    party_groups=3,
    units=6,
    members=10,
    centres=2,
    venues=5,
    volunteer_teams=2,
    activities=4,
    service_requests=2,
)

# The city the tests below see (ids of the seeded centres and venues, and one legacy edge):
# centre-01  account, online, a degraded reader, a command that failed an hour ago
# centre-02  account, never heard from (the seeded city registered it and its reader)
# venue-01   account revoked (its edge was heard from before)
# venue-02   account, heard from 10 minutes ago: offline
# venue-03   no account, online, its outbox backing up
# venue-04   account (rotated twice), online, all well; an old failed command, outside the window
# legacy-9   no account and no centre or venue of its id: unregistered, online
EXPECTED = {
    "venue-02": ("offline", ["offline"]),
    "centre-01": ("online", ["commands_failed", "degraded"]),
    "venue-03": ("online", ["outbox", "unregistered"]),
    "legacy-9": ("online", ["unregistered"]),
    "centre-02": ("never_seen", []),
    "venue-01": ("revoked", []),
    "venue-04": ("online", []),
}


def _city(engine: Engine) -> None:
    seed_city(engine, seed=3, key=CARD_KEY, scale=TINY_CITY)
    with engine.begin() as conn:
        site_rows.account(conn, "centre-01")
        site_rows.heard(conn, "centre-01")
        site_rows.device(conn, "centre-01", "reader-1", "degraded")
        site_rows.device(conn, "centre-01", "reader-2", "ok")
        site_rows.command(conn, "centre-01", state="failed", ago_s=3600, reason="timed out")
        for n in range(RECENT_COMMANDS + 5):
            site_rows.command(conn, "centre-01", op="ping", ago_s=7200 + n)
        site_rows.account(conn, "centre-02")
        site_rows.account(conn, "venue-01", state="revoked")
        site_rows.heard(conn, "venue-01", ago_s=86_400)
        site_rows.account(conn, "venue-02")
        site_rows.heard(conn, "venue-02", ago_s=600)
        site_rows.device(conn, "venue-02", "gate-1", "ok")
        site_rows.heard(conn, "venue-03", outbox_depth=40, oldest_pending_s=400)
        site_rows.account(conn, "venue-04", version=3)
        site_rows.heard(conn, "venue-04")
        site_rows.command(conn, "venue-04", state="expired", ago_s=3 * 86_400)
        site_rows.heard(conn, "legacy-9")
        now = datetime.now(UTC)
        for minutes in (5, 3, 1):
            site_rows.beat(conn, "centre-01", now - timedelta(minutes=minutes), devices_bad=1)
        site_rows.beat(conn, "centre-01", now - timedelta(days=3))  # past the history kept


@dataclass
class City:
    api: ApiServer
    settings: HubSettings
    engine: Engine

    def sites(self, **params: object) -> list[dict[str, object]]:
        response = self.api.get("/api/v1/sites", **params)
        assert response.status_code == 200, response.text
        data: list[dict[str, object]] = response.json()["data"]
        return data

    def ids(self, **params: object) -> list[str]:
        return [str(s["id"]) for s in self.sites(**params)]

    def as_role(self, role: Role, **who: object) -> ApiServer:
        token = user_token(self.settings.database_url, role, **who)  # type: ignore[arg-type]
        return ApiServer(build_app(self.settings), token=token)


@pytest.fixture
def city(db_settings: HubSettings) -> Iterator[City]:
    settings = db_settings.model_copy(update={"heartbeat_timeout_s": 30.0})
    engine = make_engine(settings.database_url)
    _city(engine)
    with ApiServer(build_app(settings)) as api:
        yield City(api, settings, engine)
    engine.dispose()


def test_each_site_has_one_state_and_its_problems_worst_first(city: City) -> None:
    sites = city.sites()
    found = {s["id"]: (s["site_state"], s["problems"]) for s in sites}
    assert found == EXPECTED
    assert [s["id"] for s in sites][:4] == ["venue-02", "centre-01", "venue-03", "legacy-9"], (
        "offline, then failed commands, then the outbox, then unregistered"
    )
    assert all(not s["problems"] for s in sites[4:]), "problems first"
    by_id = {s["id"]: s for s in sites}
    centre = by_id["centre-01"]
    assert (centre["kind"], centre["device_count"], centre["devices_bad"]) == ("centre", 2, 1)
    assert by_id["centre-02"]["device_count"] == 1, "the seeded city's reader, never heard from"
    assert centre["failed_commands"] == 1
    assert centre["online"] is True
    assert by_id["legacy-9"]["kind"] is None
    assert by_id["legacy-9"]["account"] is None
    assert by_id["venue-03"]["kind"] == "venue"
    assert by_id["venue-03"]["account"] is None
    assert by_id["centre-02"]["last_seen"] is None
    assert by_id["centre-02"]["online"] is False


def test_the_credentials_state_is_shown_and_never_the_hash(city: City) -> None:
    response = city.api.get("/api/v1/sites")
    assert site_rows.FAKE_HASH not in response.text
    assert "password" not in response.text
    by_id = {s["id"]: s for s in response.json()["data"]}
    revoked = by_id["venue-01"]["account"]
    assert revoked["state"] == "revoked"
    assert revoked["revoked_at"] is not None
    assert by_id["venue-04"]["account"]["credentials_version"] == 3
    detail = city.api.get("/api/v1/sites/venue-04")
    assert detail.status_code == 200
    assert site_rows.FAKE_HASH not in detail.text
    assert "password" not in detail.text


def test_community_and_name_come_from_the_centre_or_venue_record(city: City) -> None:
    with city.engine.connect() as conn:
        venue = conn.execute(
            select(Venue.name, Community.id, Community.name)
            .join(Community, Community.id == Venue.community_id)
            .where(Venue.id == "venue-03")
        ).one()
    site = next(s for s in city.sites() if s["id"] == "venue-03")
    assert (site["name"], site["community_id"], site["community"]) == tuple(venue)
    assert city.ids(community=venue[1]).count("venue-03") == 1
    others = city.ids(community=venue[1] + 100)
    assert others == [], "no site in a community that does not exist"


def test_filters_narrow_the_list_and_keep_the_order(city: City) -> None:
    assert city.ids(state="never_seen") == ["centre-02"]
    assert city.ids(state="revoked") == ["venue-01"]
    assert city.ids(state="offline") == ["venue-02"]
    assert city.ids(kind="centre") == ["centre-01", "centre-02"]
    assert city.ids(kind="venue", state="online") == ["venue-03", "venue-04"]
    assert city.ids(problem="degraded") == ["centre-01"]
    assert city.ids(problem="unregistered") == ["venue-03", "legacy-9"]
    assert city.ids(problem="commands_failed") == ["centre-01"], "venue-04's is too old"
    assert city.ids(q="LEGACY") == ["legacy-9"], "any case"
    name = next(s["name"] for s in city.sites() if s["id"] == "venue-04")
    assert "venue-04" in city.ids(q=str(name)[2:6]), "by a part of the name"
    page = city.api.get("/api/v1/sites", limit=2, offset=1).json()
    assert page["count"] == len(EXPECTED)
    assert [s["id"] for s in page["data"]] == ["centre-01", "venue-03"]


@pytest.mark.parametrize(
    ("param", "bad", "says"),
    [
        ("state", "sleeping", "never_seen"),
        ("kind", "shop", "centre"),
        ("problem", "on_fire", "outbox"),
        ("community", "0", "greater than or equal to 1"),
        ("community", "x", "integer"),
        ("q", "", "at least 1 character"),
        ("q", "x" * 101, "at most 100 characters"),
    ],
)
def test_a_bad_filter_is_422_naming_it(city: City, param: str, bad: str, says: str) -> None:
    response = city.api.get("/api/v1/sites", **{param: bad})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", param]
    assert says in error["msg"]


def test_a_site_with_its_devices_commands_and_history(city: City) -> None:
    response = city.api.get("/api/v1/sites/centre-01")
    assert response.status_code == 200, response.text
    site = response.json()
    assert site["site_state"] == "online"
    assert site["problems"] == ["commands_failed", "degraded"]
    assert [(d["id"], d["state"], d["online"]) for d in site["devices"]] == [
        ("reader-1", "degraded", True),
        ("reader-2", "ok", True),
    ]
    commands = site["commands"]
    assert len(commands) == RECENT_COMMANDS, "the newest only"
    assert commands[0]["state"] == "failed"
    assert commands[0]["reason"] == "timed out"
    created = [c["created_at"] for c in commands]
    assert created == sorted(created, reverse=True), "newest first"
    history = site["history"]
    assert len(history) == 3, "the beat older than the history kept is left out"
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)
    assert all(h["devices_bad"] == 1 for h in history)
    assert site["history_step_s"] == city.settings.site_history_step_s

    never = city.api.get("/api/v1/sites/centre-02").json()
    assert never["site_state"] == "never_seen"
    assert (never["commands"], never["history"]) == ([], [])
    assert [(d["id"], d["state"]) for d in never["devices"]] == [("reader-1", "unknown")], (
        "the reader the seeded city registered"
    )


def test_an_unknown_or_malformed_site_is_refused(city: City) -> None:
    missing = city.api.get("/api/v1/sites/centre-77")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no site centre-77"
    assert city.api.get("/api/v1/sites/Not%20A%20Site").status_code == 422


def test_a_centres_staff_see_their_centres_site_only(city: City) -> None:
    with city.as_role(Role.CENTRE_STAFF, centre="centre-01") as staff:
        mine = staff.get("/api/v1/sites").json()
        assert [s["id"] for s in mine["data"]] == ["centre-01"]
        assert mine["count"] == 1
        assert staff.get("/api/v1/sites", problem="offline").json()["count"] == 0
        assert staff.get("/api/v1/sites/centre-01").status_code == 200
        assert staff.get("/api/v1/sites/venue-02").status_code == 403
        assert staff.get("/api/v1/sites/centre-77").status_code == 403, "scope before existence"


def test_roles_without_the_devices_permission_are_refused(city: City) -> None:
    with city.as_role(Role.VENUE_MANAGER, unit=1) as manager:
        assert manager.get("/api/v1/sites").status_code == 403
        assert manager.get("/api/v1/sites/venue-01").status_code == 403
