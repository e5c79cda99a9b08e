"""Users for the tests: a token of a given role, made directly in the hub's database (migrated
first), as ``community user add`` would make it."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from hub.auth import Role
from hub.auth.users import add_user
from hub.core.db import make_engine, upgrade


def user_token(
    database_url: str,
    role: Role | str = Role.OPERATOR,
    *,
    centre: str | None = None,
    unit: int | None = None,
    username: str | None = None,
) -> str:
    """A new user's token (the database is migrated first, as the hub would)."""
    upgrade(database_url)
    role = Role(role)
    engine = make_engine(database_url)
    try:
        with Session(engine) as db:
            issued = add_user(
                db,
                username or f"test-{role.value.replace('_', '-')}-{uuid.uuid4().hex[:8]}",
                role,
                centre_id=centre,
                unit_id=unit,
            )
    finally:
        engine.dispose()
    return issued.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
