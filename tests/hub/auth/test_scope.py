"""Scope, applied on the server: a centre's staff see their centre, a venue manager its unit's
venues; lists are narrowed, anything named outside the scope is 403; the live stream carries a
scoped user only the events of its sites, and each topic only to the roles that may read it."""

from __future__ import annotations

import json

from hub.api.routes.stream import TOPIC_PERMISSION
from hub.auth import ROLE_PERMISSIONS, Role
from hub.live import LiveEvent, LiveTopic
from tests.hub.auth.support import (
    ALERTING_VENUES,
    CENTRE,
    OTHER_CENTRE,
    OTHER_VENUE,
    UNIT,
    UNIT_VENUES,
    Secured,
    activity_body,
)
from tests.hub.support import wait_until
from tests.hub.test_stream import FULL_HASH, StreamReader
from tests.users import bearer

C = Role.CENTRE_STAFF
V = Role.VENUE_MANAGER


def test_a_centres_staff_see_their_centre_only(secured: Secured) -> None:
    everything = secured.get(Role.OPERATOR, "/api/v1/checkins", limit=1000).json()
    own = [t for t in everything["data"] if t["site_id"] == CENTRE]
    assert own, "the seeded city has taps at this centre"
    assert len(own) < everything["count"], "and at another"

    mine = secured.get(C, "/api/v1/checkins", limit=1000).json()
    assert mine["count"] == len(own)
    assert {t["site_id"] for t in mine["data"]} == {CENTRE}
    assert secured.get(C, "/api/v1/checkins", site=CENTRE).json()["count"] == len(own)
    assert secured.get(C, "/api/v1/checkins", site=OTHER_CENTRE).status_code == 403

    live = secured.get(C, "/api/v1/live/checkins", limit=1000).json()
    assert {t["site_id"] for t in live["data"]} == {CENTRE}
    assert secured.get(C, "/api/v1/live/checkins", site=OTHER_CENTRE).status_code == 403

    attendance = secured.get(C, "/api/v1/attendance", limit=1000).json()
    assert attendance["count"] == len(own)
    assert {a["centre_id"] for a in attendance["data"]} == {CENTRE}
    assert secured.get(C, "/api/v1/attendance", centre_id=OTHER_CENTRE).status_code == 403

    activities = secured.get(C, "/api/v1/activities", limit=1000).json()["data"]
    assert activities
    assert {a["centre_id"] for a in activities} == {CENTRE}
    others = secured.get(Role.OPERATOR, "/api/v1/activities", centre_id=OTHER_CENTRE).json()
    other = others["data"][0]["id"]
    assert secured.get(C, f"/api/v1/activities/{other}").status_code == 403
    assert secured.get(C, f"/api/v1/activities/{activities[0]['id']}").status_code == 200
    assert secured.get(C, "/api/v1/activities", centre_id=OTHER_CENTRE).status_code == 403
    patch = secured.call(C, "PATCH", f"/api/v1/activities/{other}", json={"title": "x"})
    assert patch.status_code == 403
    refused = secured.call(C, "POST", "/api/v1/activities", json=activity_body(OTHER_CENTRE))
    assert refused.status_code == 403
    assert secured.get(Role.OPERATOR, f"/api/v1/activities/{other}").json()["title"] != "x"


def test_a_centres_staff_see_their_readers_only(secured: Secured) -> None:
    all_devices = secured.get(Role.OPERATOR, "/api/v1/devices").json()["data"]
    assert {d["site_id"] for d in all_devices} >= {CENTRE, OTHER_CENTRE}
    devices = secured.get(C, "/api/v1/devices").json()["data"]
    assert devices
    assert {d["site_id"] for d in devices} == {CENTRE}
    assert {s["id"] for s in secured.get(C, "/api/v1/sites").json()["data"]} == {CENTRE}
    assert secured.get(C, "/api/v1/devices", site=OTHER_CENTRE).status_code == 403


def test_commands_show_to_their_sites_scope_only(secured: Secured) -> None:
    """A centre's staff read their centre's commands, a venue manager its venues'; asking by
    name for another site's, or for one of its commands, is 403."""
    made = {
        site: secured.call(
            Role.OPERATOR, "POST", "/api/v1/commands", json={"site": site, "op": "ping"}
        ).json()["id"]
        for site in (CENTRE, OTHER_CENTRE, UNIT_VENUES[0], OTHER_VENUE)
    }
    mine = secured.get(C, "/api/v1/commands").json()["data"]
    assert {c["site"] for c in mine} == {CENTRE}
    theirs = {c["site"] for c in secured.get(V, "/api/v1/commands").json()["data"]}
    assert UNIT_VENUES[0] in theirs
    assert theirs <= set(UNIT_VENUES)
    assert secured.get(C, "/api/v1/commands", site=OTHER_CENTRE).status_code == 403
    assert secured.get(C, f"/api/v1/commands/{made[OTHER_CENTRE]}").status_code == 403
    assert secured.get(C, f"/api/v1/commands/{made[CENTRE]}").json()["state"] == "queued"
    assert secured.get(V, f"/api/v1/commands/{made[OTHER_VENUE]}").status_code == 403
    everything = secured.get(Role.OPERATOR, "/api/v1/commands", op="ping").json()
    assert {c["site"] for c in everything["data"]} >= set(made)


