"""Retention of the notifications sent: each says what happened where and to whom it went (the
receiver's answer included); kept ``days`` for the operators' log, then deleted with its
deliveries (their foreign key cascades). ``days`` is at least a week, far past the notifier's
look-back, so a purged notification is never one the notifier would raise again."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from sqlalchemy import Table

from hub.core.retention import Kind, older_than
from hub.notify.models import Notification


def notification_kind(days: int) -> Kind:
    table = cast(Table, Notification.__table__)

    return Kind(
        name="notifications",
        table=table,
        time=table.c.created_at,
        cutoff=older_than(timedelta(days=days)),
        setting="HUB_RETAIN_NOTIFICATIONS_DAYS",
    )
