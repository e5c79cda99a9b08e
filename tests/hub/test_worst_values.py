"""Nothing stored makes a read fail, and the worst times an edge can send never get stored.

``test_every_list_and_report_reads_the_worst_stored_values`` writes, straight into every table
with SQL (no ingest, no validation), the worst values each column's type holds, then calls
every GET route of the API's OpenAPI with an operator's token: none may answer 5xx. On SQLite
"what the column holds" means values of its declared type (SQLite would take any value in any
column; the hub writes through typed columns only); PostgreSQL also gets what only it stores:
``infinity``, years BC, ``24:00``, NaN.

``test_extreme_times_from_an_edge_are_dead_lettered_with_their_reason`` sends the times that
broke ``GET /api/v1/checkins`` on PostgreSQL (issue 8, item 4) through a real broker and ingest
worker.
"""

from __future__ import annotations

import itertools
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy import Engine

from hub.api import create_app
from hub.core.settings import HubSettings
from hub.tables import Base
from mqtt_contract.models import MAX_PAYLOAD_BYTES
from tests.hub.support import (
    BOOT,
    CARD_KEY,
    ApiServer,
    Db,
    EdgeClient,
    StartWorker,
    checkin,
    event_topic,
    wait_until,
)

MAX_REAL = sys.float_info.max
TEXT_LENGTH = MAX_PAYLOAD_BYTES
"""A TEXT column has no limit: as long as the largest payload the hub takes."""


@dataclass(frozen=True)
class Variant:
    """One row per table made of the same kind of extreme value."""

    name: str
    at: datetime
    day: date
    clock: time
    top: bool
    """Integers at the top of their type's range (else at the bottom)."""
    step: int
    """Distance from that bound: each variant's keys differ."""
    chars: str
    real: float
    postgres: tuple[str, str, str] | None = None
    """A timestamptz, date and time only PostgreSQL holds, written over the row's afterwards."""
    number: int | None = None
    """Every integer, instead of a bound."""

    def integer(self, column: sa.Column[Any], dialect: str) -> int:
        if self.number is not None:
            return self.number
        bits = 64 if dialect == "sqlite" or isinstance(column.type, sa.BigInteger) else 32
        bound = 2 ** (bits - 1)
        return bound - 1 - self.step if self.top else -bound + self.step

    def text(self, length: int) -> str:
        return (self.chars * length)[:length] if self.chars else ""

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=2**128 - 1 - self.step if self.top else self.step)


VARIANTS = [
    Variant("top", datetime.max.replace(tzinfo=UTC), date.max, time.max, True, 0, "𠀀", MAX_REAL),
    Variant(
        "bottom", datetime.min.replace(tzinfo=UTC), date.min, time.min, False, 0, "", -MAX_REAL
    ),
    # zeros divide: a capacity, a count, the Unix epoch
    Variant(
        "zero",
        datetime(1970, 1, 1, tzinfo=UTC),
        date(1970, 1, 1),
        time.min,
        False,
        3,
        "0",
        0.0,
        number=0,
    ),
    # the last instant of 2099 in the city (the last year the API takes), hostile text
    Variant(
        "hostile",
        datetime(2099, 12, 31, 15, 59, 59, 999_999, tzinfo=UTC),
        date(2099, 12, 31),
        time.max,
        True,
        1,
        '=HYPERLINK("x")\x01\u202e"\n,;\t\r签',
        float("inf"),
    ),
    # the first instant of 2000 in the city (the assessment's first year)
    Variant(
        "dawn",
        datetime(1999, 12, 31, 16, 0, tzinfo=UTC),
        date(2000, 1, 1),
        time.min,
        False,
        1,
        "ꙮ",
        5e-324,
    ),
]
POSTGRES_ONLY = [
    Variant("infinite", datetime.max.replace(tzinfo=UTC), date.max, time.max, True, 2, "∞",
            float("nan"), postgres=("infinity", "5874897-12-31", "24:00:00")),
    Variant("ancient", datetime.min.replace(tzinfo=UTC), date.min, time.min, False, 2, "ᚠ",
            float("-inf"), postgres=("-infinity", "4713-01-01 BC", "00:00:00")),
]  # fmt: skip