def test_a_centres_readers_show_only_to_those_who_may_read_its_devices(
    secured: Secured,
) -> None:
    """The centre itself is organisation.read (everyone's); its readers' state, last-seen time
    and allowlist are devices.read's, narrowed to a centre's staff's own centre as /devices."""
    for centre in (CENTRE, OTHER_CENTRE):
        full = secured.get(Role.OPERATOR, f"/api/v1/service-centres/{centre}").json()
        assert full["readers"], "the seeded centre has readers"
    own = secured.get(C, f"/api/v1/service-centres/{CENTRE}").json()
    devices = secured.get(C, "/api/v1/devices").json()["data"]
    assert [r["id"] for r in own["readers"]] == sorted(d["id"] for d in devices)
    hidden = {"readers": None, "allowlist_version": None, "allowlist_size": None}
    for role, centre in (
        (C, OTHER_CENTRE),
        (V, CENTRE),
        (Role.VIEWER, CENTRE),
        (Role.RECORDS_STAFF, CENTRE),
    ):
        response = secured.get(role, f"/api/v1/service-centres/{centre}")
        assert response.status_code == 200, (role, centre)
        detail = response.json()
        assert detail["id"] == centre
        assert detail["communities"], "the structure stays readable"
        assert {k: detail[k] for k in hidden} == hidden, (role, centre)
        assert "last_seen" not in response.text


def test_a_venue_manager_sees_its_units_venues_only(secured: Secured) -> None:
    everything = secured.get(Role.OPERATOR, "/api/v1/venues").json()
    assert everything["count"] > len(UNIT_VENUES)
    venues = secured.get(V, "/api/v1/venues").json()
    assert sorted(v["id"] for v in venues["data"]) == sorted(UNIT_VENUES)
    assert {v["unit_id"] for v in venues["data"]} == {UNIT}
    assert secured.get(V, "/api/v1/venues", unit=UNIT).json()["count"] == len(UNIT_VENUES)
    assert secured.get(V, "/api/v1/venues", unit=UNIT + 1).status_code == 403
    assert secured.get(V, f"/api/v1/venues/{UNIT_VENUES[0]}").status_code == 200
    for path in ("", "/occupancy", "/sessions?month=2026-11"):
        response = secured.api.http.get(
            f"/api/v1/venues/{OTHER_VENUE}{path}", headers=bearer(secured.tokens[V])
        )
        assert response.status_code == 403, path
    assert secured.get(V, "/api/v1/alerts", venue=OTHER_VENUE).status_code == 403
    assert secured.get(V, "/api/v1/alerts", unit=UNIT + 1).status_code == 403

    for path in ("/api/v1/counter-readings", "/api/v1/bay-readings"):
        everyone = secured.get(Role.OPERATOR, path).json()["data"]
        assert {r["site_id"] for r in everyone} == {*UNIT_VENUES, OTHER_VENUE}, path
        readings = secured.get(V, path).json()
        assert {r["site_id"] for r in readings["data"]} == set(UNIT_VENUES), path
        own = [r for r in everyone if r["site_id"] in UNIT_VENUES]
        assert readings["count"] == len(own), path
        assert secured.get(V, path, site=UNIT_VENUES[1]).json()["count"] > 0, path
        assert secured.get(V, path, site=OTHER_VENUE).status_code == 403, path

    every_alert = secured.get(Role.OPERATOR, "/api/v1/alerts").json()["data"]
    assert {a["venue_id"] for a in every_alert} == set(ALERTING_VENUES), "one per unit"
    alerts = secured.get(V, "/api/v1/alerts").json()
    assert [a["venue_id"] for a in alerts["data"]] == [UNIT_VENUES[0]]
    assert alerts["count"] == 1
    for state in ("open", "all"):
        narrowed = secured.get(V, "/api/v1/alerts", state=state).json()["data"]
        assert {a["venue_id"] for a in narrowed} == {UNIT_VENUES[0]}, state
    assert secured.get(V, "/api/v1/alerts", unit=UNIT).json()["count"] == 1
    assert secured.get(V, "/api/v1/alerts", venue=UNIT_VENUES[0]).json()["count"] == 1

    report = secured.get(V, "/api/v1/reports/venue-sharing", month="2026-11").json()
    assert sorted(v["venue_id"] for v in report["venues"]) == sorted(UNIT_VENUES)
    assert [u["unit_id"] for u in report["units"]] == [UNIT]
    everyone = secured.get(Role.VIEWER, "/api/v1/reports/venue-sharing", month="2026-11").json()
    assert len(everyone["venues"]) == everything["count"]
    csv = secured.get(V, "/api/v1/reports/venue-sharing", month="2026-11", format="csv")
    assert csv.status_code == 200
    assert len(csv.text.strip().splitlines()) == 1 + len(UNIT_VENUES)


