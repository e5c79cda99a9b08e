"""Where events come from: the state tables of the other packages, read every few seconds.
Each function returns every event that is true now; recording dedups them, so one open alert or
one outage is one notification however often it is seen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, select

from hub.commands.models import EdgeCommand
from hub.ingest.models import DeadLetter, Device, Site
from hub.notify.events import EventKind, NotifyEvent
from hub.org.calendar import CITY_TZ
from hub.org.models import ServiceCentre
from hub.presence import recent
from hub.venues.models import CapacityAlertRecord, Venue


@dataclass(frozen=True, slots=True)
class Thresholds:
    lookback: timedelta
    offline_after: timedelta
    heartbeat_timeout_s: float
    surge: int
    surge_window: timedelta


def local(at: datetime) -> str:
    return at.astimezone(CITY_TZ).strftime("%Y-%m-%d %H:%M")


def capacity_alerts(conn: Connection, now: datetime, t: Thresholds) -> list[NotifyEvent]:
    a = CapacityAlertRecord
    since = now - t.lookback
    rows = conn.execute(
        select(a, Venue.name)
        .join(Venue, Venue.id == a.venue_id)
        .where((a.raised_at >= since) | (a.cleared_at >= since))
        .order_by(a.id)
    ).all()
    events = []
    for r in rows:
        if r.raised_at >= since:
            events.append(
                NotifyEvent(
                    kind=EventKind.CAPACITY_ALERT,
                    key=f"{r.id}:raised",
                    title=f"【人数预警】{r.name} 已达 {r.occupancy_at_raise}/{r.capacity} 人",
                    body=(
                        f"场地 {r.name}({r.venue_id})于 {local(r.raised_at)} 达到容量的 "
                        f"{r.threshold_pct:g}%:{r.occupancy_at_raise}/{r.capacity} 人。"
                        f"降到 {r.clear_below_pct:g}% 以下时解除。"
                    ),
                    at=r.raised_at,
                    venue_id=r.venue_id,
                )
            )
        if r.cleared_at is not None and r.cleared_at >= since:
            events.append(
                NotifyEvent(
                    kind=EventKind.CAPACITY_ALERT,
                    key=f"{r.id}:cleared",
                    title=f"【预警解除】{r.name} 人数已回落",
                    body=(
                        f"场地 {r.name}({r.venue_id})的人数预警于 {local(r.cleared_at)} 解除:"
                        f"{r.occupancy_at_clear or 0}/{r.capacity} 人(峰值 {r.peak_occupancy})。"
                    ),
                    at=r.cleared_at,
                    severity="info",
                    venue_id=r.venue_id,
                )
            )
    return events


def failed_commands(conn: Connection, now: datetime, t: Thresholds) -> list[NotifyEvent]:
    c = EdgeCommand
    rows = conn.execute(
        select(c.id, c.site_id, c.op, c.state, c.reason, c.finished_at).where(
            c.state.in_(("failed", "expired")), c.finished_at >= now - t.lookback
        )
    ).all()
    scopes = site_scopes(conn, {r.site_id for r in rows})
    return [
        NotifyEvent(
            kind=EventKind.COMMAND_FAILED,
            key=f"{r.id}:{r.state}",
            title=f"【指令{'失败' if r.state == 'failed' else '超时'}】{r.site_id} {r.op}",
            body=f"发往 {r.site_id} 的指令 {r.op} {r.state}:{(r.reason or '')[:300]}",
            at=r.finished_at or now,
            venue_id=scopes.get(r.site_id, NO_SCOPE)[0],
            centre_id=scopes.get(r.site_id, NO_SCOPE)[1],
        )
        for r in rows
    ]


def offline(conn: Connection, now: datetime, t: Thresholds) -> list[NotifyEvent]:
    """An edge silent longer than the threshold, once per outage (the outage is named by the
    last time it was heard); a reader silent that long while its edge is online."""
    cutoff = now - t.offline_after
    sites = conn.execute(select(Site.id, Site.last_seen, Site.first_seen)).all()
    scopes = site_scopes(conn, {s.id for s in sites})
    events = []
    online = set()
    for s in sites:
        heard = s.last_seen or s.first_seen
        if heard >= cutoff:
            if recent(s.last_seen, now, t.heartbeat_timeout_s):
                online.add(s.id)
            continue
        events.append(
            NotifyEvent(
                kind=EventKind.SITE_OFFLINE,
                key=f"{s.id}:{heard.astimezone(UTC).isoformat()}",
                title=f"【离线】边缘设备 {s.id} 已离线",
                body=f"站点 {s.id} 自 {local(heard)} 起没有消息。",
                at=now,
                venue_id=scopes.get(s.id, NO_SCOPE)[0],
                centre_id=scopes.get(s.id, NO_SCOPE)[1],
            )
        )
    devices = conn.execute(
        select(Device.site_id, Device.id, Device.last_seen, Device.first_seen).where(
            Device.site_id.in_(online) if online else Device.site_id.is_(None)
        )
    ).all()
    for d in devices:
        heard = d.last_seen or d.first_seen
        if heard >= cutoff:
            continue
        events.append(
            NotifyEvent(
                kind=EventKind.DEVICE_OFFLINE,
                key=f"{d.site_id}/{d.id}:{heard.astimezone(UTC).isoformat()}",
                title=f"【离线】{d.site_id} 的设备 {d.id} 无响应",
                body=f"站点 {d.site_id} 的读卡器或传感器 {d.id} 自 {local(heard)} 起没有消息。",
                at=now,
                venue_id=scopes.get(d.site_id, NO_SCOPE)[0],
                centre_id=scopes.get(d.site_id, NO_SCOPE)[1],
            )
        )
    return events


def dead_letter_surge(conn: Connection, now: datetime, t: Thresholds) -> list[NotifyEvent]:
    """``surge`` dead letters or more within the last window: at most one notification per
    window (its key is the window, aligned to the epoch, that ``now`` is in)."""
    window = t.surge_window.total_seconds()
    start = now - t.surge_window
    bucket = datetime.fromtimestamp(now.timestamp() // window * window, UTC)
    count = conn.scalar(
        select(func.count()).select_from(DeadLetter).where(DeadLetter.received_at >= start)
    )
    if (count or 0) < t.surge:
        return []
    return [
        NotifyEvent(
            kind=EventKind.DEAD_LETTER_SURGE,
            key=bucket.isoformat(),
            title=f"【死信激增】{local(start)} 起已有 {count} 条",
            body=f"自 {local(start)} 起收到 {count} 条无法解析的消息(阈值 {t.surge})。",
            at=now,
        )
    ]


SiteScope = tuple[str | None, str | None]
NO_SCOPE: SiteScope = (None, None)


def site_scopes(conn: Connection, sites: set[str]) -> dict[str, SiteScope]:
    """A site's id is its venue's or its centre's: which of the two each one is."""
    if not sites:
        return {}
    venues = set(conn.scalars(select(Venue.id).where(Venue.id.in_(sites))))
    centres = set(conn.scalars(select(ServiceCentre.id).where(ServiceCentre.id.in_(sites))))
    scopes: dict[str, SiteScope] = {}
    for s in sites:
        if s in venues:
            scopes[s] = (s, None)
        elif s in centres:
            scopes[s] = (None, s)
    return scopes


SOURCES = (capacity_alerts, failed_commands, offline, dead_letter_surge)