# CHECK constraints and the one cycle (communities <-> service centres), per table: column ->
# value, or a function of the variant and the row so far.
OVERRIDES: dict[str, dict[str, Any]] = {
    "grids": {"level": 1, "parent_id": None},
    "party_orgs": {"kind": "working_committee", "parent_id": None},
    "units": {"kind": "two_new"},
    "users": {"role": "operator", "centre_id": None, "unit_id": None},
    "venues": {
        "kind": "car_park",
        "capacity": lambda v, row: max(row["capacity"], 1),
        "alert_threshold_pct": lambda v, row: 100.0 if v.top else 5e-324,
        "latitude": lambda v, row: 90.0 if v.top else -90.0,
        "longitude": lambda v, row: 180.0 if v.top else -180.0,
    },
    "venue_hours": {"weekday": lambda v, row: 6 if v.top else 0},
    "venue_closures": {"ends_on": lambda v, row: row["starts_on"]},
    "volunteer_teams": {"kind": "group"},
    "activities": {
        "kind": "eight_into",
        "eight_into": "comprehensive_governance",
        "starts_at": lambda v, row: v.at - timedelta(microseconds=1) if v.top else v.at,
        "ends_at": lambda v, row: row["starts_at"] + timedelta(microseconds=1),
    },
    "registrations": {"unit_id": None},
    "service_requests": {"status": "resolved", "source": "public"},
    "service_request_events": {"kind": "escalated"},
    "service_menu_items": {"direction": "need"},
    "communities": {"centre_id": None},  # set once the centres exist
    "site_accounts": {
        "kind": "centre",
        "venue_id": None,
        "state": lambda v, row: "revoked" if v.top else "active",
    },
    "edge_commands": {"state": "failed"},
    "notifications": {"severity": "critical"},
    "notification_channels": {"kind": "webhook"},
    "notification_deliveries": {"state": "failed"},
    "audit_log": {"source": "import", "action": "restore"},  # what the hub writes: its Literals
}
LATER = {("communities", "centre_id"): ("service_centres", "id")}
APPEND_ONLY = {"audit_log"}
"""Tables whose trigger refuses an UPDATE on PostgreSQL (migration 0010); the hub writes their
times itself, never beyond Python's range."""


def column_type(column: sa.Column[Any]) -> Any:
    kind = column.type
    return kind.impl_instance if isinstance(kind, sa.TypeDecorator) else kind


