"""Upgrading a database that holds data, from the first revision to ``head`` (whatever head is),
on SQLite and PostgreSQL.

Rows go in at the revision that made their tables, and always before a migration that rebuilds
or extends them: 0002 adds ``devices.timeouts`` (default 0), 0007 the members' ``card_sealed``,
0010 ``archived_at`` on eleven tables and the venues' new columns (``public_count`` default
false); on SQLite each of these rebuilds the table (a copy, a DROP and a rename) with foreign keys
pointing at it, which must lose nothing. At head every row is read back through the tables as the
code declares them (``hub.tables``), every value as it went in, and the added columns with their
defaults.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from hub.core.db import head_revision, make_engine, upgrade
from hub.tables import Base

# Recent times, so a retention migration's partitions (by day or month) cover them.
T = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)
DAY = T.date()
BOOT = uuid.UUID("00000000-0000-4000-8000-00000000000b")
CHECKINS = [uuid.UUID(int=1), uuid.UUID(int=2)]
TOKEN = "0" * 64

Rows = list[tuple[str, list[dict[str, Any]]]]

AT_0001: Rows = [
    ("sites", [{"id": "centre-01", "first_seen": T, "state": "ok"}]),
    (
        "devices",
        [
            {
                "site_id": "centre-01",
                "id": device,
                "first_seen": T,
                "kind": kind,
                "state": "ok",
                "frames_ok": 40 + n,
                "frame_errors": n,
                "port_errors": 0,
            }
            for n, (device, kind) in enumerate(
                [("reader-1", "card_reader"), ("gate-1", "counter"), ("bays-1", "bay_sensor")]
            )
        ],
    ),
    (
        "checkins",
        [
            {
                "event_id": event,
                "site_id": "centre-01",
                "device_id": "reader-1",
                "boot": BOOT,
                "seq": seq,
                "device_time": T + timedelta(minutes=seq),
                "received_at": T + timedelta(minutes=seq, seconds=1),
                "card_hash": f"{seq:064x}",
                "decision": "accepted",
            }
            for seq, event in enumerate(CHECKINS, start=1)
        ],
    ),
    (
        "dead_letters",
        [
            {
                "id": 1,
                "received_at": T,
                "topic": "yp/v1/centre-01/reader-1/checkin",
                "payload": b"\x00not json\xff",
                "size": 10,
                "reason_kind": "decode",
                "reason": "not JSON",
            }
        ],
    ),
]

_ENVELOPE = {"site_id": "centre-01", "boot": BOOT, "device_time": T, "received_at": T}
AT_0002: Rows = [
    (
        "counter_readings",
        [
            {
                **_ENVELOPE,
                "event_id": uuid.UUID(int=11),
                "device_id": "gate-1",
                "seq": 3,
                "unit_id": 1,
                "device_boots": 2,
                "count_in": 120,
                "count_out": 97,
                "status": 0,
            }
        ],
    ),
    (
        "bay_readings",
        [
            {
                **_ENVELOPE,
                "event_id": uuid.UUID(int=12),
                "device_id": "bays-1",
                "seq": 4,
                "unit_id": 2,
                "bays": "1101",
                "occupied": 3,
                "total": 4,
            }
        ],
    ),
]

# Before 0007 (members rebuilt on SQLite) and 0010 (eleven tables rebuilt): the records.
AT_0006: Rows = [
    ("subdistricts", [{"id": 1, "code": "SD01", "name": "元平街道"}]),
    ("communities", [{"id": 1, "code": "C01", "name": "元平社区", "subdistrict_id": 1}]),
    ("grids", [{"id": 1, "code": "G01", "name": "第一网格", "community_id": 1, "level": 1}]),
    ("party_orgs", [{"id": 1, "code": "P01", "name": "元平社区党委", "kind": "working_committee"}]),
    ("alliances", [{"id": 1, "code": "A01", "name": "共建联盟"}]),
    ("units", [{"id": 1, "code": "U01", "name": "区税务局", "kind": "agency"}]),
    (
        "agreements",
        [{"id": 1, "code": "AG01", "community_id": 1, "unit_id": 1, "signed_on": DAY}],
    ),
    (
        "service_menu_items",
        [{"id": 1, "agreement_id": 1, "direction": "offer", "title": "税务咨询"}],
    ),
    (
        "alliance_chairs",
        [
            {
                "id": 1,
                "alliance_id": 1,
                "unit_id": 1,
                "starts_on": DAY,
                "ends_on": DAY + timedelta(days=365),
            }
        ],
    ),
    (
        "members",
        [
            {
                "id": n,
                "code": f"M{n:03}",
                "name": name,
                "unit_id": 1,
                "community_id": 1,
                "grid_id": 1,
                "party_org_id": 1,
                "card_hash": f"{n:064x}",
                "in_service": n == 1,
            }
            for n, name in [(1, "张三"), (2, "李四")]
        ],
    ),
    ("registrations", [{"id": 1, "community_id": 1, "member_id": 2, "registered_on": DAY}]),
    ("service_centres", [{"id": "centre-01", "name": "元平党群服务中心", "community_id": 1}]),
    (
        "activities",
        [
            {
                "id": 1,
                "centre_id": "centre-01",
                "community_id": 1,
                "title": "政策宣讲",
                "theme": "政策",
                "month": T.strftime("%Y-%m"),
                "kind": "eight_into",
                "eight_into": "policy",
                "starts_at": T,
                "ends_at": T + timedelta(hours=2),
            }
        ],
    ),
    (
        "attendance",
        [
            {
                "event_id": CHECKINS[0],
                "centre_id": "centre-01",
                "device_id": "reader-1",
                "card_hash": f"{1:064x}",
                "member_id": 1,
                "activity_id": 1,
                "community_id": 1,
                "at": T + timedelta(minutes=1),
                "local_date": DAY,
                "month": T.strftime("%Y-%m"),
            }
        ],
    ),
    (
        "volunteer_teams",
        [{"id": 1, "code": "VT01", "name": "志愿服务队", "kind": "station", "community_id": 1}],
    ),
    (
        "service_requests",
        [
            {
                "id": 1,
                "community_id": 1,
                "category": "环境",
                "summary": "路灯不亮",
                "status": "raised",
                "raised_at": T,
            }
        ],
    ),
    (
        "venues",
        [
            {
                "id": "venue-01",
                "name": "元平体育场",
                "kind": "sports_ground",
                "unit_id": 1,
                "community_id": 1,
                "address": "元平路1号",
                "capacity": 300,
                "opens_at": time(6, 0),
                "closes_at": time(22, 0),
            }
        ],
    ),
    (
        "allowlists",
        [
            {
                "centre_id": "centre-01",
                "version": 3,
                "digest": "ab" * 32,
                "size": 2,
                "issued_at": T,
            }
        ],
    ),
    (
        "venue_occupancy",
        [
            {
                "venue_id": "venue-01",
                "occupancy": 23,
                "capacity": 300,
                "source": "gate",
                "visits": 120,
                "day_start": T,
                "updated_at": T,
            }
        ],
    ),
    (
        "capacity_alerts",
        [
            {
                "id": 1,
                "venue_id": "venue-01",
                "raised_at": T,
                "capacity": 300,
                "threshold_pct": 90.0,
                "clear_below_pct": 80.0,
                "occupancy_at_raise": 271,
                "peak_occupancy": 280,
            }
        ],
    ),
    (
        "users",
        [{"id": 1, "username": "operator-1", "role": "operator", "created_at": T}],
    ),
    (
        "api_tokens",
        [{"id": 1, "user_id": 1, "token_hash": TOKEN, "prefix": "yp_0000", "created_at": T}],
    ),
    (
        "user_sessions",
        [
            {
                "id": 1,
                "user_id": 1,
                "session_hash": "1" * 64,
                "created_at": T,
                "expires_at": T + timedelta(hours=8),
            }
        ],
    ),
    (
        "login_codes",
        [
            {
                "id": 1,
                "user_id": 1,
                "code_hash": "2" * 64,
                "created_at": T,
                "expires_at": T + timedelta(minutes=10),
            }
        ],
    ),
]

AT_0009: Rows = [
    (
        "site_accounts",
        [
            {
                "site_id": "centre-01",
                "kind": "centre",
                "centre_id": "centre-01",
                "password_hash": "$argon2id$placeholder",
                "credentials_version": 2,
                "state": "active",
                "devices": [{"id": "reader-1", "kind": "card_reader"}],
                "created_at": T,
                "credentials_at": T,
            }
        ],
    ),
    (
        "edge_commands",
        [
            {
                "id": uuid.UUID(int=21),
                "site_id": "centre-01",
                "op": "reload_allowlist",
                "args": {"version": 3},
                "state": "done",
                "attempts": 1,
                "created_at": T,
                "deadline": T + timedelta(minutes=5),
            }
        ],
    ),
    (
        "site_heartbeats",
        [
            {
                "site_id": "centre-01",
                "at": T,
                "heartbeat_at": T,
                "uptime_s": 3600.5,
                "outbox_depth": 0,
                "devices": 3,
                "devices_bad": 0,
            }
        ],
    ),
]

STAGES: list[tuple[str, Rows]] = [
    ("0001", AT_0001),
    ("0002", AT_0002),
    ("0006", AT_0006),
    ("0009", AT_0009),
]
# Added by migrations after the rows went in: their values at head.
ADDED: dict[str, dict[str, Any]] = {
    "devices": {"timeouts": 0},
    "members": {"card_sealed": None, "archived_at": None},
    "venues": {
        "public_count": False,
        "agreement_id": None,
        "opened_on": None,
        "latitude": None,
        "longitude": None,
        "archived_at": None,
    },
    **{
        name: {"archived_at": None}
        for name in (
            "subdistricts",
            "communities",
            "grids",
            "party_orgs",
            "alliances",
            "units",
            "agreements",
            "service_centres",
            "volunteer_teams",
        )
    },
}


def table_now(conn: sa.Connection, name: str) -> sa.Table:
    """The head model's table cut to the columns the database has at its present revision: the
    head's types (UTC times, UUIDs, JSON) for a table as an older migration made it."""
    present = {column["name"] for column in sa.inspect(conn).get_columns(name)}
    head = Base.metadata.tables[name]
    return sa.Table(
        name,
        sa.MetaData(),
        *[
            sa.Column(c.name, c.type, primary_key=c.primary_key)
            for c in head.columns
            if c.name in present
        ],
    )


