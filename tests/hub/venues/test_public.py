"""The public venue pages' API (``/public/v1``, no login), on SQLite and PostgreSQL: every venue
not archived, with nothing that names a person; closed venues (a closure, a closed weekday) shown
as closed; the coarse level and the exact count only where allowed; ETag and 304; the QR code
names the configured base address; the map's outlines refused with a 422 that names the problem;
the rate limit's 429 with Retry-After after the burst."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from hub.api import create_app
from hub.auth import Role
from hub.core.settings import HubSettings
from hub.org.calendar import CITY_TZ
from hub.venues.models import Venue, VenueClosure, VenueHours, VenueOccupancy
from hub.venues.outlines import MAX_BYTES
from hub.venues.public import level_of
from tests.hub.support import ApiServer
from tests.hub.venues.support import register_venue
from tests.users import bearer, user_token

BURST = 12
BASE = "https://venues.example.cn"
TILES = "https://tiles.example.cn/{z}/{x}/{y}.png"
PUBLIC_KEYS = {
    "id", "name", "kind", "address", "subdistrict", "community", "latitude", "longitude",
    "hours_today", "open_now", "level", "occupancy", "capacity",
}  # fmt: skip
ALL_DAY = (time(0, 0), time(0, 0))  # closing at the opening time: the next day's, open 24 h


@dataclass
class Public:
    api: ApiServer
    operator: dict[str, str]
    calls: int = 0
    """Calls made to the rate-limited routes so far (one bucket, one client address)."""

    def get(self, path: str, **kw: Any) -> httpx.Response:
        self.calls += 1
        return self.api.http.get(path, **kw)


def _occupancy(session: Session, venue_id: str, occupancy: int, capacity: int) -> None:
    now = datetime.now(UTC)
    session.add(
        VenueOccupancy(
            venue_id=venue_id,
            occupancy=occupancy,
            capacity=capacity,
            source="counters",
            visits=occupancy,
            day_start=now - timedelta(hours=1),
            as_of=now,
            updated_at=now,
        )
    )


@pytest.fixture
def public(db_settings: HubSettings, engine: Engine) -> Iterator[Public]:
    for venue_id in ("venue-01", "venue-02", "venue-03", "venue-04", "venue-05", "venue-06"):
        register_venue(engine, venue_id, opens_at=ALL_DAY[0], closes_at=ALL_DAY[1], capacity=100)
    today = datetime.now(CITY_TZ).date()
    with Session(engine) as session:
        # a day either side: the test must not turn over midnight into an open day
        session.add(
            VenueClosure(
                venue_id="venue-02",
                starts_on=today - timedelta(days=1),
                ends_on=today + timedelta(days=1),
                reason="维修",
            )
        )
        for day in (today, today + timedelta(days=1)):
            session.add(VenueHours(venue_id="venue-03", weekday=day.weekday()))
        session.execute(
            update(Venue)
            .where(Venue.id == "venue-04")
            .values(archived_at=datetime.now(UTC), name="archived")
        )
        session.execute(
            update(Venue)
            .where(Venue.id == "venue-01")
            .values(public_count=True, latitude=38.73, longitude=112.71)
        )
        _occupancy(session, "venue-01", 95, 100)  # >= 90 % (its threshold): nearly full
        _occupancy(session, "venue-05", 65, 100)  # from 60 % (90 - 30): filling up
        _occupancy(session, "venue-02", 99, 100)  # closed, however full
        session.commit()
    settings = db_settings.model_copy(
        update={
            "public_rate_burst": BURST,
            "public_rate_per_minute": 1e-3,  # no refill within the test
            "public_base_url": BASE,
            "map_tile_url": TILES,
        }
    )
    operator = bearer(user_token(settings.database_url, Role.OPERATOR))
    with ApiServer(create_app(settings), anonymous=True) as api:
        yield Public(api, operator)


def test_the_public_venues_their_levels_caching_outlines_and_rate_limit(public: Public) -> None:
    response = public.get("/public/v1/venues")
    assert response.status_code == 200, response.text
    body = response.json()
    venues = {v["id"]: v for v in body["data"]}
    assert sorted(venues) == ["venue-01", "venue-02", "venue-03", "venue-05", "venue-06"]
    assert body["count"] == len(venues)
    for v in venues.values():
        assert set(v) == PUBLIC_KEYS, "nothing beyond what anyone may know"
    assert set(venues["venue-01"]["hours_today"]) == {"opens_at", "closes_at"}
    levels = {k: (v["open_now"], v["level"]) for k, v in venues.items()}
    assert levels == {
        "venue-01": (True, "nearly_full"),
        "venue-02": (False, "closed"),
        "venue-03": (False, "closed"),
        "venue-05": (True, "filling_up"),
        "venue-06": (True, "plenty"),
    }
    assert venues["venue-02"]["hours_today"] is None, "closed all day by its closure"
    assert venues["venue-03"]["hours_today"] is None, "closed on its weekday"
    one = venues["venue-01"]
    assert (one["occupancy"], one["capacity"]) == (95, 100), "public_count: the exact count"
    assert (one["latitude"], one["longitude"]) == (38.73, 112.71)
    assert (venues["venue-05"]["occupancy"], venues["venue-05"]["capacity"]) == (None, None)
    assert public.get("/public/v1/venues/venue-04").status_code == 404, "archived"

    # cacheable: a weak ETag, a few seconds; the same ETag back is a 304 with no body
    etag = response.headers["etag"]
    assert re.fullmatch(r'W/"[0-9a-f]{32}"', etag)
    assert response.headers["cache-control"] == "public, max-age=5"
    again = public.get("/public/v1/venues", headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    assert public.get("/public/v1/venues", headers={"If-None-Match": 'W/"0"'}).status_code == 200
    single = public.get("/public/v1/venues/venue-05")
    assert single.json() == venues["venue-05"]

    # the QR code opens the venue's page at the configured address
    qr = public.get("/public/v1/venues/venue-01/qr.svg")
    assert qr.headers["content-type"] == "image/svg+xml"
    assert f"<title>{BASE}/public/venues/venue-01</title>" in qr.text
    assert qr.text.startswith("<?xml")
    assert "<svg" in qr.text
    page = public.get("/public/venues/venue-01")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "img-src 'self' data: https://tiles.example.cn;" in policy, "the tile origin, only"
    assert "connect-src 'self';" in policy
    assert public.get("/public/v1/map").json() == {"tile_url": TILES, "base_url": BASE}

    _outlines(public)

    # after the burst, 429 with Retry-After, for the pages too
    while public.calls < BURST:
        assert public.get("/public/v1/venues").status_code == 200
    refused = public.get("/public/v1/venues")
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["retry-after"]) >= 1
    assert public.get("/public/venues/venue-01").status_code == 429


def _outlines(public: Public) -> None:
    ring = [[112.70, 38.72], [112.72, 38.72], [112.72, 38.74], [112.70, 38.72]]
    good = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "新原社区", "phone": "13800000000"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            },
            {
                "type": "Feature",
                "properties": None,
                "geometry": {"type": "MultiPolygon", "coordinates": [[ring], [ring]]},
            },
        ],
    }

    def put(body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return public.api.http.put(
            "/api/v1/map/outlines",
            content=body,
            headers={
                "Content-Type": "application/geo+json",
                **(public.operator if headers is None else headers),
            },
        )

    def feature(geometry: dict[str, Any]) -> bytes:
        return json.dumps(
            {**good, "features": [{**good["features"][0], "geometry": geometry}]}
        ).encode()

    polygon = "Polygon"
    bad = {
        b"{not json": "not JSON",
        json.dumps({"type": "Feature"}).encode(): "not a GeoJSON FeatureCollection",
        feature({"type": "Point", "coordinates": [112.7, 38.7]}): (
            "features[0].geometry.type: 'Point', only Polygon and MultiPolygon"
        ),
        feature({"type": polygon, "coordinates": [[[112.7, 95.0], *ring[1:-1], [112.7, 95.0]]]}): (
            "features[0].geometry.coordinates[0][0]: [112.7, 95.0] is outside WGS-84"
        ),
        feature({"type": polygon, "coordinates": [[*ring[:-1], [112.71, 38.72]]]}): (
            "features[0].geometry.coordinates[0]: a linear ring must end where it starts"
        ),
        feature({"type": polygon, "coordinates": [ring[:3]]}): "at least 4 positions",
        feature({"type": polygon, "coordinates": [[["112.7", 38.7], *ring[1:]]]}): (
            "features[0].geometry.coordinates[0][0]: a position is [longitude, latitude]"
        ),
        b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        b'"geometry":{"type":"Polygon","coordinates":[[[NaN,1],[1,1],[1,2],[NaN,1]]]}}]}': (
            "NaN is not a number GeoJSON allows"
        ),
    }
    for body, problem in bad.items():
        refused = put(body)
        assert refused.status_code == 422, (body[:80], refused.text)
        assert problem in refused.json()["detail"], refused.json()
    assert put(b"x" * (MAX_BYTES + 1)).status_code == 413
    assert put(json.dumps(good).encode(), headers={}).status_code == 401, "operators only"
    stored = put(json.dumps(good).encode())
    assert stored.status_code == 200, stored.text
    assert stored.json() == {"features": 2, "vertices": 12}
    served = public.get("/public/v1/map/outlines")
    assert served.headers["content-type"] == "application/geo+json"
    features = served.json()["features"]
    assert [f["properties"] for f in features] == [{"name": "新原社区"}, {}], "only the name kept"


@pytest.mark.parametrize(
    ("open_now", "occupancy", "threshold", "level"),
    [
        (False, 0, 90.0, "closed"),
        (True, 0, 90.0, "plenty"),
        (True, 59, 90.0, "plenty"),
        (True, 60, 90.0, "filling_up"),
        (True, 89, 90.0, "filling_up"),
        (True, 90, 90.0, "nearly_full"),
        (True, 20, 25.0, "filling_up"),  # a threshold under 30 %: filling up from none at all
        (True, 100, 90.0, "nearly_full"),
    ],
)
def test_the_level_is_set_by_the_venues_threshold(
    open_now: bool, occupancy: int, threshold: float, level: str
) -> None:
    assert level_of(open_now, occupancy, 100, threshold) == level
