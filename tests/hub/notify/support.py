"""Subscribers for the notification tests, made in the hub's database as the settings API would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hub.auth import Role
from hub.auth.models import User
from hub.auth.users import add_user
from hub.notify.events import SUBSCRIBABLE
from hub.notify.models import NotificationChannel, NotificationPrefs


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def subscriber(
    engine: Engine,
    role: Role,
    channels: list[tuple[str, str, str | None]],
    *,
    unit: int | None = None,
    centre: str | None = None,
    events: tuple[str, ...] = SUBSCRIBABLE,
    quiet: tuple[time, time] | None = None,
    digest_at: time | None = None,
) -> tuple[int, list[int]]:
    """A user with ``channels`` (kind, target, secret) and these preferences: its id and its
    channels' ids."""
    with Session(engine) as db:
        issued = add_user(
            db, f"n-{role.value}-{uuid.uuid4().hex[:6]}", role, unit_id=unit, centre_id=centre
        )
        user_id = db.scalars(select(User.id).where(User.username == issued.username)).one()
        db.add(
            NotificationPrefs(
                user_id=user_id,
                events=list(events),
                quiet_from=quiet[0] if quiet else None,
                quiet_to=quiet[1] if quiet else None,
                critical_in_quiet=True,
                digest=digest_at is not None,
                digest_at=digest_at or time(8, 0),
            )
        )
        rows = [
            NotificationChannel(
                user_id=user_id,
                kind=kind,
                name=kind,
                target=target,
                secret=secret,
                enabled=True,
                created_at=datetime.now(UTC),
            )
            for kind, target, secret in channels
        ]
        db.add_all(rows)
        db.commit()
        return user_id, [r.id for r in rows]
