"""Imports, templates and exports through the API: who may import what, the audit log's rows
with source ``import``, exports scoped as their lists and logged when personal."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from pydantic import SecretStr
from sqlalchemy import Engine

from demo.seed import seed_city
from hub.api import create_app
from hub.audit import AuditEntry
from hub.core.settings import HubSettings
from hub.org.roster.sheets import to_xlsx
from hub.venues.models import Venue
from tests.hub.org.test_seed import SMALL
from tests.hub.support import CARD_KEY, ApiServer, card_key_file
from tests.users import bearer, user_token

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def api(db_settings: HubSettings, engine: Engine, tmp_path: Path) -> Iterator[ApiServer]:
    seed_city(engine, seed=5, key=CARD_KEY, year=2025, scale=SMALL)
    settings = db_settings.model_copy(
        update={
            "card_key": SecretStr(CARD_KEY.decode()),
            "card_private_key_file": card_key_file(tmp_path),
        }
    )
    app = create_app(settings)
    token = user_token(settings.database_url, "operator", username="zhao.operator")
    with ApiServer(app, token=token) as server:
        yield server


def _rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _audit(engine: Engine, **where: str) -> list[AuditEntry]:
    with engine.connect() as conn:
        query = sa.select(AuditEntry).filter_by(**where).order_by(AuditEntry.id)
        return list(conn.execute(query).all())  # type: ignore[arg-type]


def test_a_venue_template_filled_in_imports_and_is_audited(
    api: ApiServer, engine: Engine, db_settings: HubSettings
) -> None:
    response = api.get("/api/v1/imports/venues/template", format="xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    header, example = (list(row) for row in sheet.iter_rows(values_only=True))
    assert header[:3] == ["编号", "名称", "类型"]
    assert "周一" in header
    assert example[0] == "venue-53"
    filled = dict(zip(header, example, strict=True))
    filled |= {"单位编号": "U001", "社区编号": "C01", "协议编号": "XY001"}
    body = to_xlsx([str(h) for h in header], [[filled[h] for h in header]], "venues")
    records = user_token(db_settings.database_url, "records_staff")
    refused = api.http.post(
        "/api/v1/imports/venues",
        params={"format": "xlsx"},
        content=body,
        headers={"Content-Type": XLSX, **bearer(records)},
    )
    assert refused.status_code == 403, refused.text
    answer = api.http.post(
        "/api/v1/imports/venues",
        params={"format": "xlsx"},
        content=body,
        headers={"Content-Type": XLSX, "X-Request-ID": "import-1"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"errors": []} == {
        "kind": "venues",
        "rows": 1,
        "created": 1,
        "updated": 0,
        "errors": [],
    }
    (created,) = _audit(engine, table_name="venues", row_id="venue-53")
    assert (created.actor, created.source, created.action) == ("zhao.operator", "import", "create")
    assert created.request_id == "import-1"
    assert created.request == "POST /api/v1/imports/venues"
    assert created.after["capacity"] == 120


def test_records_staff_import_the_organisation_not_centres(
    api: ApiServer, db_settings: HubSettings
) -> None:
    records = bearer(user_token(db_settings.database_url, "records_staff"))
    for kind, permitted in (("communities", 200), ("service-centres", 403), ("members", 200)):
        template = api.get(f"/api/v1/imports/{kind}/template", format="csv")
        header = _rows(template.content)[0]
        export = api.get(f"/api/v1/exports/{kind}", format="csv")
        assert _rows(export.content)[0] == header, "an export has the template's columns"
        answer = api.http.post(
            f"/api/v1/imports/{kind}",
            content=export.content,
            headers={"Content-Type": "text/csv", **records},
        )
        assert answer.status_code == permitted, (kind, answer.text)
        if permitted == 200:
            assert (answer.json()["created"], answer.json()["updated"]) == (0, 0), kind


def test_exports_are_scoped_and_personal_ones_logged(
    api: ApiServer, engine: Engine, db_settings: HubSettings
) -> None:
    members = api.get("/api/v1/exports/members", format="csv", community_id=1)
    assert members.status_code == 200
    assert members.headers["content-disposition"] == 'attachment; filename="members.csv"'
    rows = _rows(members.content)
    listed = api.get("/api/v1/members", community_id=1, limit=1000).json()
    assert [r[0] for r in rows[1:]] == sorted(m["code"] for m in listed["data"])
    assert {r[1] for r in rows[1:]} == {m["name"] for m in listed["data"]}, "masked as listed"
    (logged,) = _audit(engine, action="export")
    assert (logged.actor, logged.table_name) == ("zhao.operator", "members")
    assert logged.after == {
        "format": "csv",
        "filters": {"community_id": "1"},
        "rows": listed["count"],
    }
    workbook = api.get("/api/v1/exports/registrations", format="xlsx")
    assert workbook.headers["content-type"] == XLSX
    assert len(_audit(engine, action="export")) == 2
    with engine.connect() as conn:
        owned = conn.execute(sa.select(Venue.id).where(Venue.unit_id == 1)).scalars().all()
    manager = bearer(user_token(db_settings.database_url, "venue_manager", unit=1))
    venues = api.http.get("/api/v1/exports/venues", headers=manager)
    assert venues.status_code == 200
    assert sorted(r[0] for r in _rows(venues.content)[1:]) == sorted(owned)
    other = api.http.get("/api/v1/exports/venues", params={"unit_id": 2}, headers=manager)
    assert other.status_code == 403
    assert api.http.get("/api/v1/exports/members", headers=manager).status_code == 403


def test_archived_rows_are_exported_only_when_asked(api: ApiServer, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(Venue).where(Venue.id == "venue-01").values(archived_at=sa.func.now())
        )
    ids = [r[0] for r in _rows(api.get("/api/v1/exports/venues").content)[1:]]
    assert "venue-01" not in ids
    assert len(ids) == SMALL.venues - 1
    everything = [r[0] for r in _rows(api.get("/api/v1/exports/venues", archived=True).content)[1:]]
    assert "venue-01" in everything
