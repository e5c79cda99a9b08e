"""Provisioning over the API (what the admin pages call): real Mosquitto with the
dynamic-security plugin changed live by the hub as the broker's admin, real PostgreSQL."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from demo.broker.mosquitto import DynsecMosquitto
from hub.api import create_app
from hub.audit import AuditEntry
from hub.auth import Role
from hub.core.settings import HubSettings
from tests.hub.org.support import City
from tests.hub.sites.test_provisioning import connack
from tests.hub.support import ApiServer
from tests.users import user_token

READER = {"id": "reader-1", "kind": "card_reader", "port": "/dev/serial/by-id/usb-FTDI-port0"}


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
def api(site_env: HubSettings, city: City) -> Iterator[ApiServer]:
    settings = site_env.model_copy(update={"mode": "demo"})
    with ApiServer(create_app(settings)) as server:
        yield server


def _password(body: dict[str, Any]) -> str:
    config = tomllib.loads(body["bundle"]["content"])
    password: str = config["mqtt"]["password"]
    return password


def test_an_operator_provisions_a_site_whose_bundle_connects_and_revokes_it(
    api: ApiServer, mosquitto: DynsecMosquitto, engine: Engine
) -> None:
    made = api.http.post(
        "/api/v1/sites", json={"site_id": "centre-01", "kind": "centre", "devices": [READER]}
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["broker_changed"] is True
    assert body["account"]["state"] == "active"
    assert body["devices"] == [READER]
    assert body["warnings"] == []
    password = _password(body)
    assert connack(mosquitto.url, "centre-01", password, "edge-centre-01").value == 0

    revoked = api.http.post("/api/v1/sites/centre-01/revoke")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["account"]["state"] == "revoked"
    assert connack(mosquitto.url, "centre-01", password, "edge-centre-01").value != 0

    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(AuditEntry.action, AuditEntry.actor, AuditEntry.after).where(
                AuditEntry.table_name == "site_accounts"
            )
        ).all()
    assert [r.action for r in rows] == ["create", "update"]
    assert len({r.actor for r in rows}) == 1
    assert "system" not in {r.actor for r in rows}
    assert rows[0].after["password_hash"] == "(redacted)"
    assert password not in str(rows)


def test_a_new_bundle_replaces_the_password(api: ApiServer, mosquitto: DynsecMosquitto) -> None:
    first = api.http.post(
        "/api/v1/sites", json={"site_id": "centre-01", "kind": "centre", "devices": [READER]}
    ).json()
    again = api.http.post("/api/v1/sites/centre-01/bundle")
    assert again.status_code == 200, again.text
    assert again.json()["account"]["credentials_version"] == 2
    assert connack(mosquitto.url, "centre-01", _password(first), "edge-centre-01").value != 0
    assert connack(mosquitto.url, "centre-01", _password(again.json()), "edge-centre-01").value == 0


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"site_id": "centre-99", "kind": "centre", "devices": [READER]}, "site_id", "no service"),
        (
            {
                "site_id": "centre-01",
                "kind": "centre",
                "devices": [{"id": "gate-1", "kind": "people_counter", "port": "/dev/x"}],
            },
            "devices",
            "needs unit_id",
        ),
        (
            {
                "site_id": "centre-01",
                "kind": "centre",
                "devices": [{**READER, "options": {"baudrate": 9600.5}}],
            },
            "devices",
            "whole number",
        ),
    ],
)
def test_refusals_name_the_field_and_change_nothing(
    api: ApiServer, body: dict[str, Any], field: str, says: str
) -> None:
    refused = api.http.post("/api/v1/sites", json=body)
    assert refused.status_code == 422, refused.text
    (problem,) = refused.json()["detail"]
    assert problem["loc"] == ["body", field]
    assert says in problem["msg"]
    assert api.get("/api/v1/sites/centre-01").status_code == 404  # no account was made


def test_devices_are_added_and_removed(api: ApiServer) -> None:
    api.http.post(
        "/api/v1/sites", json={"site_id": "centre-01", "kind": "centre", "devices": [READER]}
    )
    second = {"id": "reader-2", "kind": "card_reader", "port": "/dev/ttyUSB1"}
    added = api.http.post("/api/v1/sites/centre-01/devices", json=second)
    assert added.status_code == 200, added.text
    assert [d["id"] for d in added.json()["devices"]] == ["reader-1", "reader-2"]
    assert "/dev/ttyUSB1" in added.json()["warnings"][0]
    again = api.http.post("/api/v1/sites/centre-01/devices", json=second)
    assert again.status_code == 409
    removed = api.http.delete("/api/v1/sites/centre-01/devices/reader-1")
    assert [d["id"] for d in removed.json()["devices"]] == ["reader-2"]
    again_removed = api.http.delete("/api/v1/sites/centre-01/devices/reader-1")
    assert again_removed.status_code == 200  # gone already: the same state
    last = api.http.delete("/api/v1/sites/centre-01/devices/reader-2")
    assert last.status_code == 409
    assert last.json()["detail"][0]["loc"] == ["body", "device_id"]
    assert api.http.post("/api/v1/sites/centre-99/revoke").status_code == 404
    api.http.post("/api/v1/sites/centre-01/revoke")
    assert api.http.post("/api/v1/sites/centre-01/bundle").status_code == 409  # revoked
    duplicate = api.http.post(
        "/api/v1/sites", json={"site_id": "centre-01", "kind": "centre", "devices": [READER]}
    )
    assert duplicate.status_code == 409


def test_only_operators_provision(api: ApiServer, site_env: HubSettings) -> None:
    for role in (Role.RECORDS_STAFF, Role.VIEWER):
        token = user_token(site_env.database_url, role)
        refused = api.http.post(
            "/api/v1/sites",
            json={"site_id": "centre-01", "kind": "centre", "devices": [READER]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert refused.status_code == 403
