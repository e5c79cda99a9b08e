"""Grafana provisioning: every Flux query names only measurements, fields and tags that the
telemetry sink writes (as docs/telemetry.md documents them), and every SQL panel runs on the real
schema in PostgreSQL as Grafana's read-only role, granted no more than postgres-grants.sql says."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from hub.core.db import upgrade
from hub.telemetry.points import SCHEMA
from tests.dashboards.support import ROOT, seed_centres

GRAFANA = ROOT / "dashboards" / "grafana"
BOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
TELEMETRY_DOC = ROOT / "docs" / "telemetry.md"
DATASOURCES = yaml.safe_load(
    (GRAFANA / "provisioning" / "datasources" / "datasources.yaml").read_text()
)["datasources"]
UIDS = {ds["uid"]: ds["type"] for ds in DATASOURCES}


@dataclass(frozen=True)
class Documented:
    tags: frozenset[str]
    fields: frozenset[str]


def documented_schema() -> dict[str, Documented]:
    """The measurements table of docs/telemetry.md: | `measurement` | `tag`, ... | `field`, ... |."""
    assert TELEMETRY_DOC.exists(), "docs/telemetry.md (the sink's documented schema) is missing"
    schema: dict[str, Documented] = {}
    header: list[str] | None = None
    for line in TELEMETRY_DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        if not {"measurement", "tags", "fields"} <= set(header):
            continue
        row = dict(zip(header, cells, strict=False))
        names = re.findall(r"`([^`]+)`", row["measurement"])
        if not names:
            continue
        schema[names[0]] = Documented(
            frozenset(re.findall(r"`([a-z_]+)`", row["tags"])),
            frozenset(re.findall(r"`([a-z_]+)`", row["fields"])),
        )
    assert schema, "no measurements table found in docs/telemetry.md"
    return schema


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in board["panels"]:
        found.append(panel)
        found += panel.get("panels", [])
    return found


def targets(kind: str) -> list[tuple[str, str, str]]:
    """(board, panel title, query) of every target on a datasource of ``kind``."""
    out = []
    for path in BOARDS:
        board = json.loads(path.read_text(encoding="utf-8"))
        for panel in panels(board):
            for target in panel["targets"]:
                uid = (target.get("datasource") or panel["datasource"])["uid"]
                if UIDS[uid] == kind:
                    out.append((path.stem, panel["title"], target.get("query") or target["rawSql"]))
        for variable in board["templating"]["list"]:
            if UIDS[variable["datasource"]["uid"]] == kind:
                out.append((path.stem, f"variable {variable['name']}", variable["query"]))
    return out


FLUX = targets("influxdb")
SQL = targets("grafana-postgresql-datasource")
MEASUREMENT = re.compile(r'_measurement\s*==\s*"([^"]+)"')
FIELD = re.compile(r'_field\s*==\s*"([^"]+)"')
COLUMN = re.compile(r'\br\.([A-Za-z_]\w*)|\br\["([^"]+)"\]')
COLUMNS = re.compile(r"columns:\s*\[([^\]]*)\]")
TAG_VALUES = re.compile(r'tagValues\([^)]*tag:\s*"([^"]+)"')


def flux_names(query: str) -> list[tuple[set[str], set[str], set[str]]]:
    """For each pipeline (from a ``from(`` to the next): measurements, fields, tags it names."""
    pipelines = re.split(r"(?=\bfrom\(bucket:)|(?=schema\.tagValues\()", query)
    out = []
    for pipe in pipelines:
        measurements = set(MEASUREMENT.findall(pipe))
        if not measurements:
            continue
        fields = set(FIELD.findall(pipe))
        tags = {a or b for a, b in COLUMN.findall(pipe)}
        for listed in COLUMNS.findall(pipe):
            tags |= set(re.findall(r'"([^"]+)"', listed))
        tags |= set(TAG_VALUES.findall(pipe))
        out.append((measurements, fields, {t for t in tags if not t.startswith("_")}))
    return out


def test_the_documented_schema_is_the_sinks() -> None:
    documented = documented_schema()
    assert set(documented) == set(SCHEMA)
    for name, measurement in SCHEMA.items():
        assert documented[name].tags == set(measurement.tags), name
        assert documented[name].fields == set(measurement.fields), name


@pytest.mark.parametrize(("board", "title", "query"), FLUX, ids=[f"{b}:{t}" for b, t, _ in FLUX])
def test_each_flux_query_uses_only_documented_names(board: str, title: str, query: str) -> None:
    schema = documented_schema()
    pipelines = flux_names(query)
    assert pipelines, "a Flux query that names no measurement"
    for measurements, fields, tags in pipelines:
        assert measurements <= set(schema), f"unknown measurements {measurements - set(schema)}"
        known_fields = set().union(*(schema[m].fields for m in measurements))
        assert fields <= known_fields, f"unknown fields {fields - known_fields}"
        if not title.startswith("variable"):
            assert fields, "every panel query picks its fields"
        for m in measurements:
            assert tags <= schema[m].tags, f"{m} has no tags {tags - schema[m].tags}"
    assert "v.timeRangeStart" in query or "range(start: -" in query or "tagValues" in query
    assert "v.defaultBucket" in query, "the bucket comes from the datasource, not the query"


def test_the_checks_would_catch_a_wrong_name() -> None:
    schema = documented_schema()
    bad = 'from(bucket: v.defaultBucket) |> filter(fn: (r) => r._measurement == "venue_occupancy" and r._field == "people" and r.site == "x")'
    [(measurements, fields, tags)] = flux_names(bad)
    assert measurements == {"venue_occupancy"}
    assert fields - schema["venue_occupancy"].fields == {"people"}
    assert tags - schema["venue_occupancy"].tags == {"site"}


def test_dashboards_are_provisioned_with_unique_uids_on_the_provisioned_datasources() -> None:
    assert len(BOARDS) >= 3
    uids = [json.loads(p.read_text())["uid"] for p in BOARDS]
    assert len(set(uids)) == len(uids)
    for path in BOARDS:
        board = json.loads(path.read_text())
        assert board["timezone"] == "Asia/Shanghai"
        ids = [p["id"] for p in panels(board)]
        assert len(set(ids)) == len(ids), path.name
        for panel in panels(board):
            assert panel["datasource"]["uid"] in UIDS, panel["title"]
            assert panel["targets"], panel["title"]
    titles = " ".join(json.loads(p.read_text())["title"] for p in BOARDS)
    for topic in ("occupancy", "Device health", "Message rates"):
        assert topic.lower() in titles.lower()


def test_provisioning_has_no_secret_and_points_where_compose_mounts() -> None:
    text = (GRAFANA / "provisioning" / "datasources" / "datasources.yaml").read_text()
    for ds in DATASOURCES:
        for value in (ds.get("secureJsonData") or {}).values():
            assert re.fullmatch(r"\$__file\{/run/secrets/[a-z_]+\}", value), "secrets are files"
    assert "password:" not in text.replace(
        "password: $__file{/run/secrets/grafana_pg_password}", ""
    )
    assert {ds["jsonData"].get("version") for ds in DATASOURCES if ds["type"] == "influxdb"} == {
        "Flux"
    }
    provider = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "dashboards.yaml").read_text()
    )
    path = provider["providers"][0]["options"]["path"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    grafana = compose["services"]["grafana"]
    assert f"./dashboards/grafana/dashboards:{path}:ro" in grafana["volumes"]
    assert "./dashboards/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    env = grafana["environment"]
    used = set(re.findall(r"\$\{([A-Z_]+)\}", text))
    assert used <= set(env), f"not set for Grafana: {used - set(env)}"
    # each file the datasources read is a secret compose gives Grafana (a missing file is an
    # error of compose's, not a default)
    mounted = {f"/run/secrets/{s}" for s in grafana["secrets"]}
    assert set(re.findall(r"\$__file\{([^}]+)\}", text)) <= mounted
    assert env["GF_SECURITY_ADMIN_PASSWORD__FILE"] in mounted
    influx = compose["services"]["influxdb"]
    for key in ("DOCKER_INFLUXDB_INIT_PASSWORD", "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"):
        assert key not in influx["environment"]
        path = influx["environment"][f"{key}_FILE"]
        assert path.removeprefix("/run/secrets/") in influx["secrets"]


def _expand_macros(query: str, start: datetime, end: datetime) -> str:
    """Grafana's PostgreSQL macros, as Grafana expands them."""
    query = re.sub(
        r"\$__timeGroupAlias\((\w+),\s*'(\d+)([smhd])'\)",
        lambda m: (
            f"to_timestamp(floor(extract(epoch from {m[1]})/"
            f"{int(m[2]) * {'s': 1, 'm': 60, 'h': 3600, 'd': 86400}[m[3]]})*"
            f'{int(m[2]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m[3]]}) AS "time"'
        ),
        query,
    )
    query = re.sub(
        r"\$__timeFilter\((\w+)\)",
        lambda m: f"{m[1]} BETWEEN '{start.isoformat()}' AND '{end.isoformat()}'",
        query,
    )
    assert "$__" not in query, f"a macro this test does not know: {query}"
    return query


def test_each_sql_panel_runs_as_grafanas_read_only_role(postgres_url: str) -> None:
    assert SQL, "no SQL panels"
    upgrade(postgres_url)
    seed_centres(postgres_url)
    grants = (GRAFANA / "postgres-grants.sql").read_text()
    engine = sa.create_engine(postgres_url)
    role = f"grafana_reader_{abs(hash(postgres_url)) % 10**8}"
    end = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE ROLE {role} NOLOGIN"))
            for statement in filter(str.strip, re.sub(r"--[^\n]*", "", grants).split(";")):
                conn.execute(sa.text(statement.replace("grafana_reader", role)))
        with engine.connect() as conn:
            conn.execute(sa.text(f"SET ROLE {role}"))
            for board, title, query in SQL:
                result = conn.execute(
                    sa.text(_expand_macros(query, end - timedelta(days=1), end))
                ).mappings()
                rows = list(result)
                assert result.keys(), f"{board}: {title}"
                if "checkins" in query or "sites" in query or "dead_letters" in query:
                    assert rows, f"{board}: {title} found nothing in the seeded records"
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.execute(sa.text("SELECT card_hash FROM checkins LIMIT 1"))
            conn.rollback()
            conn.execute(sa.text("RESET ROLE"))
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP OWNED BY {role}"))
            conn.execute(sa.text(f"DROP ROLE {role}"))
    finally:
        engine.dispose()


def test_granted_tables_are_no_more_than_the_panels_read() -> None:
    grants = (GRAFANA / "postgres-grants.sql").read_text()
    granted = set()
    for match in re.finditer(r"GRANT SELECT(?: \([^)]*\))? ON ([\w, ]+) TO", grants):
        granted |= {t.strip() for t in match[1].split(",")}
    read = set()
    for _, _, query in SQL:
        read |= set(re.findall(r"\b(?:FROM|JOIN)\s+(\w+)", query))
    assert granted == read
    assert "members" not in granted, "no personal data for Grafana"


def test_compose_runs_grafana_with_the_repository_files() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    postgres = compose["services"]["postgres"]
    assert (
        "./dashboards/grafana/postgres-grants.sql:/grafana/postgres-grants.sql:ro"
        in postgres["volumes"]
    )
    for volume in compose["services"]["grafana"]["volumes"]:
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (ROOT / source).exists(), source
    assert Path(GRAFANA / "postgres-grants.sql").exists()
