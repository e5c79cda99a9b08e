"""The hub's view of a site: one state and its problems, from what the records hold.

A site is known to the hub two ways: its account in the registry (``SiteAccount``, made by
``community site add``) and what its edge has said (``hub.ingest.models.Site``, made by the first
status or heartbeat). The rule, in order:

- ``revoked``: the account is revoked (whatever the edge last said: the broker refuses it now);
- ``never_seen``: the account is active and the hub has never heard from the edge;
- ``online`` / ``offline``: heard from, and online as ``hub.presence`` decides it (status not
  offline and a heartbeat within ``heartbeat_timeout_s``) or not.

An edge heard from with no account (a legacy or demo site) is ``online`` or ``offline`` too, with
``account`` None and the ``unregistered`` problem: once sites come from the registry, the broker
only lets in what the registry made, so such an edge is worth a look.

Problems, worst first (the order the operations page lists sites in):

- ``offline``: heard from before, not now;
- ``commands_failed``: a command to it failed or expired within the window;
- ``outbox``: its outbox is backing up (see :class:`Thresholds`);
- ``degraded``: a device reports ``degraded`` or ``disconnected``;
- ``unregistered``: see above.

Pure functions of plain values, so that the rule is tested and read in one place; the queries
that gather the values (across the registry, ingest, the organisation, venues and commands) are
``hub.api.site_view``'s, the one layer that may read all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from hub.presence import site_online

SiteState = Literal["never_seen", "online", "offline", "revoked"]
Problem = Literal["offline", "commands_failed", "outbox", "degraded", "unregistered"]

SITE_STATES: tuple[SiteState, ...] = ("never_seen", "online", "offline", "revoked")
PROBLEMS: tuple[Problem, ...] = ("offline", "commands_failed", "outbox", "degraded", "unregistered")
"""Worst first: a site's rank is the position of its worst problem."""

BAD_DEVICE_STATES = frozenset({"degraded", "disconnected"})


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a site counts as having a problem (``HubSettings.site_*``)."""

    heartbeat_timeout_s: float
    outbox_events: int
    """Events waiting at the edge: a healthy edge drains to 0 within a batch's round trip."""
    outbox_age_s: float
    """Age of the oldest waiting event: past a few of the edge's resends (30 s by default)
    without a receipt, the link or the hub is not keeping up."""


@dataclass(frozen=True, slots=True)
class Heard:
    """What the edge last said (``hub.ingest.models.Site``)."""

    state: str
    last_seen: datetime | None
    outbox_depth: int | None
    oldest_pending_s: float | None


def site_state(
    account_state: str | None, heard: Heard | None, now: datetime, timeout_s: float
) -> SiteState:
    if account_state == "revoked":
        return "revoked"
    if heard is None or heard.last_seen is None:
        return "never_seen"
    return "online" if site_online(heard.state, heard.last_seen, now, timeout_s) else "offline"


def outbox_backing_up(heard: Heard | None, limits: Thresholds) -> bool:
    if heard is None:
        return False
    deep = heard.outbox_depth is not None and heard.outbox_depth >= limits.outbox_events
    old = heard.oldest_pending_s is not None and heard.oldest_pending_s >= limits.outbox_age_s
    return deep or old


def problems_of(  # noqa: PLR0917 - one value per input of the rule
    state: SiteState,
    registered: bool,
    heard: Heard | None,
    bad_devices: int,
    failed_commands: int,
    limits: Thresholds,
) -> list[Problem]:
    """The site's problems, worst first. A revoked site has none: it is meant to be silent."""
    if state == "revoked":
        return []
    found: list[Problem] = []
    if state == "offline":
        found.append("offline")
    if failed_commands:
        found.append("commands_failed")
    if outbox_backing_up(heard, limits):
        found.append("outbox")
    if bad_devices:
        found.append("degraded")
    if not registered:
        found.append("unregistered")
    return found


def rank(problems: list[Problem]) -> int:
    """Sort key: the worst problem's place in ``PROBLEMS``; no problem sorts last."""
    return PROBLEMS.index(problems[0]) if problems else len(PROBLEMS)