def worst(column: sa.Column[Any], variant: Variant, dialect: str) -> Any:
    kind = column_type(column)
    if isinstance(kind, sa.DateTime):
        return variant.at
    if isinstance(kind, sa.Date):
        return variant.day
    if isinstance(kind, sa.Time):
        return variant.clock
    if isinstance(kind, sa.Boolean):
        return variant.top
    if isinstance(kind, sa.Integer):
        return variant.integer(column, dialect)
    if isinstance(kind, sa.Float):
        return variant.real
    if isinstance(kind, sa.Uuid):
        return variant.uuid()
    if isinstance(kind, sa.LargeBinary):  # every byte value, not UTF-8
        return bytes(range(256)) * (MAX_PAYLOAD_BYTES // 256 if variant.top else 1)
    if isinstance(kind, sa.String):
        return variant.text(kind.length or TEXT_LENGTH)
    if isinstance(kind, sa.JSON):  # an edge's command arguments, a site's devices
        return {variant.text(40): [variant.text(TEXT_LENGTH), variant.integer(column, dialect)]}
    raise AssertionError(f"no worst value for {column} of type {kind!r}: add one")


def fill(engine: Engine, variants: list[Variant]) -> dict[tuple[str, str], list[Any]]:
    """Insert one row per table and variant; returns each table's key values by (table, column)."""
    dialect = engine.dialect.name
    keys: dict[tuple[str, str], list[Any]] = {}
    with engine.begin() as conn:
        for variant in variants:
            rows: dict[str, dict[str, Any]] = {}
            for table in Base.metadata.sorted_tables:
                row = {c.name: worst(c, variant, dialect) for c in table.columns}
                for constraint in table.foreign_key_constraints:  # the parent of this variant
                    for element in constraint.elements:
                        parent = rows.get(element.column.table.name)
                        if parent is not None:
                            row[element.parent.name] = parent[element.column.name]
                for name, value in OVERRIDES.get(table.name, {}).items():
                    row[name] = value(variant, row) if callable(value) else value
                try:
                    conn.execute(table.insert(), row)
                except sa.exc.DBAPIError as exc:
                    raise AssertionError(f"{table.name} ({variant.name}): {exc.orig}") from exc
                rows[table.name] = row
                for column in table.primary_key.columns:
                    keys.setdefault((table.name, column.name), []).append(row[column.name])
            for (table_name, column), (parent, parent_column) in LATER.items():
                table = Base.metadata.tables[table_name]
                pk = {c.name: rows[table_name][c.name] for c in table.primary_key.columns}
                conn.execute(
                    table.update()
                    .where(*(table.c[k] == v for k, v in pk.items()))
                    .values({column: rows[parent][parent_column]})
                )
            if variant.postgres is not None:
                _beyond_python(conn, variant.postgres, rows)
    return keys


def _beyond_python(
    conn: sa.Connection, values: tuple[str, str, str], rows: dict[str, dict[str, Any]]
) -> None:
    """Times and dates PostgreSQL holds and Python cannot, over one variant's rows (starts at
    -infinity and ends at infinity, as the tables' CHECKs want starts before ends)."""
    by_type = dict(zip(("timestamptz", "date", "time"), values, strict=True))
    for table in Base.metadata.sorted_tables:
        if table.name in APPEND_ONLY:
            continue
        row = rows[table.name]
        where = " AND ".join(f"{c.name} = :pk_{c.name}" for c in table.primary_key.columns)
        params = {f"pk_{c.name}": row[c.name] for c in table.primary_key.columns}
        sets = []
        for column in table.columns:
            kind = column_type(column)
            cast = next((n for t, n in SQL_TIMES if isinstance(kind, t)), None)
            if cast is None:
                continue
            value = by_type[cast]
            if column.name in {"starts_at", "signed_on", "starts_on"}:
                value = "-infinity"
            elif column.name in {"ends_at", "ends_on"}:
                value = "infinity"
            sets.append(f"{column.name} = CAST('{value}' AS {cast})")
        if sets:
            conn.execute(
                sa.text(f"UPDATE {table.name} SET {', '.join(sets)} WHERE {where}"), params
            )


SQL_TIMES = ((sa.DateTime, "timestamptz"), (sa.Date, "date"), (sa.Time, "time"))


# --- the API over them ----------------------------------------------------------------------

PATH_KEYS = {
    "venue_id": ("venues", "id"),
    "subdistrict_id": ("subdistricts", "id"),
    "community_id": ("communities", "id"),
    "grid_id": ("grids", "id"),
    "party_org_id": ("party_orgs", "id"),
    "unit_id": ("units", "id"),
    "alliance_id": ("alliances", "id"),
    "agreement_id": ("agreements", "id"),
    "centre_id": ("service_centres", "id"),
    "team_id": ("volunteer_teams", "id"),
    "request_id": ("service_requests", "id"),
    "registration_id": ("registrations", "id"),
    "member_id": ("members", "id"),
    "activity_id": ("activities", "id"),
    "site_id": ("sites", "id"),
    "command_id": ("edge_commands", "id"),
    "chair_id": ("alliance_chairs", "id"),
    "entry_id": ("audit_log", "id"),
    "closure_id": ("venue_closures", "id"),
}
"""Which stored keys fill each path parameter: a route with a new one fails until it is here."""
NOT_CALLED = {"/api/v1/stream": "a live stream never ends; its events are the rows read here"}


def calls(
    spec: dict[str, Any], keys: dict[tuple[str, str], list[Any]], months: list[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every GET route: with each stored key in its path, each value of each enumerated query
    parameter, and each month and bounding year where one is required."""
    for path, operations in spec["paths"].items():
        operation = operations.get("get")
        if operation is None or path in NOT_CALLED:
            continue
        parameters = operation.get("parameters", [])
        in_path = [p["name"] for p in parameters if p["in"] == "path"]
        missing = [name for name in in_path if name not in PATH_KEYS]
        assert not missing, f"{path}: which stored keys fill {missing}? add them to PATH_KEYS"
        required: dict[str, list[Any]] = {}
        for p in parameters:
            if p["in"] == "query" and p.get("required"):
                schema = p["schema"]
                if p["name"] == "month":
                    required["month"] = months
                elif schema.get("type") == "integer":
                    required[p["name"]] = [schema.get("minimum", 1), schema.get("maximum", 9999)]
                else:
                    raise AssertionError(f"{path}: a value for required {p['name']}?")
        variations: list[dict[str, Any]] = [{}]
        for p in parameters:
            if p["in"] == "query" and "enum" in p["schema"]:
                variations += [{p["name"]: value} for value in p["schema"]["enum"]]
        path_values = [[quote(str(k), safe="") for k in keys[PATH_KEYS[name]]] for name in in_path]
        for ids in itertools.product(*path_values):
            url = path
            for name, value in zip(in_path, ids, strict=True):
                url = url.replace("{" + name + "}", value)
            for fixed in itertools.product(*required.values()):
                for variation in variations:
                    yield url, {**dict(zip(required, fixed, strict=True)), **variation}


def get(api: ApiServer, url: str, params: dict[str, Any]) -> httpx.Response:
    """Once more on a new connection if the kept-alive one was closed (as after a 500)."""
    try:
        return api.http.get(url, params=params)
    except httpx.TransportError:
        return api.http.get(url, params=params, headers={"Connection": "close"})


def test_every_list_and_report_reads_the_worst_stored_values(
    db_settings: HubSettings, engine: Engine
) -> None:
    variants = VARIANTS + (POSTGRES_ONLY if engine.dialect.name == "postgresql" else [])
    keys = fill(engine, variants)
    months = ["9999-12", "0001-01", "2099-12", "2000-01"]  # of the variants' times
    settings = db_settings.model_copy(
        # the public routes (/public/v1) are read here too, many times from one address
        update={"card_key": SecretStr(CARD_KEY.decode()), "public_rate_burst": 10_000}
    )
    failures = []
    count = 0
    app = create_app(settings)
    with ApiServer(app) as api:
        for url, params in calls(app.openapi(), keys, months):
            count += 1
            try:
                response = get(api, url, params)
            except httpx.TransportError as exc:  # the server dropped the connection
                failures.append(f"{exc!r} GET {url} {params}")
                continue
            if response.status_code >= 500:
                failures.append(f"{response.status_code} GET {url} {params}: {response.text[:300]}")
    assert count > 100, "the routes were not called"
    assert not failures, f"{len(failures)} of {count} reads failed:\n" + "\n".join(failures)


# --- the extreme times through the real ingest path ---------------------------------------


def test_extreme_times_from_an_edge_are_dead_lettered_with_their_reason(
    hub_settings: HubSettings, start_worker: StartWorker, edge: Callable[..., EdgeClient], db: Db
) -> None:
    defaults = HubSettings.model_fields
    window = {k: defaults[k].default for k in ("event_max_age_days", "event_max_future_s")}
    settings = hub_settings.model_copy(update=window)  # the tests' fixture widens the age
    worker = start_worker(settings)
    centre = edge()
    now = datetime.now(UTC)
    sent = {
        1: ("9999-12-31T23:59:59-14:00", "schema", "ts: Value error, 9999-12-31T23:59:59-14:00 "
            "is outside the years 1 to 9999 once converted to UTC"),
        2: ("0001-01-01T00:00:00+14:00", "schema", "ts: Value error, 0001-01-01T00:00:00+14:00 "
            "is outside the years 1 to 9999 once converted to UTC"),
        3: ("9999-12-31T23:59:59Z", "clock", "ts 9999-12-31T23:59:59+00:00 is "),
        4: ("0001-01-01T00:00:00Z", "clock", "ts 0001-01-01T00:00:00+00:00 is "),
        5: ((now + timedelta(hours=1)).isoformat(), "clock", "s ahead of the hub's clock"),
        # a box whose clock was reset (no RTC), or an edge offline for more than 400 days
        6: ("1970-01-01T08:00:00+08:00", "clock", "ts 1970-01-01T00:00:00+00:00 is "),
    }  # fmt: skip
    topic = event_topic(checkin(1))
    for seq, (ts, _, _) in sent.items():
        document = json.loads(checkin(seq).to_bytes())
        centre.publish(topic, json.dumps({**document, "ts": ts}).encode())
    good = checkin(9, ts=now - timedelta(seconds=1))
    centre.publish(topic, good.to_bytes())
    expected = {(BOOT, seq) for seq in [*sent, 9]}
    wait_until(lambda: centre.receipted() >= expected, what="receipts, dead letters included")

    letters = {
        json.loads(bytes(row.payload))["seq"]: row
        for row in db.rows("SELECT payload, reason_kind, reason FROM dead_letters")
    }
    assert set(letters) == set(sent)
    for seq, (_, kind, reason) in sent.items():
        assert letters[seq].reason_kind == kind, letters[seq].reason
        assert reason in letters[seq].reason
    (recorded,) = db.rows("SELECT seq, device_time FROM checkins")
    assert recorded.seq == 9

    def counted() -> dict[str, float]:  # counted after the receipts go out
        metric = "hub_dead_letters_total"
        return {k: worker.metrics.value(metric, {"reason": k}) for k in ("schema", "clock")}

    wait_until(
        lambda: counted() == {"schema": 2, "clock": len(sent) - 2}, what="the dead letters counted"
    )
    with ApiServer(create_app(settings)) as api:
        for path in ("/api/v1/checkins", "/api/v1/dead-letters"):
            response = api.get(path)
            assert response.status_code == 200, response.text
        assert [c["seq"] for c in api.get("/api/v1/checkins").json()["data"]] == [9]
