"""Sending what is due: each pending delivery claimed (so two hub processes never send it
twice at once), sent with a timeout, and its outcome recorded: sent, or retried after an
exponential back-off, or failed for good after ``notify_max_attempts`` with the receiver's last
answer. The daily digests are made here too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, insert, select, update

from hub.notify.channels import Message, Outcome, Smtp, Target, send
from hub.notify.events import EventKind
from hub.notify.models import (
    Notification,
    NotificationChannel,
    NotificationDelivery,
    NotificationPrefs,
)
from hub.org.calendar import CITY_TZ

D = NotificationDelivery
BATCH = 50
DIGEST_WINDOW = timedelta(hours=6)
"""A digest is made from its time to this much later; missed, what it gathers waits a day."""


@dataclass(frozen=True, slots=True)
class Policy:
    max_attempts: int
    backoff: timedelta
    backoff_max: timedelta
    timeout_s: float
    hosts: frozenset[str]
    smtp: Smtp

    def retry_after(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failure: the back-off, doubled each time."""
        wait: timedelta = self.backoff * (2 ** min(attempts - 1, 30))
        return min(wait, self.backoff_max)


Observe = Callable[[str, Outcome, bool], None]
"""Told of each attempt: the channel's kind, the outcome, whether it was the last one."""


def dispatch_due(engine: Engine, policy: Policy, now: datetime, observe: Observe) -> int:
    """Send every delivery due at ``now``; how many were attempted."""
    with engine.connect() as conn:
        due = conn.execute(
            select(D.id, D.next_attempt_at)
            .where(D.state == "pending", D.next_attempt_at <= now)
            .order_by(D.next_attempt_at)
            .limit(BATCH)
        ).all()
    attempted = 0
    lease = now + timedelta(seconds=2 * policy.timeout_s + 5)
    for row in due:
        with engine.begin() as conn:
            claimed = conn.execute(
                update(D)
                .where(
                    D.id == row.id, D.state == "pending", D.next_attempt_at == row.next_attempt_at
                )
                .values(next_attempt_at=lease)
            ).rowcount
            if claimed != 1:
                continue  # another hub process has it
            job = conn.execute(
                select(
                    D.attempts,
                    Notification.title,
                    Notification.body,
                    Notification.kind,
                    Notification.severity,
                    Notification.dedup_key,
                    Notification.created_at,
                    NotificationChannel.kind.label("channel_kind"),
                    NotificationChannel.target,
                    NotificationChannel.secret,
                )
                .join(Notification, Notification.id == D.notification_id)
                .join(NotificationChannel, NotificationChannel.id == D.channel_id)
                .where(D.id == row.id)
            ).one()
        message = Message(
            job.title, job.body, job.kind, job.severity, job.dedup_key, job.created_at.isoformat()
        )
        outcome = send(
            message,
            Target(job.channel_kind, job.target, job.secret),
            hosts=policy.hosts,
            smtp=policy.smtp,
            timeout_s=policy.timeout_s,
        )
        attempts = job.attempts + 1
        last = not outcome.ok and attempts >= policy.max_attempts
        values: dict[str, object] = {"attempts": attempts, "answer": outcome.answer}
        if outcome.ok:
            values |= {"state": "sent", "sent_at": now}
        elif last:
            values |= {"state": "failed"}
        else:
            values |= {"next_attempt_at": now + policy.retry_after(attempts)}
        with engine.begin() as conn:
            conn.execute(update(D).where(D.id == row.id).values(**values))
        observe(job.channel_kind, outcome, last)
        attempted += 1
    return attempted


def make_digests(engine: Engine, now: datetime) -> int:
    """Each digest user whose digest time has come today (city time, within ``DIGEST_WINDOW``)
    gets one message per channel gathering what waited for it; how many digests were made."""
    local = now.astimezone(CITY_TZ)
    today = local.date().isoformat()
    p = NotificationPrefs
    made = 0
    with engine.connect() as conn:
        users = conn.execute(
            select(p.user_id, p.digest_at).where(
                p.digest.is_(True), (p.last_digest_on.is_(None)) | (p.last_digest_on != today)
            )
        ).all()
    for user in users:
        due = local.replace(
            hour=user.digest_at.hour, minute=user.digest_at.minute, second=0, microsecond=0
        )
        if not due <= local < due + DIGEST_WINDOW:
            continue  # before its time, or long past it (a hub that was down): tomorrow's
        with engine.begin() as conn:
            took = conn.execute(
                update(p)
                .where(
                    p.user_id == user.user_id,
                    (p.last_digest_on.is_(None)) | (p.last_digest_on != today),
                )
                .values(last_digest_on=today)
            ).rowcount
            if took != 1:
                continue
            waiting = conn.execute(
                select(D.id, D.channel_id, Notification.title, Notification.created_at)
                .join(Notification, Notification.id == D.notification_id)
                .where(D.user_id == user.user_id, D.state == "digest")
                .order_by(Notification.created_at)
            ).all()
            if not waiting:
                continue
            first: dict[str, datetime] = {}
            for w in waiting:
                first.setdefault(w.title, w.created_at)
            lines = [f"- {at.astimezone(CITY_TZ):%m-%d %H:%M} {t}" for t, at in first.items()]
            digest_id = conn.execute(
                insert(Notification)
                .values(
                    dedup_key=f"{EventKind.DIGEST}:{user.user_id}:{today}",
                    kind=EventKind.DIGEST.value,
                    severity="info",
                    title=f"【每日汇总】{today} 共 {len(first)} 条通知",
                    body="\n".join(lines[:200]),
                    created_at=now,
                )
                .returning(Notification.id)
            ).scalar_one()
            for channel in sorted({w.channel_id for w in waiting}):
                conn.execute(
                    insert(D).values(
                        notification_id=digest_id,
                        channel_id=channel,
                        user_id=user.user_id,
                        state="pending",
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
            conn.execute(
                update(D)
                .where(D.id.in_([w.id for w in waiting]))
                .values(state="digested", digest_id=digest_id)
            )
            made += 1
    return made


def queue_state(engine: Engine, now: datetime) -> tuple[int, float]:
    """Pending deliveries and the age of the oldest, in seconds."""
    with engine.connect() as conn:
        pending = D.state == "pending"
        count = conn.scalar(select(func.count()).select_from(D).where(pending)) or 0
        oldest = conn.scalar(select(D.created_at).where(pending).order_by(D.created_at).limit(1))
    if oldest is None:
        return int(count), 0.0
    return int(count), max((now - oldest).total_seconds(), 0.0)