def test_the_viewer_sees_aggregates_and_no_personal_data(secured: Secured) -> None:
    assert secured.get(Role.VIEWER, "/api/v1/venues").json()["count"] == 5
    for path in ("/api/v1/members", "/api/v1/checkins", "/api/v1/live/checkins",
                 "/api/v1/attendance", "/api/v1/reports/assessment?year=2025"):  # fmt: skip
        response = secured.api.http.get(path, headers=bearer(secured.tokens[Role.VIEWER]))
        assert response.status_code == 403, path


def test_the_live_feed_shows_a_cards_short_reference_never_its_whole_hash(
    secured: Secured,
) -> None:
    for role in (Role.OPERATOR, Role.RECORDS_STAFF, C):
        live = secured.get(role, "/api/v1/live/checkins", limit=1000)
        assert live.json()["count"] > 0, role
        assert not FULL_HASH.search(live.text), role
    taps = secured.get(Role.OPERATOR, "/api/v1/live/checkins", limit=1000).json()["data"]
    hashes = {
        t["event_id"]: t["card_hash"]
        for t in secured.get(Role.OPERATOR, "/api/v1/checkins", limit=1000).json()["data"]
    }
    assert {t["card_ref"] for t in taps} == {hashes[t["event_id"]][:8] for t in taps}


def test_each_topic_only_to_the_roles_that_may_read_it(secured: Secured) -> None:
    for role in Role:
        allowed = sorted(
            t.value for t in LiveTopic if TOPIC_PERMISSION[t] in ROLE_PERMISSIONS[role]
        )
        for topic in LiveTopic:
            if topic.value not in allowed:
                response = secured.get(role, "/api/v1/stream", topics=topic.value)
                assert response.status_code == 403, (role, topic)
        reader = StreamReader(secured.api.http, "/api/v1/stream", bearer(secured.tokens[role]))
        hello = reader.next() if reader.status == 200 else None
        if not allowed:
            assert reader.status == 403, role
            continue
        assert hello is not None
        assert json.loads(hello.data)["topics"] == allowed, "no topics asked: what it may read"


def test_the_stream_carries_a_scoped_user_its_own_sites_only(secured: Secured) -> None:
    centre = StreamReader(
        secured.api.http, "/api/v1/stream?topics=checkins,devices", bearer(secured.tokens[C])
    )
    venues = StreamReader(
        secured.api.http, "/api/v1/stream?topics=occupancy,readings", bearer(secured.tokens[V])
    )
    everyone = StreamReader(
        secured.api.http,
        "/api/v1/stream?topics=checkins,occupancy",
        bearer(secured.tokens[Role.OPERATOR]),
    )
    for reader in (centre, venues, everyone):
        assert reader.status == 200
        assert reader.next() is not None  # hello
    wait_until(lambda: secured.feed.client_count == 3, 5, "three streams")
    secured.feed.publish(
        [
            LiveEvent(LiveTopic.CHECKINS, {"site_id": OTHER_CENTRE, "n": 1}),
            LiveEvent(LiveTopic.OCCUPANCY, {"venue_id": OTHER_VENUE, "n": 2}),
            LiveEvent(LiveTopic.DEVICES, {"site_id": OTHER_CENTRE, "n": 3}),
            LiveEvent(LiveTopic.CHECKINS, {"site_id": CENTRE, "n": 4}),
            LiveEvent(LiveTopic.OCCUPANCY, {"venue_id": UNIT_VENUES[1], "n": 5}),
            LiveEvent(LiveTopic.DEVICES, {"site_id": CENTRE, "n": 6}),
            LiveEvent(LiveTopic.READINGS, {"site_id": UNIT_VENUES[0], "n": 7}),
        ]
    )

    def numbers(reader: StreamReader, count: int) -> list[int]:
        got = [reader.next() for _ in range(count)]
        return [json.loads(m.data)["n"] for m in got if m is not None]

    assert numbers(centre, 2) == [4, 6], "its centre's taps and readers, in order"
    assert numbers(venues, 2) == [5, 7], "its venues' occupancy and readings"
    assert numbers(everyone, 4) == [1, 2, 4, 5], "an operator: every site"
