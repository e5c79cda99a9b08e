"""Whether a site or device counts as online: what it last said, and whether it said it recently.

A status message alone is not enough (a will is only published when the broker notices the loss),
so a site is online only while its heartbeats keep arriving within ``heartbeat_timeout_s``.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def recent(last_seen: datetime | None, now: datetime, timeout_s: float) -> bool:
    return last_seen is not None and now - last_seen <= timedelta(seconds=timeout_s)


def site_online(state: str, last_seen: datetime | None, now: datetime, timeout_s: float) -> bool:
    return state != "offline" and recent(last_seen, now, timeout_s)


def device_online(
    site_is_online: bool,
    state: str,
    last_seen: datetime | None,
    now: datetime,
    timeout_s: float,
) -> bool:
    """A device is online while its site is and the edge reports its port open."""
    return site_is_online and state in {"ok", "degraded"} and recent(last_seen, now, timeout_s)
