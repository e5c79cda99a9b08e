"""Notifications: a user's own settings (which events, quiet hours, digest) and channels, a
test message to a channel, and the operators' log of every notification with its outcome."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy import func, select

from hub.api.auth import require
from hub.api.deps import LimitQuery, OffsetQuery, SessionDep, SettingsDep
from hub.api.errors import AUTHENTICATED, refusals
from hub.api.params import RecordId
from hub.api.schemas import Page
from hub.api.schemas.notifications import (
    ChannelIn,
    ChannelOut,
    LogEntry,
    PrefsIn,
    SettingsOut,
    TestOut,
)
from hub.api.writing import field_error
from hub.auth import Permission
from hub.auth.models import User
from hub.auth.principal import Principal
from hub.notify.channels import Message, Target, send
from hub.notify.events import SUBSCRIBABLE
from hub.notify.guard import UnsafeTargetError, allowed_hosts, check_webhook_url
from hub.notify.models import (
    Notification,
    NotificationChannel,
    NotificationDelivery,
    NotificationPrefs,
)
from hub.notify.notifier import policy_from

router = APIRouter(tags=["notifications"], responses=AUTHENTICATED)

Own = Annotated[Principal, Depends(require(Permission.NOTIFICATIONS_OWN))]
MAX_CHANNELS = 10
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


@router.get("/me/notification-settings", response_model=SettingsOut)
def get_settings(session: SessionDep, principal: Own) -> SettingsOut:
    return _settings(session, principal.user_id)


@router.put("/me/notification-settings", response_model=SettingsOut, responses=refusals(400))
def put_settings(body: PrefsIn, session: SessionDep, principal: Own) -> SettingsOut:
    if (body.quiet_from is None) != (body.quiet_to is None):
        raise field_error("quiet_to", "quiet hours need both a start and an end", "rule")
    prefs = session.get(NotificationPrefs, principal.user_id)
    if prefs is None:
        prefs = NotificationPrefs(user_id=principal.user_id)
        session.add(prefs)
    prefs.events = sorted(set(body.events))
    prefs.quiet_from, prefs.quiet_to = body.quiet_from, body.quiet_to
    prefs.critical_in_quiet = body.critical_in_quiet
    prefs.digest, prefs.digest_at = body.digest, body.digest_at
    session.commit()
    return _settings(session, principal.user_id)


@router.post(
    "/me/notification-channels",
    response_model=ChannelOut,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(400),
)
def add_channel(
    body: ChannelIn, session: SessionDep, settings: SettingsDep, principal: Own
) -> ChannelOut:
    count = session.scalar(
        select(func.count())
        .select_from(NotificationChannel)
        .where(NotificationChannel.user_id == principal.user_id)
    )
    if (count or 0) >= MAX_CHANNELS:
        raise field_error("kind", f"at most {MAX_CHANNELS} channels per user", "rule")
    if body.kind == "email":
        if not EMAIL.match(body.target) or len(body.target) > 320:
            raise field_error("target", "an e-mail address, name@example.org", "rule")
    else:
        try:
            check_webhook_url(body.target, allowed_hosts(settings.notify_webhook_hosts))
        except UnsafeTargetError as exc:
            raise field_error("target", str(exc), "rule") from exc
    if body.kind == "dingtalk" and not body.secret:
        raise field_error(
            "secret", "DingTalk robots are used in signed mode: its secret", "required"
        )
    channel = NotificationChannel(
        user_id=principal.user_id,
        kind=body.kind,
        name=body.name,
        target=body.target,
        secret=body.secret,
        enabled=True,
        created_at=datetime.now(UTC),
    )
    session.add(channel)
    session.commit()
    return _channel_out(channel)


@router.delete(
    "/me/notification-channels/{channel_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=refusals(404),
)
def delete_channel(channel_id: RecordId, session: SessionDep, principal: Own) -> None:
    session.delete(_own_channel(session, principal, channel_id))
    session.commit()


@router.post(
    "/me/notification-channels/{channel_id}/test", response_model=TestOut, responses=refusals(404)
)
def send_test(
    channel_id: RecordId, session: SessionDep, settings: SettingsDep, principal: Own
) -> TestOut:
    """Send a test message now (with the hub's timeout) and say what the receiver answered."""
    channel = _own_channel(session, principal, channel_id)
    policy = policy_from(settings)
    now = datetime.now(UTC)
    outcome = send(
        Message(
            title="【测试】社区通知",
            body=f"这是发给 {principal.username} 的测试消息。",
            kind="test",
            severity="info",
            dedup_key=f"test:{channel_id}:{now.timestamp()}",
            created_at=now.isoformat(),
        ),
        Target(channel.kind, channel.target, channel.secret),
        hosts=policy.hosts,
        smtp=policy.smtp,
        timeout_s=policy.timeout_s,
    )
    return TestOut(ok=outcome.ok, answer=outcome.answer)


@router.get(
    "/notifications",
    response_model=Page[LogEntry],
    dependencies=[Depends(require(Permission.NOTIFICATIONS_READ))],
)
def notification_log(
    session: SessionDep, offset: OffsetQuery = 0, limit: LimitQuery = 100
) -> Page[LogEntry]:
    d, n, c = NotificationDelivery, Notification, NotificationChannel
    count = session.scalar(select(func.count()).select_from(d)) or 0
    rows = session.execute(
        select(d, n, c.kind, c.name, User.username)
        .join(n, n.id == d.notification_id)
        .join(c, c.id == d.channel_id)
        .join(User, User.id == d.user_id)
        .order_by(d.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return Page(
        data=[
            LogEntry(
                id=row[0].id,
                notification_id=row[1].id,
                kind=row[1].kind,
                severity=row[1].severity,
                title=row[1].title,
                created_at=row[1].created_at,
                username=row[4],
                channel_kind=row[2],
                channel_name=row[3],
                state=row[0].state,
                attempts=row[0].attempts,
                next_attempt_at=row[0].next_attempt_at,
                sent_at=row[0].sent_at,
                answer=row[0].answer,
            )
            for row in rows
        ],
        count=count,
    )


def _own_channel(session: SessionDep, principal: Principal, channel_id: int) -> NotificationChannel:
    channel = session.get(NotificationChannel, channel_id)
    if channel is None or channel.user_id != principal.user_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such channel of yours")
    return channel


def _settings(session: SessionDep, user_id: int) -> SettingsOut:
    prefs = session.get(NotificationPrefs, user_id) or NotificationPrefs(
        user_id=user_id, events=[], critical_in_quiet=True, digest=False
    )
    channels = session.scalars(
        select(NotificationChannel)
        .where(NotificationChannel.user_id == user_id)
        .order_by(NotificationChannel.id)
    )
    return SettingsOut(
        events=[e for e in _events(prefs.events) if e in SUBSCRIBABLE],
        quiet_from=prefs.quiet_from,
        quiet_to=prefs.quiet_to,
        critical_in_quiet=prefs.critical_in_quiet,
        digest=prefs.digest,
        digest_at=prefs.digest_at or PrefsIn().digest_at,
        channels=[_channel_out(c) for c in channels],
        available_events=list(SUBSCRIBABLE),
    )


def _events(stored: object) -> list[str]:
    return [e for e in stored if isinstance(e, str)] if isinstance(stored, list) else []


def mask(kind: str, target: str) -> str:
    """Enough to tell channels apart, never the token: the host and the last characters."""
    if kind == "email":
        name, _, domain = target.partition("@")
        return f"{name[:1]}***@{domain}"
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.hostname}/…{target[-4:]}" if len(target) > 24 else "…"


def _channel_out(channel: NotificationChannel) -> ChannelOut:
    return ChannelOut(
        id=channel.id,
        kind=channel.kind,
        name=channel.name,
        target_masked=mask(channel.kind, channel.target),
        has_secret=channel.secret is not None,
        enabled=channel.enabled,
        created_at=channel.created_at,
    )
