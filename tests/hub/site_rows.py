"""Rows of the site registry, of what edges said and of commands, written directly: the tests of
the hub's view of sites (API and operations page) set up each state this way."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, update

from hub.commands.models import EdgeCommand
from hub.ingest.models import Device, Site
from hub.sites.models import SiteAccount, SiteBeat

FAKE_HASH = "$7$101$c2FsdHNhbHRzYWx0$ZGlnZXN0"
"""Shaped like the registry's hashes; the API must never show it."""


def account(
    conn: Connection,
    site: str,
    *,
    state: str = "active",
    version: int = 1,
    at: datetime | None = None,
) -> None:
    at = at or datetime.now(UTC) - timedelta(days=3)
    kind = "centre" if site.startswith("centre-") else "venue"
    conn.execute(
        insert(SiteAccount),
        {
            "site_id": site,
            "kind": kind,
            "centre_id": site if kind == "centre" else None,
            "venue_id": site if kind == "venue" else None,
            "password_hash": FAKE_HASH,
            "credentials_version": version,
            "state": state,
            "devices": [],
            "created_at": at,
            "credentials_at": at + timedelta(hours=version - 1),
            "revoked_at": at + timedelta(days=1) if state == "revoked" else None,
        },
    )


def heard(
    conn: Connection,
    site: str,
    *,
    ago_s: float = 5,
    state: str = "online",
    outbox_depth: int = 0,
    oldest_pending_s: float | None = None,
) -> None:
    """The edge of ``site`` last heard ``ago_s`` seconds ago."""
    now = datetime.now(UTC)
    _put(
        conn,
        Site,
        [Site.id == site],
        {
            "id": site,
            "first_seen": now - timedelta(days=2),
            "last_seen": now - timedelta(seconds=ago_s),
            "state": state,
            "state_at": now - timedelta(seconds=ago_s),
            "boot": uuid.UUID(int=7),
            "agent_version": "0.1.0",
            "heartbeat_at": now - timedelta(seconds=ago_s),
            "outbox_depth": outbox_depth,
            "oldest_pending_s": oldest_pending_s,
        },
    )


def device(conn: Connection, site: str, device_id: str, state: str = "ok") -> None:
    now = datetime.now(UTC)
    _put(
        conn,
        Device,
        [Device.site_id == site, Device.id == device_id],
        {
            "site_id": site,
            "id": device_id,
            "first_seen": now - timedelta(days=2),
            "kind": "card_reader" if site.startswith("centre-") else "people_counter",
            "state": state,
            "last_seen": now - timedelta(seconds=5),
            "frames_ok": 100,
            "frame_errors": 0,
            "port_errors": 0,
            "timeouts": 0,
        },
    )


def command(
    conn: Connection,
    site: str,
    *,
    op: str = "ping",
    state: str = "done",
    ago_s: float = 60,
    reason: str | None = None,
    args: dict[str, Any] | None = None,
) -> uuid.UUID:
    created = datetime.now(UTC) - timedelta(seconds=ago_s)
    finished = state in {"done", "failed", "expired"}
    ident = uuid.uuid4()
    conn.execute(
        insert(EdgeCommand),
        {
            "id": ident,
            "site_id": site,
            "op": op,
            "args": args or {},
            "state": state,
            "reason": reason,
            "result": None,
            "requested_by": "ops",
            "attempts": 1,
            "created_at": created,
            "deadline": created + timedelta(minutes=10),
            "sent_at": created,
            "finished_at": created + timedelta(seconds=1) if finished else None,
        },
    )
    return ident


def beat(
    conn: Connection, site: str, at: datetime, *, outbox_depth: int = 0, devices_bad: int = 0
) -> None:
    conn.execute(
        insert(SiteBeat),
        {
            "site_id": site,
            "at": at,
            "heartbeat_at": at,
            "uptime_s": 100.0,
            "outbox_depth": outbox_depth,
            "oldest_pending_s": None,
            "devices": 2,
            "devices_bad": devices_bad,
        },
    )


def _put(conn: Connection, model: Any, key: list[Any], values: dict[str, Any]) -> None:
    """Insert, or update the row the seeded city (or the hub) made already."""
    if not conn.execute(update(model).where(*key).values(values)).rowcount:
        conn.execute(insert(model), values)
