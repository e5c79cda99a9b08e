"""Retention of the sites' heartbeat history: already trimmed to ``keep_h`` as heartbeats
arrive (``hub.sites.history``); the job trims it too when none arrive (ingest stopped)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table

from hub.core.retention import Kind
from hub.sites.models import SiteBeat


def heartbeat_kind(keep_h: float) -> Kind:
    table = cast(Table, SiteBeat.__table__)

    def cutoff(conn: Connection, now: datetime) -> datetime:
        return now - timedelta(hours=keep_h)

    return Kind(
        name="site_heartbeats",
        table=table,
        time=table.c.at,
        cutoff=cutoff,
        setting="HUB_SITE_HISTORY_KEEP_H",
    )
