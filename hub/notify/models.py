"""The notification tables: each event once (``dedup_key`` unique), one delivery per channel of
each subscriber with its outcome, and each user's channels and preferences."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.audit.models import Audited
from hub.core.base import ID_LENGTH, Base, one_of

CHANNEL_KINDS = ("wecom", "dingtalk", "email", "webhook")
DELIVERY_STATES = ("pending", "digest", "digested", "sent", "failed")
SEVERITIES = ("info", "warning", "critical")
ANSWER_CHARS = 500
"""A receiver's answer is kept this long at most."""


class Notification(Base):
    """One event, once: several hub processes that see it insert the same ``dedup_key``."""

    __tablename__ = "notifications"
    __table_args__ = (CheckConstraint(one_of("severity", SEVERITIES), name="severity"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(8), default="warning")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    venue_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), doc="scope: a venue")
    centre_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), doc="scope: a centre")
    created_at: Mapped[datetime] = mapped_column(index=True)


class NotificationChannel(Audited, Base):
    """Where one user's messages go. ``target`` (a webhook URL carries its access token, or an
    e-mail address) and ``secret`` are write-only in the API and redacted in the audit log."""

    __tablename__ = "notification_channels"
    __audit_redact__ = ("target", "secret")
    __table_args__ = (CheckConstraint(one_of("kind", CHANNEL_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(80))
    target: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class NotificationPrefs(Audited, Base):
    """One user's subscriptions: which event kinds, quiet hours (city time), digest."""

    __tablename__ = "notification_prefs"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    quiet_from: Mapped[time | None] = mapped_column(Time)
    quiet_to: Mapped[time | None] = mapped_column(Time)
    critical_in_quiet: Mapped[bool] = mapped_column(Boolean, default=True)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_at: Mapped[time] = mapped_column(Time, default=time(8, 0))
    last_digest_on: Mapped[str | None] = mapped_column(String(10), doc="city date, ISO")


class NotificationDelivery(Base):
    """One notification to one channel: pending until sent or failed for good; ``digest``
    waits for the user's daily digest, which sends it as part of one message (``digested``)."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        CheckConstraint(one_of("state", DELIVERY_STATES), name="state"),
        UniqueConstraint("notification_id", "channel_id"),
        Index("ix_notification_deliveries_state_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(
        String(ANSWER_CHARS), doc="the receiver's last answer or the error, bounded"
    )
    digest_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), doc="the digest notification it went in"
    )
