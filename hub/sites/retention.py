"""Retention of the sites' heartbeat history: already trimmed to ``keep_h`` as heartbeats
arrive (``hub.sites.history``); the job trims it too when none arrive (ingest stopped)."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from sqlalchemy import Table

from hub.core.retention import Kind, older_than
from hub.sites.models import SiteBeat


def heartbeat_kind(keep_h: float) -> Kind:
    table = cast(Table, SiteBeat.__table__)

    return Kind(
        name="site_heartbeats",
        table=table,
        time=table.c.at,
        cutoff=older_than(timedelta(hours=keep_h)),
        setting="HUB_SITE_HISTORY_KEEP_H",
    )
