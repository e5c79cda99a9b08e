"""Retention of dashboard logins: a session or a one-click login code is worthless once it has
expired, but says who logged in when; it goes ``days`` after it expired (0: at once)."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from sqlalchemy import Table

from hub.auth.models import LoginCode, UserSession
from hub.core.retention import Kind, older_than


def login_kinds(days: int) -> list[Kind]:
    kinds = []
    for name, model in (("sessions", UserSession), ("login_codes", LoginCode)):
        table = cast(Table, model.__table__)
        kinds.append(
            Kind(
                name=name,
                table=table,
                time=table.c.expires_at,
                cutoff=older_than(timedelta(days=days)),
                setting="HUB_RETAIN_SESSIONS_DAYS",
            )
        )
    return kinds