def test_a_database_with_data_upgrades_from_the_first_revision_to_head(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        for revision, rows in STAGES:
            assert upgrade(database_url, revision) == revision
            with engine.begin() as conn:
                for name, table_rows in rows:
                    conn.execute(sa.insert(table_now(conn, name)), table_rows)
                if revision == "0006":  # the two tables refer to each other
                    conn.execute(sa.text("UPDATE communities SET centre_id = 'centre-01'"))
        assert upgrade(database_url) == head_revision()

        with engine.connect() as conn:
            for _revision, rows in STAGES:
                for name, table_rows in rows:
                    table = Base.metadata.tables[name]
                    found = [dict(r._mapping) for r in conn.execute(sa.select(table))]
                    assert len(found) == len(table_rows), name
                    key = [c.name for c in table.primary_key.columns]
                    by_key = {tuple(row[k] for k in key): row for row in found}
                    for row in table_rows:
                        stored = by_key[tuple(row[k] for k in key)]
                        assert {c: stored[c] for c in row} == row, name
                        for column, value in ADDED.get(name, {}).items():
                            assert stored[column] == value, (name, column)
            centres = Base.metadata.tables["communities"].c.centre_id
            assert conn.execute(sa.select(centres)).scalar_one() == "centre-01"
            # a migration that rebuilt a table kept what refers to it (no cascade lost a row)
            attendance = Base.metadata.tables["attendance"]
            assert conn.execute(sa.select(attendance.c.member_id)).scalar_one() == 1
    finally:
        engine.dispose()
