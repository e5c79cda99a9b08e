"""The hub's view of its sites, gathered: the registry, what the edges said, the centres' and
venues' records, devices and commands, put through ``hub.sites.view``'s rule.

It lives in the API layer because it reads five packages' tables, and the domain packages may not
read one another's (the layer contract); the rule itself is ``hub.sites.view``'s.

The list is computed for every site in the caller's scope, then filtered, ordered and cut into a
page in Python: the problems and states depend on the clock and on four other tables, and a hub
serves one city (tens of sites, a few thousand at the very most), so five grouped queries and a
sort are cheaper and clearer than one SQL statement that re-states the rule.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from hub.api.schemas.sites import (
    BeatOut,
    CredentialsOut,
    DeviceOut,
    SiteCommandOut,
    SiteDetailOut,
    SiteOut,
)
from hub.commands.models import EdgeCommand
from hub.core.settings import HubSettings
from hub.ingest.models import Device, Site
from hub.org.models import Community, ServiceCentre
from hub.presence import device_online, site_online
from hub.sites.models import SiteAccount, SiteBeat
from hub.sites.view import (
    BAD_DEVICE_STATES,
    Heard,
    Problem,
    SiteState,
    Thresholds,
    problems_of,
    rank,
    site_state,
)
from hub.venues.models import Venue

RECENT_COMMANDS = 20
FAILED_STATES = ("failed", "expired")
SEARCH_MAX = 100
"""The longest search text taken (a site id is at most 63 characters, a name 120)."""


@dataclass(frozen=True, slots=True)
class SiteFilter:
    """What a list may be narrowed to; None: any."""

    state: SiteState | None = None
    kind: str | None = None
    community: int | None = None
    problem: Problem | None = None
    text: str | None = None

    def admits(self, site: SiteOut) -> bool:
        if self.state is not None and site.site_state != self.state:
            return False
        if self.kind is not None and site.kind != self.kind:
            return False
        if self.community is not None and site.community_id != self.community:
            return False
        if self.problem is not None and self.problem not in site.problems:
            return False
        return self.text is None or _matches(site, self.text)


def _matches(site: SiteOut, text: str) -> bool:
    needle = text.casefold()
    return any(needle in (part or "").casefold() for part in (site.id, site.name, site.community))


@dataclass(frozen=True, slots=True)
class _Place:
    kind: str
    name: str
    community_id: int
    community: str


def thresholds(settings: HubSettings) -> Thresholds:
    return Thresholds(
        heartbeat_timeout_s=settings.heartbeat_timeout_s,
        outbox_events=settings.site_outbox_events,
        outbox_age_s=settings.site_outbox_age_s,
    )


def list_sites(
    session: Session,
    settings: HubSettings,
    scope: Collection[str] | None,
    wanted: SiteFilter,
    now: datetime,
) -> list[SiteOut]:
    """Every site in ``scope`` (None: all) that ``wanted`` admits, problems first, then by kind,
    community and id."""
    sites = [s for s in _views(session, settings, scope, now) if wanted.admits(s)]
    sites.sort(key=lambda s: (rank(s.problems), s.kind or "~", s.community or "~", s.id))
    return sites


def site_detail(
    session: Session, settings: HubSettings, site_id: str, now: datetime
) -> SiteDetailOut | None:
    """One site with its devices, newest commands and heartbeat history; None if the hub knows
    no account and no edge of that id."""
    views = _views(session, settings, {site_id}, now)
    if not views:
        return None
    view = views[0]
    timeout = settings.heartbeat_timeout_s
    heard = session.get(Site, site_id)
    up = heard is not None and site_online(heard.state, heard.last_seen, now, timeout)
    devices = [
        DeviceOut.model_validate(
            {
                **_columns(d),
                "online": device_online(up, d.state, d.last_seen, now, timeout),
            }
        )
        for d in session.scalars(
            select(Device).where(Device.site_id == site_id).order_by(Device.id)
        )
    ]
    commands = session.scalars(
        select(EdgeCommand)
        .where(EdgeCommand.site_id == site_id)
        .order_by(EdgeCommand.created_at.desc(), EdgeCommand.id)
        .limit(RECENT_COMMANDS)
    )
    since = now - timedelta(hours=settings.site_history_keep_h)
    beats = session.scalars(
        select(SiteBeat)
        .where(SiteBeat.site_id == site_id, SiteBeat.at >= since)
        .order_by(SiteBeat.at)
    )
    return SiteDetailOut(
        **view.model_dump(exclude={"account"}),
        account=view.account,
        devices=devices,
        commands=[SiteCommandOut.model_validate(c) for c in commands],
        history=[BeatOut.model_validate(b) for b in beats],
        history_step_s=settings.site_history_step_s,
    )


def _views(
    session: Session, settings: HubSettings, scope: Collection[str] | None, now: datetime
) -> list[SiteOut]:
    accounts = {
        a.site_id: a
        for a in session.scalars(_scoped(select(SiteAccount), SiteAccount.site_id, scope))
    }
    heard = {s.id: s for s in session.scalars(_scoped(select(Site), Site.id, scope))}
    ids = accounts.keys() | heard.keys()
    if not ids:
        return []
    # by the scope, not by the ids: a whole city's sites in one IN (...) would be a long list
    places = _places(session, scope)
    devices = _device_counts(session, scope)
    failed = _failed_commands(
        session, scope, now - timedelta(hours=settings.site_commands_window_h)
    )
    limits = thresholds(settings)
    views = []
    for site_id in ids:
        account, edge, place = accounts.get(site_id), heard.get(site_id), places.get(site_id)
        seen = _heard(edge)
        state = site_state(
            account.state if account else None, seen, now, limits.heartbeat_timeout_s
        )
        total, bad = devices.get(site_id, (0, 0))
        edge_columns: dict[str, Any] = _columns(edge) if edge is not None else {}
        views.append(
            SiteOut.model_validate(
                {
                    **{k: None for k in _EDGE_COLUMNS},
                    **edge_columns,
                    "id": site_id,
                    "kind": place.kind if place else (account.kind if account else None),
                    "name": place.name if place else None,
                    "community_id": place.community_id if place else None,
                    "community": place.community if place else None,
                    "site_state": state,
                    "problems": problems_of(
                        state, account is not None, seen, bad, failed.get(site_id, 0), limits
                    ),
                    "account": CredentialsOut.model_validate(account) if account else None,
                    "device_count": total,
                    "devices_bad": bad,
                    "failed_commands": failed.get(site_id, 0),
                    "online": state == "online",
                }
            )
        )
    return views


_EDGE_COLUMNS = tuple(c.key for c in Site.__table__.columns)


def _heard(edge: Site | None) -> Heard | None:
    if edge is None:
        return None
    return Heard(edge.state, edge.last_seen, edge.outbox_depth, edge.oldest_pending_s)


def _scoped(query: Any, column: Any, scope: Collection[str] | None) -> Any:
    return query if scope is None else query.where(column.in_(sorted(scope)))


def _places(session: Session, scope: Collection[str] | None) -> dict[str, _Place]:
    """The centre or venue each site id names, with its community."""
    places: dict[str, _Place] = {}
    for model, kind in ((ServiceCentre, "centre"), (Venue, "venue")):
        query = select(model.id, model.name, Community.id, Community.name).join(
            Community, Community.id == model.community_id
        )
        rows = session.execute(_scoped(query, model.id, scope))
        for site_id, name, community_id, community in rows:
            places[site_id] = _Place(kind, name, community_id, community)
    return places


def _device_counts(session: Session, scope: Collection[str] | None) -> dict[str, tuple[int, int]]:
    bad = func.sum(case((Device.state.in_(sorted(BAD_DEVICE_STATES)), 1), else_=0))
    query = select(Device.site_id, func.count(), bad).group_by(Device.site_id)
    rows = session.execute(_scoped(query, Device.site_id, scope))
    return {site_id: (int(total), int(bad_count or 0)) for site_id, total, bad_count in rows}


def _failed_commands(
    session: Session, scope: Collection[str] | None, since: datetime
) -> dict[str, int]:
    query = (
        select(EdgeCommand.site_id, func.count())
        .where(EdgeCommand.state.in_(FAILED_STATES), EdgeCommand.finished_at >= since)
        .group_by(EdgeCommand.site_id)
    )
    rows = session.execute(_scoped(query, EdgeCommand.site_id, scope))
    return {site_id: int(n) for site_id, n in rows}


def _columns(row: Site | Device) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}
